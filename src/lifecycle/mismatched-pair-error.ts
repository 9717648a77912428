import { AkmError } from "../errors.ts";

/** A repository left with the new secret key and the old key ID: its CI cannot authenticate until Rotate runs again. */
export class MismatchedPairError extends AkmError {
  constructor(
    repo: string,
    settings: { readonly secretNameKeyId: string; readonly secretNameSecretKey: string },
    accessKeyId: string,
    attempts: number,
    cause: AkmError,
  ) {
    super(
      `${repo} holds a mismatched pair: its ${settings.secretNameSecretKey} is the new key's, but writing ${settings.secretNameKeyId} (${accessKeyId}) failed${attempts === 1 ? "" : ` ${attempts === 2 ? "twice" : `${attempts} times`}`} (${cause.message}), so workflows that use both cannot authenticate until it is written.`,
      {
        fix: `${cause.fix} Then run Rotate again at once: it writes both secrets of ${repo} again.`,
        fault: cause.fault,
        cause,
      },
    );
    this.name = "MismatchedPairError";
  }
}
