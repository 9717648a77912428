import type { AccessKeyPair } from "../domain/access-key.ts";
import { type Backoff, BackoffExhausted, IAM_PROPAGATION_BACKOFF, withBackoff } from "../domain/backoff.ts";
import { AkmError, KeyNotAcceptedError, VerificationError } from "../errors.ts";
import type { Clock, IdentityProbe } from "../ports.ts";

/** How long to wait for a new key to work: about a minute (see IAM_PROPAGATION_BACKOFF). */
export const VERIFY_DEFAULTS: VerifyOptions = IAM_PROPAGATION_BACKOFF;

export type VerifyOptions = Backoff;

/**
 * Refusals that IAM's eventual consistency explains (STS does not know the key yet: InvalidClientTokenId,
 * SignatureDoesNotMatch) and passing outages are worth another attempt; anything else (a tool fault, a denied
 * call) would fail the same way again.
 */
function isRetryable(error: unknown): boolean {
  if (error instanceof KeyNotAcceptedError) return true;
  return error instanceof AkmError && error.fault === "transient" && !(error instanceof VerificationError);
}

/**
 * Proves the new key authenticates as the managed user (STS GetCallerIdentity), retrying with exponential
 * back-off (timed by `clock`) while IAM propagates it: up to `options.attempts` calls, about a minute by default.
 * Throws VerificationError when the key is still refused after the last attempt or authenticates as someone
 * else (never retried), and any other non-transient error unchanged.
 */
export async function verifyKey(
  probe: IdentityProbe,
  key: AccessKeyPair,
  expectedArn: string,
  clock: Clock,
  options: VerifyOptions = VERIFY_DEFAULTS,
): Promise<void> {
  let arn: string;
  try {
    arn = await withBackoff(clock, options, () => probe.callerArn(key), isRetryable);
  } catch (error) {
    if (!(error instanceof BackoffExhausted)) throw error;
    const last = error.lastError;
    const answer =
      last instanceof KeyNotAcceptedError
        ? `STS answered ${last.code}`
        : last instanceof Error
          ? last.message
          : "no answer";
    throw new VerificationError(
      `The new key ${key.accessKeyId} was not accepted by STS after ${error.attempts} attempts over ${Math.round(error.elapsedMs / 1000)} s (last: ${answer}); IAM had not propagated it yet.`,
      "Run Rotate again: it resumes with the same key and verifies it again. The old key stays active meanwhile. If it keeps failing, check in the IAM console that the key exists and is Active.",
      last,
    );
  }
  if (arn !== expectedArn) {
    throw new VerificationError(
      `The new key ${key.accessKeyId} authenticates as ${arn}, not as ${expectedArn}.`,
      "Check the pIamUserArn and pIamUserName stack parameters: they must name the same IAM user.",
    );
  }
}
