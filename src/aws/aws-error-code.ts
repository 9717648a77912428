/**
 * The error code of an AWS SDK service error (`NoSuchKey`, `NoSuchEntity`, `AccessDenied`, ...), or
 * undefined when the error did not come from an AWS service (a network failure, a bug).
 * SDK v3 marks service errors with `$metadata`. Its class names do not always equal the wire code
 * (IAM's `NoSuchEntity` arrives as `NoSuchEntityException`), so the wire `Code` wins when present;
 * matching on codes also avoids importing every exception class into the Lambda bundle.
 */
export function awsErrorCode(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const { $metadata, Code } = error as { $metadata?: unknown; Code?: unknown };
  if (typeof $metadata !== "object" || $metadata === null) return undefined;
  return typeof Code === "string" && Code !== "" ? Code : error.name;
}
