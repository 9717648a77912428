import { type RepoRef, repoLabel, repoSlug } from "../domain/repo.ts";
import type { SecretValue } from "../domain/secret-value.ts";
import { AkmError, GitHubAccessError } from "../errors.ts";
import type { RepoPublicKey, SecretsTarget } from "../ports.ts";
import type { GitHubClient } from "./client.ts";
import { decodePublicKey, sealSecret } from "./seal.ts";
import {
  API_URL_FIX,
  type GitHubCall,
  hasStatus,
  isHttpFailure,
  toGitHubAccessError,
} from "./to-github-access-error.ts";

export interface GitHubSecretsTargetOptions {
  /** One client per run (see `createGitHubClient`). */
  readonly client: GitHubClient;
  /** Display name of the Secrets Manager secret holding the token, named in fixes. */
  readonly tokenSecretName: string;
}

/**
 * GitHub Actions repository secrets through the REST API.
 * https://docs.github.com/en/rest/actions/secrets
 * Each repository's public key is fetched once per target (one target per run) and reused for all
 * its secrets; a write refused because GitHub rotated the key fetches the new key and retries once.
 */
export class GitHubSecretsTarget implements SecretsTarget {
  readonly #client: GitHubClient;
  readonly #tokenSecretName: string;
  readonly #publicKeys = new Map<string, Promise<RepoPublicKey>>();

  constructor(options: GitHubSecretsTargetOptions) {
    this.#client = options.client;
    this.#tokenSecretName = options.tokenSecretName;
  }

  async whoAmI(): Promise<string> {
    const call = this.#call("GET /user");
    const { data } = await this.#send(call, () => this.#client.request("GET /user"));
    const login = stringField(data, "login");
    if (login === undefined) throw unexpectedAnswer(call, "no login");
    return login;
  }

  publicKey(repo: RepoRef): Promise<RepoPublicKey> {
    const slug = repoSlug(repo);
    const cached = this.#publicKeys.get(slug);
    if (cached) return cached;
    const fetched = this.#fetchPublicKey(repo);
    this.#publicKeys.set(slug, fetched);
    // A failed fetch is not cached, so a later call asks GitHub again.
    fetched.catch(() => {
      if (this.#publicKeys.get(slug) === fetched) this.#publicKeys.delete(slug);
    });
    return fetched;
  }

  async writeSecret(
    repo: RepoRef,
    publicKey: RepoPublicKey,
    name: string,
    value: SecretValue,
  ): Promise<void> {
    const call = this.#call(`PUT secret ${name}`, repo, {
      otherRefusalFix: `Check the secret name ${name}: GitHub Actions secret names contain only letters, digits and underscores, and start neither with a digit nor with GITHUB_.`,
    });
    try {
      await this.#putSealed(call, repo, publicKey, name, value);
    } catch (error) {
      if (!hasStatus(error, 422)) throw this.#mapped(error, call);
      // 422 after a key change: GitHub rotated the repository's key since we fetched it. Fetch the
      // current key and retry once; if the key did not change, the 422 is about something else.
      this.#publicKeys.delete(repoSlug(repo));
      const current = await this.publicKey(repo);
      if (current.keyId === publicKey.keyId) throw this.#mapped(error, call);
      await this.#send(call, () => this.#putSealed(call, repo, current, name, value));
    }
  }

  async secretUpdatedAt(repo: RepoRef, name: string): Promise<Date | undefined> {
    const call = this.#call(`GET secret ${name}`, repo);
    let data: unknown;
    try {
      ({ data } = await this.#client.request("GET /repos/{owner}/{repo}/actions/secrets/{secret_name}", {
        owner: repo.owner,
        repo: repo.name,
        secret_name: name,
      }));
    } catch (error) {
      // GitHub answers 404 alike for a missing secret and an invisible repository; callers have
      // already reached the repository through publicKey(), so 404 means the secret is missing.
      if (hasStatus(error, 404)) return undefined;
      throw this.#mapped(error, call);
    }
    const updatedAt = new Date(stringField(data, "updated_at") ?? Number.NaN);
    if (Number.isNaN(updatedAt.getTime())) throw unexpectedAnswer(call, "no valid updated_at");
    return updatedAt;
  }

  async #fetchPublicKey(repo: RepoRef): Promise<RepoPublicKey> {
    const call = this.#call("GET public key", repo);
    const { data } = await this.#send(call, () =>
      this.#client.request("GET /repos/{owner}/{repo}/actions/secrets/public-key", {
        owner: repo.owner,
        repo: repo.name,
      }),
    );
    const keyId = stringField(data, "key_id");
    const key = stringField(data, "key");
    if (keyId === undefined || key === undefined) throw unexpectedAnswer(call, "no key_id or key");
    try {
      decodePublicKey(key);
    } catch {
      throw unexpectedAnswer(call, "the key is not a base64 32-byte key");
    }
    return { keyId, key };
  }

  async #putSealed(
    call: GitHubCall,
    repo: RepoRef,
    publicKey: RepoPublicKey,
    name: string,
    value: SecretValue,
  ): Promise<void> {
    let encrypted: string;
    try {
      encrypted = sealSecret(value, publicKey.key);
    } catch (error) {
      // publicKey() validates what GitHub sends, so a bad key here came from the caller.
      throw new AkmError(`Could not encrypt secret ${name} for ${call.repo}: ${(error as Error).message}`, {
        fault: "tool",
        fix: "This is a bug in the tool: open an issue with the runbook execution ID and the Lambda log.",
        cause: error,
      });
    }
    await this.#client.request("PUT /repos/{owner}/{repo}/actions/secrets/{secret_name}", {
      owner: repo.owner,
      repo: repo.name,
      secret_name: name,
      encrypted_value: encrypted,
      key_id: publicKey.keyId,
    });
  }

  #call(action: string, repo?: RepoRef, extra?: Pick<GitHubCall, "otherRefusalFix">): GitHubCall {
    return {
      action,
      tokenSecretName: this.#tokenSecretName,
      ...(repo === undefined ? {} : { repo: repoLabel(repo) }),
      ...extra,
    };
  }

  async #send<T>(call: GitHubCall, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      throw this.#mapped(error, call);
    }
  }

  /** HTTP failures become GitHubAccessErrors; anything else (a bug, an AkmError) passes unchanged. */
  #mapped(error: unknown, call: GitHubCall): unknown {
    return isHttpFailure(error) ? toGitHubAccessError(error, call) : error;
  }
}

function stringField(data: unknown, field: string): string | undefined {
  const value =
    typeof data === "object" && data !== null ? (data as Record<string, unknown>)[field] : undefined;
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** A 2xx answer without the fields the API documents: usually a wrong API URL, or a cut-off body. */
function unexpectedAnswer(call: GitHubCall, problem: string): GitHubAccessError {
  const where = call.repo === undefined ? "" : ` on ${call.repo}`;
  return new GitHubAccessError(
    `GitHub answered ${call.action}${where} with an unexpected body (${problem}).`,
    {
      ...(call.repo === undefined ? {} : { repo: call.repo }),
      fix: `${API_URL_FIX} If the URL is right, run the runbook again.`,
    },
  );
}
