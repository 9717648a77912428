import { VerificationError } from "../errors.ts";

/**
 * STS refused a key (InvalidClientTokenId, SignatureDoesNotMatch). A key IAM just created is refused
 * like this for a few seconds while it propagates, so the lifecycle retries on this error with its
 * injected clock; a key that stays refused becomes the run's VerificationError.
 */
export class KeyNotAcceptedError extends VerificationError {
  readonly accessKeyId: string;
  /** The AWS error code STS answered with. */
  readonly code: string;

  constructor(accessKeyId: string, code: string, cause?: unknown) {
    super(
      `AWS STS did not accept access key ${accessKeyId} (${code}).`,
      "A new key can take up to a minute to work everywhere: re-run the runbook. If it keeps failing, check in the IAM console that the key exists and is Active.",
      cause,
    );
    this.name = "KeyNotAcceptedError";
    this.accessKeyId = accessKeyId;
    this.code = code;
  }
}
