import type { SecretNames, Target } from "../domain/target.ts";

/**
 * What a rotation writes at one target: the two names — the target's own (`SecretNameKeyId`/`SecretNameSecretKey`
 * in the list) or else the stack's (pGitHubSecretNameAwsKeyId / pGitHubSecretNameAwsKey) — and whether the key ID
 * goes in an Actions variable instead of a secret (`KeyIdAs: "variable"`). The secret key is always a secret.
 */
export interface TargetWrites {
  readonly names: SecretNames;
  readonly keyIdAsVariable: boolean;
}

/** The stack's two secret names (settings). */
export interface DefaultSecretNames {
  readonly secretNameKeyId: string;
  readonly secretNameSecretKey: string;
}

/** The names and the key ID's kind at `target` (see TargetWrites). */
export function targetWrites(target: Target, defaults: DefaultSecretNames): TargetWrites {
  return {
    names: target.secretNames ?? { keyId: defaults.secretNameKeyId, secretKey: defaults.secretNameSecretKey },
    keyIdAsVariable: target.keyIdAs === "variable",
  };
}

/** How messages name where the key ID goes: `AWS_ACCESS_KEY_ID`, or `variable AWS_ACCESS_KEY_ID`. */
export function keyIdLabel(writes: TargetWrites): string {
  return writes.keyIdAsVariable ? `variable ${writes.names.keyId}` : writes.names.keyId;
}
