/** The fields of an AWS SDK v3 error that help a user; all optional because anything can be thrown. */
interface AwsErrorShape {
  readonly name?: unknown;
  readonly message?: unknown;
  readonly code?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: unknown; readonly requestId?: unknown };
}

const CREDENTIALS_HINT =
  "No usable AWS credentials were found. Set AWS_PROFILE (and run `aws sso login` for SSO profiles), " +
  "or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.";

/** The error's name as thrown by the SDK ("NoSuchBucket", "ValidationError"), or undefined. */
export function awsErrorName(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const name = (error as AwsErrorShape).name;
  return typeof name === "string" ? name : undefined;
}

/**
 * One line for an SDK error: name, message, HTTP status and request ID (what AWS support asks for).
 * Credential and network failures get a hint, since they are the usual first-run problems.
 */
export function describeAwsError(error: unknown): string {
  if (typeof error !== "object" || error === null) return String(error);
  const shape = error as AwsErrorShape;
  const name = typeof shape.name === "string" ? shape.name : "Error";
  const message = typeof shape.message === "string" ? shape.message : "";
  const details: string[] = [];
  const status = shape.$metadata?.httpStatusCode;
  if (typeof status === "number") details.push(`HTTP ${status}`);
  const requestId = shape.$metadata?.requestId;
  if (typeof requestId === "string" && requestId !== "") details.push(`request ID ${requestId}`);
  if (typeof shape.code === "string" && details.length === 0) details.push(shape.code);
  const line = `${name}: ${message}${details.length > 0 ? ` (${details.join(", ")})` : ""}`;
  return name === "CredentialsProviderError" ? `${line}\n${CREDENTIALS_HINT}` : line;
}
