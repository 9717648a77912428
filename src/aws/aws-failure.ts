import { redactSecrets } from "../domain/secret-value.ts";
import { AkmError } from "../errors.ts";
import { awsErrorCode } from "./aws-error-code.ts";

/** The AWS call that failed, for messages: `s3:GetObject` on `s3://bucket/key`. */
export interface AwsCall {
  /** IAM action name, as a policy would grant it (`secretsmanager:GetSecretValue`). */
  readonly action: string;
  /** The resource acted on, as a user would recognise it (a bucket URL, a secret ID, a user name). */
  readonly resource: string;
}

const DENIED = new Set([
  "AccessDenied",
  "AccessDeniedException",
  "AuthorizationError",
  "UnauthorizedOperation",
  "UnauthorizedAccess",
]);

const THROTTLED = new Set([
  "Throttling",
  "ThrottlingException",
  "ThrottledException",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "RequestThrottledException",
  "SlowDown",
]);

const NETWORK = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EAI_AGAIN", "ENOTFOUND", "EPIPE"]);

/** True when AWS refused the call for lack of permission. */
export function isAccessDenied(error: unknown): boolean {
  const code = awsErrorCode(error);
  return code !== undefined && DENIED.has(code);
}

/**
 * Turns an error an adapter did not expect into one AkmError naming the AWS action and resource.
 * Adapters handle the errors they understand first (NoSuchKey, NoSuchEntity, ...) and pass the rest here,
 * so every AWS failure reaches the runbook summary with what, where and a fix, and is wrapped only once.
 * The SDK's own message is kept (it often names the denying policy) but scrubbed of known secrets.
 */
export function awsFailure(error: unknown, call: AwsCall): AkmError {
  if (error instanceof AkmError) return error;
  const where = `${call.action} on ${call.resource}`;
  const detail = error instanceof Error ? redactSecrets(error.message) : String(error);
  const code = awsErrorCode(error);

  if (code === undefined) {
    const errno = (error as { code?: unknown } | undefined)?.code;
    const name = error instanceof Error ? error.name : typeof error;
    if ((typeof errno === "string" && NETWORK.has(errno)) || name === "TimeoutError") {
      return new AkmError(`${where} could not reach AWS (${name}: ${detail}).`, {
        fix: "Re-run the runbook; the network or the AWS endpoint was temporarily unavailable.",
        fault: "transient",
        cause: error,
      });
    }
    return new AkmError(`${where} failed unexpectedly (${name}: ${detail}).`, {
      fix: "Re-run the runbook; if it fails again, open an issue with the execution ID and the Lambda log.",
      fault: "tool",
      cause: error,
    });
  }

  if (DENIED.has(code)) {
    return new AkmError(`${where} was denied (${code}: ${detail}).`, {
      fix: `Check that the Lambda function's execution role (created by the stack) allows ${call.action} on ${call.resource}, and that no permissions boundary, service control policy, resource policy or KMS key policy denies it; if the role's policy was edited, update the stack to restore it.`,
      fault: "user",
      cause: error,
    });
  }

  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const retryable = (error as { $retryable?: unknown }).$retryable !== undefined;
  if (THROTTLED.has(code) || retryable || (status !== undefined && status >= 500)) {
    return new AkmError(`${where} failed temporarily (${code}: ${detail}).`, {
      fix: "Re-run the runbook; AWS reported a temporary problem or throttled the request.",
      fault: "transient",
      cause: error,
    });
  }

  return new AkmError(`${where} failed (${code}: ${detail}).`, {
    fix: "Re-run the runbook; if it fails again, open an issue with the execution ID and the Lambda log.",
    fault: "tool",
    cause: error,
  });
}
