import type { SecretValue } from "./secret-value.ts";

export type AccessKeyStatus = "Active" | "Inactive";

/** An access key as IAM lists it (no secret). */
export interface AccessKeyInfo {
  readonly accessKeyId: string;
  readonly status: AccessKeyStatus;
  readonly createdAt: Date;
}

/** A key pair just returned by CreateAccessKey, or read back from the state store. */
export interface AccessKeyPair {
  readonly accessKeyId: string;
  readonly secretAccessKey: SecretValue;
}

export interface NewAccessKey extends AccessKeyPair {
  readonly createdAt: Date;
}
