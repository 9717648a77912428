import { AkmError } from "../errors.ts";
import { keyIdLabel, type TargetWrites } from "./target-writes.ts";

/** A target left with the new secret key and the old key ID: its CI cannot authenticate until Rotate runs again. */
export class MismatchedPairError extends AkmError {
  /**
   * `label`: the target as messages name it; `writes`: its two names (the key ID's as a secret or a variable);
   * `attempts`: how many times writing the key ID failed; `cause`: the last failure.
   */
  constructor(label: string, writes: TargetWrites, accessKeyId: string, attempts: number, cause: AkmError) {
    super(
      `${label} holds a mismatched pair: its ${writes.names.secretKey} is the new key's, but writing ${keyIdLabel(writes)} (${accessKeyId}) failed${attempts === 1 ? "" : ` ${attempts === 2 ? "twice" : `${attempts} times`}`} (${cause.message}), so workflows that use both cannot authenticate until it is written.`,
      {
        fix: `${cause.fix} Then run Rotate again at once: it writes the secret key and the key ID of ${label} again.`,
        fault: cause.fault,
        cause,
      },
    );
    this.name = "MismatchedPairError";
  }
}
