/** The fields of an AWS SDK v3 error that help a user; all optional because anything can be thrown. */
interface AwsErrorShape {
  readonly name?: unknown;
  readonly message?: unknown;
  readonly code?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: unknown; readonly requestId?: unknown };
}

/** How to fix "no credentials", for the way the user chose a profile (or did not). */
function credentialsHint(env: NodeJS.ProcessEnv): string {
  const profile = env.AWS_PROFILE ?? env.AWS_DEFAULT_PROFILE;
  if (profile !== undefined && profile !== "") {
    const variable = env.AWS_PROFILE !== undefined ? "AWS_PROFILE" : "AWS_DEFAULT_PROFILE";
    return (
      `No usable AWS credentials for profile '${profile}' (from ${variable}): check that the profile exists ` +
      "in ~/.aws/config or ~/.aws/credentials (`aws configure list-profiles` lists them) and, for an SSO " +
      `profile, run \`aws sso login --profile ${profile}\`.`
    );
  }
  return (
    "No usable AWS credentials were found. Name a profile with AWS_PROFILE (and run `aws sso login` for SSO " +
    "profiles), or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY."
  );
}

/** How to fix a network failure that happened before AWS answered anything. */
function networkHint(code: string, message: string): string | undefined {
  if (code === "ENOTFOUND") {
    const host = /ENOTFOUND (\S+)/.exec(message)?.[1] ?? "the AWS endpoint";
    return (
      `${host} does not resolve: check --region (a region code that exists and is enabled for your account, ` +
      "e.g. eu-west-1; `aws account list-regions` lists them), then your network, proxy or AWS_ENDPOINT_URL."
    );
  }
  if (["EAI_AGAIN", "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "ENETUNREACH"].includes(code)) {
    return `The network failed before AWS answered (${code}): check your connection, proxy or AWS_ENDPOINT_URL, then retry.`;
  }
  return undefined;
}

/** The error's name as thrown by the SDK ("NoSuchBucket", "ValidationError"), or undefined. */
export function awsErrorName(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const name = (error as AwsErrorShape).name;
  return typeof name === "string" ? name : undefined;
}

/**
 * One line for an SDK error: name, message, HTTP status and request ID (what AWS support asks for).
 * Credential and network failures get a hint, since they are the usual first-run problems.
 * @param env where the SDK read its settings (AWS_PROFILE), for the credentials hint
 */
export function describeAwsError(error: unknown, env: NodeJS.ProcessEnv = process.env): string {
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
  if (name === "CredentialsProviderError") return `${line}\n${credentialsHint(env)}`;
  const network = typeof shape.code === "string" ? networkHint(shape.code, message) : undefined;
  return network === undefined ? line : `${line}\n${network}`;
}
