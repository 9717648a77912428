import { GetSecretValueCommand, type SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SecretValue } from "../domain/secret-value.ts";
import { AkmError } from "../errors.ts";
import type { TokenSource } from "../ports.ts";
import { awsErrorCode } from "./aws-error-code.ts";
import { awsFailure } from "./aws-failure.ts";

/** TokenSource reading the GitHub token, stored as the plaintext SecretString of a Secrets Manager secret. */
export class SecretsManagerTokenSource implements TokenSource {
  readonly #secrets: SecretsManagerClient;
  readonly #secretId: string;

  constructor(secrets: SecretsManagerClient, secretId: string) {
    this.#secrets = secrets;
    this.#secretId = secretId;
  }

  async token(): Promise<SecretValue> {
    const secretId = this.#secretId;
    let text: string;
    try {
      const response = await this.#secrets.send(new GetSecretValueCommand({ SecretId: secretId }));
      // Pasting into the console often adds a trailing newline or spaces; a token never contains whitespace.
      text = response.SecretString?.trim() ?? "";
    } catch (error) {
      if (awsErrorCode(error) === "ResourceNotFoundException") {
        throw new AkmError(`The GitHub token secret ${secretId} does not exist or has no value.`, {
          fix: `Store the GitHub token as the plaintext value of secret ${secretId} (Secrets Manager console → Retrieve secret value → Edit).`,
          fault: "user",
          cause: error,
        });
      }
      throw awsFailure(error, { action: "secretsmanager:GetSecretValue", resource: `secret ${secretId}` });
    }
    if (text === "") {
      throw new AkmError(`The GitHub token secret ${secretId} is empty.`, {
        fix: `Put the GitHub token in secret ${secretId} as its plaintext value (Secrets Manager console → Retrieve secret value → Edit).`,
        fault: "user",
      });
    }
    // The console's default "Key/value" mode stores JSON; say so rather than send JSON to GitHub as a token.
    if (text.startsWith("{") || /\s/.test(text)) {
      throw new AkmError(
        `The GitHub token secret ${secretId} does not hold a bare token (it holds JSON or spaces).`,
        {
          fix: `Store only the token in secret ${secretId}, using the console's Plaintext tab rather than Key/value pairs.`,
          fault: "user",
        },
      );
    }
    return new SecretValue(text);
  }
}
