import type { AccessKeyPair } from "../domain/access-key.ts";
import { VerificationError } from "../errors.ts";
import type { Clock, IdentityProbe } from "../ports.ts";

/** How long to wait for a new key to work: IAM is eventually consistent and documents no bound. */
export const VERIFY_DEFAULTS = {
  attempts: 8,
  firstDelayMs: 1000,
  maxDelayMs: 15_000,
} as const satisfies VerifyOptions;

export interface VerifyOptions {
  readonly attempts: number;
  readonly firstDelayMs: number;
  readonly maxDelayMs: number;
}

/**
 * Proves the new key authenticates as the managed user (STS GetCallerIdentity), retrying with
 * exponential back-off while IAM propagates it. A key that authenticates as someone else is never retried.
 */
export async function verifyKey(
  probe: IdentityProbe,
  key: AccessKeyPair,
  expectedArn: string,
  clock: Clock,
  options: VerifyOptions = VERIFY_DEFAULTS,
): Promise<void> {
  let delay = options.firstDelayMs;
  let lastError: unknown;
  for (let attempt = 1; attempt <= options.attempts; attempt++) {
    try {
      const arn = await probe.callerArn(key);
      if (arn !== expectedArn) {
        throw new VerificationError(
          `The new key ${key.accessKeyId} authenticates as ${arn}, not as ${expectedArn}.`,
          "Check the pIamUserArn and pIamUserName stack parameters: they must name the same IAM user.",
        );
      }
      return;
    } catch (error) {
      if (error instanceof VerificationError) throw error;
      lastError = error;
    }
    if (attempt < options.attempts) {
      await clock.sleep(delay);
      delay = Math.min(delay * 2, options.maxDelayMs);
    }
  }
  throw new VerificationError(
    `The new key ${key.accessKeyId} was not accepted by STS after ${options.attempts} attempts (IAM propagation).`,
    "Run Rotate again: it resumes with the same key and verifies it again. The old key stays active meanwhile.",
    lastError,
  );
}
