import { type RepoRef, repoLabel, repoSlug } from "../domain/repo.ts";
import type { SecretValue } from "../domain/secret-value.ts";
import { AkmError, GitHubAccessError } from "../errors.ts";
import type { RepoIdentity, RepoPublicKey, SecretsTarget, TokenOwner } from "../ports.ts";
import type { GitHubClient } from "./client.ts";
import { tokenNeeds } from "./forbidden-reason.ts";
import { type GitHubConnection, tokenConnection } from "./github-connection.ts";
import { decodePublicKey, sealSecret } from "./seal.ts";
import {
  API_URL_FIX,
  type GitHubCall,
  hasStatus,
  isHttpFailure,
  toGitHubAccessError,
} from "./to-github-access-error.ts";

export type GitHubSecretsTargetOptions = (
  | {
      /** The run's connection: a client per owner (one for a personal token; an installation token's for an App). */
      readonly connection: GitHubConnection;
    }
  | {
      /** A personal token's client, the same for every owner (as `tokenConnection`). */
      readonly client: GitHubClient;
    }
) & {
  /** Display name of the Secrets Manager secret holding the token, named in fixes. */
  readonly tokenSecretName: string;
};

/**
 * GitHub Actions repository secrets through the REST API.
 * https://docs.github.com/en/rest/actions/secrets
 * Each repository's public key is fetched once per target (one target per run) and reused for all
 * its secrets; a write refused because GitHub rotated the key fetches the new key and retries once.
 */
export class GitHubSecretsTarget implements SecretsTarget {
  readonly #connection: GitHubConnection;
  readonly #tokenSecretName: string;
  readonly #publicKeys = new Map<string, Promise<RepoPublicKey>>();
  /** The token owner's login, once `whoAmI` has asked: messages name the user who needs a role. */
  #machineUser: string | undefined;
  /** The GitHub App's slug, once `whoAmI` has asked, when the run authenticates as an App. */
  #appSlug: string | undefined;

  constructor(options: GitHubSecretsTargetOptions) {
    this.#connection =
      "connection" in options ? options.connection : tokenConnection(options.client, options.tokenSecretName);
    this.#tokenSecretName = options.tokenSecretName;
  }

  /**
   * Who the credential is (GitHubConnection.whoAmI): the token's login and expiry, or the GitHub App (which has no
   * machine user: messages then name no user).
   */
  async whoAmI(): Promise<TokenOwner> {
    const owner = await this.#connection.whoAmI();
    if (owner.app === undefined) this.#machineUser = owner.login;
    else this.#appSlug = owner.app.slug;
    return owner;
  }

  /**
   * Everything GitHub's repository answer tells about a write failing: the repository exists and the token sees
   * it, it is not archived (GitHub answers writes to an archived repository 403 "Repository was archived so is
   * read-only."), and for a classic token, the `repo` scope and the machine user's admin role. A fine-grained
   * token's own permissions show only when it is used, so `publicKey` (which needs "Secrets" read) and the first
   * write check those. https://docs.github.com/en/rest/repos/repos#get-a-repository
   */
  async checkWritable(repo: RepoRef): Promise<RepoIdentity> {
    const call = this.#call("GET repository", repo);
    const client = await this.#clientFor(repo);
    const { data, headers } = await this.#send(call, () =>
      client.request("GET /repos/{owner}/{repo}", { owner: repo.owner, repo: repo.name }),
    );
    const label = repoLabel(repo);
    if (typeof data.id !== "number") throw unexpectedAnswer(call, "no repository id");
    const identity = { id: data.id };
    if (data.archived === true) {
      throw new GitHubAccessError(
        `${label} is archived, so GitHub refuses to write its secrets ("Repository was archived so is read-only."). Nothing was changed.`,
        {
          repo: label,
          fix: `Unarchive it or remove it from the list: unarchive ${label} in its Settings → Danger Zone, or run the Delete-RepoConfig runbook for it. Then run Rotate again.`,
        },
      );
    }
    // Classic tokens (and OAuth tokens) list their scopes in X-OAuth-Scopes; fine-grained tokens have none.
    // https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/scopes-for-oauth-apps
    const scopes = String(headers["x-oauth-scopes"] ?? "")
      .split(",")
      .map((scope) => scope.trim())
      .filter((scope) => scope !== "");
    if (scopes.length === 0) return identity;
    const user =
      this.#machineUser === undefined ? "the machine user" : `the machine user ${this.#machineUser}`;
    if (!scopes.includes("repo") && !(data.private === false && scopes.includes("public_repo"))) {
      throw new GitHubAccessError(
        `The classic token in ${this.#tokenSecretName} has the scopes ${scopes.join(", ")} but not "repo", which writing the Actions secrets of ${label} needs. Nothing was changed.`,
        {
          repo: label,
          fix: `Edit the token (GitHub → Settings → Developer settings → Personal access tokens → Tokens (classic)) and tick the "repo" scope, or store a new token with it in ${this.#tokenSecretName}. ${tokenNeeds(label, this.#machineUser)}`,
        },
      );
    }
    if (data.permissions !== undefined && data.permissions.admin !== true) {
      throw new GitHubAccessError(
        `GitHub reports that ${user} has the ${roleOf(data.permissions)} role on ${label}; writing Actions secrets needs the admin role (GitHub answers "Must have admin rights to Repository."). Nothing was changed.`,
        {
          repo: label,
          fix: `Give ${user} the admin role on ${label} (repository Settings → Collaborators and teams, or a team with the admin role), or remove ${label} from the list. ${tokenNeeds(label, this.#machineUser)}`,
        },
      );
    }
    return identity;
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
    const client = await this.#clientFor(repo);
    let data: unknown;
    try {
      ({ data } = await client.request("GET /repos/{owner}/{repo}/actions/secrets/{secret_name}", {
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
    const client = await this.#clientFor(repo);
    const { data } = await this.#send(call, () =>
      client.request("GET /repos/{owner}/{repo}/actions/secrets/public-key", {
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
    const client = await this.#clientFor(repo);
    await client.request("PUT /repos/{owner}/{repo}/actions/secrets/{secret_name}", {
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
      apiUrl: this.#connection.apiUrl,
      ...(repo === undefined ? {} : { repo: repoLabel(repo) }),
      ...(this.#machineUser === undefined ? {} : { machineUser: this.#machineUser }),
      ...(this.#appSlug === undefined ? {} : { appSlug: this.#appSlug }),
      ...extra,
    };
  }

  /** The client for the repository's owner (for a GitHub App: that owner's installation token). */
  #clientFor(repo: RepoRef): Promise<GitHubClient> {
    return this.#connection.clientFor(repo.owner);
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

/** GitHub's name for the highest role a `permissions` object grants (the UI's "write" is `push`). */
function roleOf(permissions: {
  admin?: boolean;
  maintain?: boolean;
  push?: boolean;
  triage?: boolean;
}): string {
  if (permissions.admin) return "admin";
  if (permissions.maintain) return "maintain";
  if (permissions.push) return "write";
  if (permissions.triage) return "triage";
  return "read";
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
