import { GetSecretValueCommand, type SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { type GitHubCredential, parseGitHubCredential } from "../config/github-credential.ts";
import { AkmError } from "../errors.ts";
import type { TokenSource } from "../ports.ts";
import { awsErrorCode } from "./aws-error-code.ts";
import { awsFailure } from "./aws-failure.ts";

/**
 * TokenSource reading the GitHub credential, stored as the plaintext SecretString of a Secrets Manager secret: a
 * personal access token, or a GitHub App's private key (src/config/github-credential.ts).
 */
export class SecretsManagerTokenSource implements TokenSource {
  readonly #secrets: SecretsManagerClient;
  readonly #secretId: string;
  readonly #stackAppId: string | undefined;

  /** `stackAppId`: the stack's pGitHubAppId (undefined when empty). */
  constructor(secrets: SecretsManagerClient, secretId: string, stackAppId?: string) {
    this.#secrets = secrets;
    this.#secretId = secretId;
    this.#stackAppId = stackAppId;
  }

  async credential(): Promise<GitHubCredential> {
    const secretId = this.#secretId;
    let text: string;
    try {
      const response = await this.#secrets.send(new GetSecretValueCommand({ SecretId: secretId }));
      // Pasting into the console often adds a trailing newline or spaces; neither a token nor a key ends with them.
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
    // The console's default "Key/value" mode stores JSON: a GitHub App credential, or a mistake it names.
    return parseGitHubCredential(text, { secretId, stackAppId: this.#stackAppId });
  }
}
