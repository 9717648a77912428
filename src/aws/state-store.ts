import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { type AkmError, StateStoreError } from "../errors.ts";
import { parseState, type RotationState, serializeState } from "../lifecycle/state.ts";
import type { StateStore } from "../ports.ts";
import { awsErrorCode } from "./aws-error-code.ts";
import { awsFailure, isAccessDenied } from "./aws-failure.ts";

// The template creates the secret with `{}`: a valid secret that holds no state yet.
const NO_STATE = /^\{\s*\}$/;

/** StateStore over one Secrets Manager secret, encrypted with the stack's KMS key. */
export class SecretsManagerStateStore implements StateStore {
  readonly #secrets: SecretsManagerClient;
  readonly #secretId: string;

  constructor(secrets: SecretsManagerClient, secretId: string) {
    this.#secrets = secrets;
    this.#secretId = secretId;
  }

  async load(): Promise<RotationState | undefined> {
    let text: string | undefined;
    try {
      const response = await this.#secrets.send(new GetSecretValueCommand({ SecretId: this.#secretId }));
      text = response.SecretString?.trim();
    } catch (error) {
      // Also what Secrets Manager answers for a secret that exists but has no value yet.
      if (awsErrorCode(error) === "ResourceNotFoundException") return undefined;
      throw this.#failure(error, "secretsmanager:GetSecretValue", "kms:Decrypt");
    }
    if (!text || NO_STATE.test(text)) return undefined;
    return parseState(text, `Secrets Manager secret ${this.#secretId}`);
  }

  async save(state: RotationState): Promise<void> {
    try {
      await this.#secrets.send(
        new PutSecretValueCommand({ SecretId: this.#secretId, SecretString: serializeState(state) }),
      );
    } catch (error) {
      if (awsErrorCode(error) === "ResourceNotFoundException") {
        throw new StateStoreError(
          `The rotation state secret ${this.#secretId} does not exist, so the run cannot record what it did.`,
          "Update the stack from the published template; it creates the secret. Do not delete the secret by hand while keys are managed.",
          error,
        );
      }
      throw this.#failure(error, "secretsmanager:PutSecretValue", "kms:GenerateDataKey");
    }
  }

  #failure(error: unknown, action: string, kmsAction: string): AkmError {
    const secret = `Secrets Manager secret ${this.#secretId}`;
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
