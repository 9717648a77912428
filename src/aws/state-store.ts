import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { type AkmError, StateStoreError } from "../errors.ts";
import { type Clock, type KeyMaterialStore, systemClock } from "../ports.ts";
import { awsErrorCode } from "./aws-error-code.ts";
import { awsFailure, isAccessDenied } from "./aws-failure.ts";

/** Secrets Manager keeps every version younger than this (its versions quota counts them). */
const VERSIONS_KEPT_MS = 24 * 60 * 60_000;

/**
 * The state secret: the part of the rotation state that holds key material (src/lifecycle/state-parts.ts),
 * encrypted with the stack's KMS key. Written a few times per rotation only — every PutSecretValue creates a
 * version that Secrets Manager keeps for at least 24 hours, and their number is limited
 * (https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_limits.html).
 */
export class SecretsManagerKeyStore implements KeyMaterialStore {
  readonly id: string;
  readonly location: string;
  readonly #secrets: SecretsManagerClient;
  readonly #clock: Clock;

  /** `secretId`: the secret's ARN (the template passes it), so a progress object names exactly this secret. */
  constructor(secrets: SecretsManagerClient, secretId: string, clock: Clock = systemClock) {
    this.#secrets = secrets;
    this.id = secretId;
    this.location = `Secrets Manager secret ${secretId}`;
    this.#clock = clock;
  }

  async read(): Promise<string | undefined> {
    try {
      const response = await this.#secrets.send(new GetSecretValueCommand({ SecretId: this.id }));
      return response.SecretString;
    } catch (error) {
      // Also what Secrets Manager answers for a secret that exists but has no value yet.
      if (awsErrorCode(error) === "ResourceNotFoundException") return undefined;
      throw this.#failure(error, "secretsmanager:GetSecretValue", "kms:Decrypt");
    }
  }

  async write(text: string): Promise<void> {
    try {
      await this.#secrets.send(new PutSecretValueCommand({ SecretId: this.id, SecretString: text }));
    } catch (error) {
      if (awsErrorCode(error) === "ResourceNotFoundException") {
        throw new StateStoreError(
          `The rotation state secret ${this.id} does not exist, so the run cannot record what it did.`,
          "Update the stack from the published template; it creates the secret. Do not delete the secret by hand while keys are managed.",
          error,
        );
      }
      if (isVersionsQuota(error)) throw this.#versionsQuota(error);
      throw this.#failure(error, "secretsmanager:PutSecretValue", "kms:GenerateDataKey");
    }
  }

  /**
   * Every version younger than 24 hours counts against the secret's versions quota, so the quota clears 24 hours
   * after the oldest of them was written — 24 hours from now at the latest.
   */
  #versionsQuota(error: unknown): AkmError {
    const clearsBy = `${new Date(this.#clock.now().getTime() + VERSIONS_KEPT_MS).toISOString().slice(0, 19)}Z`;
    return new StateStoreError(
      `Secrets Manager refused a new version of the rotation state secret ${this.id} (${awsErrorCode(error)}): the secret reached its quota of versions. Secrets Manager keeps every version younger than 24 hours, so the quota clears 24 hours after the oldest of the versions written in the last 24 hours, by ${clearsBy} at the latest. This tool writes the secret only when a key is adopted, created or promoted (a few versions per rotation), so something else writes it, or rotations were started very often.`,
      `Run Rotate again after ${clearsBy} (the keys and the progress are saved; it resumes). \`aws secretsmanager list-secret-version-ids --secret-id ${this.id} --include-deprecated\` shows when each version was written; stop whatever else writes the secret.`,
      error,
      "transient",
    );
  }

  #failure(error: unknown, action: string, kmsAction: string): AkmError {
    const secret = this.location;
    const code = awsErrorCode(error);
    if (code === "DecryptionFailure" || code === "EncryptionFailure" || code?.startsWith("KMS")) {
      return new StateStoreError(
        `${action} on ${secret} failed because its KMS key could not be used (${code}).`,
        `Check that the stack's KMS key is enabled (not disabled or pending deletion) and that its key policy allows the Lambda function's execution role ${kmsAction}.`,
        error,
      );
    }
    if (isAccessDenied(error)) {
      return new StateStoreError(
        `${action} on ${secret} was denied (${code}).`,
        `Check that the Lambda function's execution role (created by the stack) allows ${action} on the secret and ${kmsAction} on the stack's KMS key, and that no resource policy, permissions boundary or service control policy denies it.`,
        error,
      );
    }
    if (code === "InvalidRequestException") {
      return new StateStoreError(
        `${action} on ${secret} was refused (${code}); the secret may be scheduled for deletion.`,
        "Restore the secret in the Secrets Manager console (Cancel deletion), then re-run the runbook.",
        error,
      );
    }
    return awsFailure(error, { action, resource: secret });
  }
}

/**
 * `LimitExceededException` is Secrets Manager's answer to a request over one of its quotas
 * (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutSecretValue.html#API_PutSecretValue_Errors);
 * for PutSecretValue that is the versions quota. Some answers name the quota in the text only.
 */
function isVersionsQuota(error: unknown): boolean {
  if (awsErrorCode(error) === "LimitExceededException") return true;
  const message = error instanceof Error ? error.message : "";
  return /versions?\b/i.test(message) && /\b(quota|limit)/i.test(message);
}
