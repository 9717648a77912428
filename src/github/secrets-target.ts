import type { SecretValue } from "../domain/secret-value.ts";
import { type OrganizationTarget, type Target, targetKey, targetLabel } from "../domain/target.ts";
import { AkmError, GitHubAccessError } from "../errors.ts";
import { type RepositoryPage, resolveSelectedIds } from "../lifecycle/selected-ids.ts";
import type { RepoPublicKey, SecretsTarget, TargetIdentity, TokenOwner } from "../ports.ts";
import { type AccessNeed, accessNeed } from "./access-need.ts";
import type { GitHubClient } from "./client.ts";
import { isEnterpriseServer } from "./enterprise-server.ts";
import { type GitHubConnection, tokenConnection } from "./github-connection.ts";
import { decodePublicKey, sealSecret } from "./seal.ts";
import { secretScope } from "./secret-scope.ts";
import {
  API_URL_FIX,
  type GitHubCall,
  hasStatus,
  isHttpFailure,
  toGitHubAccessError,
} from "./to-github-access-error.ts";

/**
 * How the adapter reaches GitHub: the run's connection (src/github/github-connection.ts), which gives the client for
 * each owner (one client for a personal token; an installation token's per owner for a GitHub App) and says who the
 * credential is. `client` is shorthand for a personal token's connection (`tokenConnection(client, …)`).
 */
export type GitHubSecretsTargetOptions = {
  /** Display name of the Secrets Manager secret holding the token, named in fixes. */
  readonly tokenSecretName: string;
} & (
  | {
      /** The run's connection: `clientFor(owner)`, `whoAmI()`, `apiUrl`. */
      readonly connection: GitHubConnection;
    }
  | {
      /** A personal token's client, the same for every owner. */
      readonly client: GitHubClient;
    }
);

/** GitHub's largest page. https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api */
const REPOSITORY_PAGE = 100;

/**
 * Where the key goes on GitHub, through the REST API (src/github/secret-scope.ts lists the endpoints): repository,
 * environment and organization secrets of Actions, Dependabot and Codespaces, and Actions variables.
 * Each target's public key is fetched once per run and reused for all its secrets; a write refused because GitHub
 * rotated the key fetches the new key and retries once. An organization secret's selected repositories are
 * resolved from their names to IDs once per rotation by the lifecycle, which hands the IDs over
 * (`useSelectedRepositoryIds`); without them the adapter resolves them itself, once per run.
 */
export class GitHubSecretsTarget implements SecretsTarget {
  readonly #connection: GitHubConnection;
  readonly #tokenSecretName: string;
  readonly #apiUrl: string;
  readonly #publicKeys = new Map<string, Promise<RepoPublicKey>>();
  readonly #selectedIds = new Map<string, Promise<readonly number[]>>();
  /** The token owner's login, once `whoAmI` has asked: messages name the user who needs a role. */
  #machineUser: string | undefined;
  /** The GitHub App's slug, once `whoAmI` has asked, when the run authenticates as an App. */
  #appSlug: string | undefined;

  constructor(options: GitHubSecretsTargetOptions) {
    this.#connection =
      "connection" in options ? options.connection : tokenConnection(options.client, options.tokenSecretName);
    this.#tokenSecretName = options.tokenSecretName;
    this.#apiUrl = this.#connection.apiUrl;
  }

  /**
   * Who the credential is (GitHubConnection.whoAmI): the token's login and expiry (`GET /user`), or the GitHub App
   * (`GET /app` with its JWT; an App has no machine user, so messages then name the App instead).
   */
  async whoAmI(): Promise<TokenOwner> {
    const owner = await this.#connection.whoAmI();
    if (owner.app === undefined) this.#machineUser = owner.login;
    else this.#appSlug = owner.app.slug;
    return owner;
  }

  /**
   * Everything GitHub can tell about a write failing before it is made:
   * - Codespaces secrets on GitHub Enterprise Server, which has no Codespaces (src/github/enterprise-server.ts);
   * - a repository or environment target: the repository exists and the token sees it, it is not archived, and
   *   for a classic token the `repo` scope and the machine user's admin role (`checkRepository`); an environment
   *   target's environment exists (`GET …/environments/{environment_name}`,
   *   https://docs.github.com/en/rest/deployments/environments#get-an-environment);
   * - an organization target: the organization exists and the token sees it
   *   (https://docs.github.com/en/rest/orgs/orgs#get-an-organization) and a classic token has `admin:org`; its
   *   selected repositories are resolved by the rotation (src/lifecycle/selected-ids.ts, through
   *   `organizationRepositories` and `selectedRepositoryId`), which refuses a name that is not one of them.
   * A fine-grained token's own permissions show only when it is used, so `publicKey` and the first write check them.
   */
  async checkWritable(target: Target): Promise<TargetIdentity> {
    if (target.kind !== "environment" && target.store === "codespaces" && isEnterpriseServer(this.#apiUrl)) {
      throw new GitHubAccessError(
        `${targetLabel(target)}: ${this.#apiUrl} is a GitHub Enterprise Server, which has no Codespaces, so it has no Codespaces secrets to write. Nothing was changed.`,
        {
          repo: targetLabel(target),
          fix: "Remove this entry from the list (Delete-RepoConfig), or list the Actions or Dependabot secrets your workflows read instead.",
        },
      );
    }
    if (target.kind === "organization") return this.#checkOrganization(target);
    const identity = await this.#checkRepository(target);
    if (target.kind === "environment") await this.#checkEnvironment(target);
    return identity;
  }

  publicKey(target: Target): Promise<RepoPublicKey> {
    const key = targetKey(target);
    const cached = this.#publicKeys.get(key);
    if (cached) return cached;
    const fetched = this.#fetchPublicKey(target);
    this.#publicKeys.set(key, fetched);
    // A failed fetch is not cached, so a later call asks GitHub again.
    fetched.catch(() => {
      if (this.#publicKeys.get(key) === fetched) this.#publicKeys.delete(key);
    });
    return fetched;
  }

  async writeSecret(
    target: Target,
    publicKey: RepoPublicKey,
    name: string,
    value: SecretValue,
  ): Promise<void> {
    const call = this.#call(`PUT secret ${name}`, target, {
      otherRefusalFix: `Check the secret name ${name}: GitHub secret names contain only letters, digits and underscores, and start neither with a digit nor with GITHUB_.`,
    });
    try {
      await this.#putSealed(call, target, publicKey, name, value);
    } catch (error) {
      if (!hasStatus(error, 422)) throw this.#mapped(error, call);
      // 422 after a key change: GitHub rotated the target's key since we fetched it. Fetch the current key and
      // retry once; if the key did not change, the 422 is about something else.
      this.#publicKeys.delete(targetKey(target));
      const current = await this.publicKey(target);
      if (current.keyId === publicKey.keyId) throw this.#mapped(error, call);
      await this.#send(call, () => this.#putSealed(call, target, current, name, value));
    }
  }

  /**
   * Creates (`POST`) or updates (`PATCH`) the Actions variable `name`: GitHub has no single create-or-update call
   * for variables (https://docs.github.com/en/rest/actions/variables). Whether it exists is read first, so a write
   * is one request; a variable created or deleted in between is answered by trying the other call once. An
   * organization variable gets the target's visibility and selected repositories, like its secrets.
   */
  async writeVariable(target: Target, name: string, value: string): Promise<void> {
    const variables = secretScope(target).variables;
    if (variables === undefined) {
      throw new AkmError(`${targetLabel(target)} keeps no Actions variables, so its key ID cannot be one.`, {
        fault: "tool",
        fix: "This is a bug in the tool (the list allows KeyIdAs variable for Actions targets only): open an issue with the runbook execution ID.",
      });
    }
    const call = this.#call(`write variable ${name}`, target, {
      otherRefusalFix: `Check the variable name ${name}: GitHub variable names contain only letters, digits and underscores, and start neither with a digit nor with GITHUB_.`,
    });
    const client = await this.#connection.clientFor(target.owner);
    const body = { name, value, ...(await this.#visibility(target)) };
    const { params } = secretScope(target);
    const create = () => client.request(`POST ${variables}`, { ...params, ...body });
    const update = () => client.request(`PATCH ${variables}/{name}`, { ...params, ...body });
    const exists = (await this.variableValue(target, name)) !== undefined;
    try {
      await (exists ? update() : create());
    } catch (error) {
      const raced = exists ? hasStatus(error, 404) : hasStatus(error, 409) || hasStatus(error, 422);
      if (!raced) throw this.#mapped(error, call);
      await this.#send(call, exists ? create : update);
    }
  }

  async secretUpdatedAt(target: Target, name: string): Promise<Date | undefined> {
    const call = this.#call(`GET secret ${name}`, target);
    const { secrets, params } = secretScope(target);
    const client = await this.#connection.clientFor(target.owner);
    let data: unknown;
    try {
      ({ data } = await client.request(`GET ${secrets}/{secret_name}`, { ...params, secret_name: name }));
    } catch (error) {
      // GitHub answers 404 alike for a missing secret and an invisible target; callers have already reached the
      // target through publicKey(), so 404 means the secret is missing.
      if (hasStatus(error, 404)) return undefined;
      throw this.#mapped(error, call);
    }
    const updatedAt = new Date(stringField(data, "updated_at") ?? Number.NaN);
    if (Number.isNaN(updatedAt.getTime())) throw unexpectedAnswer(call, "no valid updated_at");
    return updatedAt;
  }

  async variableValue(target: Target, name: string): Promise<string | undefined> {
    const { variables, params } = secretScope(target);
    if (variables === undefined) return undefined;
    const call = this.#call(`GET variable ${name}`, target);
    const client = await this.#connection.clientFor(target.owner);
    let data: unknown;
    try {
      ({ data } = await client.request(`GET ${variables}/{name}`, { ...params, name }));
    } catch (error) {
      // As for secrets: the target was reached before, so 404 means the variable is missing.
      if (hasStatus(error, 404)) return undefined;
      throw this.#mapped(error, call);
    }
    const value = typeof data === "object" && data !== null ? (data as { value?: unknown }).value : undefined;
    if (typeof value !== "string") throw unexpectedAnswer(call, "no value");
    return value;
  }

  /**
   * A repository or environment target's repository: it exists and the token sees it, it is not archived (GitHub
   * answers writes to an archived repository 403 "Repository was archived so is read-only."), and for a classic
   * token, the `repo` scope and the machine user's admin role.
   * https://docs.github.com/en/rest/repos/repos#get-a-repository
   */
  async #checkRepository(target: Exclude<Target, OrganizationTarget>): Promise<TargetIdentity> {
    const call = this.#call("GET repository", target, { scope: "repository" });
    const client = await this.#connection.clientFor(target.owner);
    const { data, headers } = await this.#send(call, () =>
      client.request("GET /repos/{owner}/{repo}", { owner: target.owner, repo: target.name }),
    );
    const label = targetLabel(target);
    const repo = `${target.owner}/${target.name}`;
    const need = accessNeed(target);
    if (typeof data.id !== "number") throw unexpectedAnswer(call, "no repository id");
    const identity = { id: data.id };
    if (data.archived === true) {
      throw new GitHubAccessError(
        `${label} is archived, so GitHub refuses to write its secrets ("Repository was archived so is read-only."). Nothing was changed.`,
        {
          repo: label,
          fix: `Unarchive it or remove it from the list: unarchive ${repo} in its Settings → Danger Zone, or run the Delete-RepoConfig runbook for it. Then run Rotate again.`,
        },
      );
    }
    const scopes = classicScopes(headers);
    if (scopes.length === 0) return identity;
    const user =
      this.#machineUser === undefined ? "the machine user" : `the machine user ${this.#machineUser}`;
    if (!scopes.includes("repo") && !(data.private === false && scopes.includes("public_repo"))) {
      throw new GitHubAccessError(
        `The classic token in ${this.#tokenSecretName} has the scopes ${scopes.join(", ")} but not "repo", which writing the ${need.what} of ${label} needs. Nothing was changed.`,
        {
          repo: label,
          fix: `Edit the token (GitHub → Settings → Developer settings → Personal access tokens → Tokens (classic)) and tick the "repo" scope, or store a new token with it in ${this.#tokenSecretName}. ${need.needs(this.#machineUser)}`,
        },
      );
    }
    if (data.permissions !== undefined && data.permissions.admin !== true) {
      // README's Troubleshooting quotes the Actions sentence whole.
      const needsAdmin =
        need.what === "Actions secrets"
          ? "; writing Actions secrets needs the admin role"
          : `; writing ${need.what} needs the admin role`;
      throw new GitHubAccessError(
        `GitHub reports that ${user} has the ${roleOf(data.permissions)} role on ${repo}${needsAdmin} (GitHub answers "Must have admin rights to Repository."). Nothing was changed.`,
        {
          repo: label,
          fix: `Give ${user} the admin role on ${repo} (repository Settings → Collaborators and teams, or a team with the admin role), or remove ${label} from the list. ${need.needs(this.#machineUser)}`,
        },
      );
    }
    return identity;
  }

  /** The environment exists: GitHub keeps its secrets only once it is created in the repository's settings. */
  async #checkEnvironment(target: Extract<Target, { kind: "environment" }>): Promise<void> {
    const call = this.#call("GET environment", target, { scope: "environment" });
    const client = await this.#connection.clientFor(target.owner);
    const repo = `${target.owner}/${target.name}`;
    try {
      await client.request("GET /repos/{owner}/{repo}/environments/{environment_name}", {
        owner: target.owner,
        repo: target.name,
        environment_name: target.environment,
      });
    } catch (error) {
      if (!hasStatus(error, 404)) throw this.#mapped(error, call);
      throw new GitHubAccessError(
        `The environment ${target.environment} does not exist in ${repo} (GitHub answered 404 to GET environment). Nothing was changed.`,
        {
          status: 404,
          repo: targetLabel(target),
          fix: `Create the environment ${target.environment} in ${repo} (repository Settings → Environments → New environment), or correct the entry's Environment (the name jobs give in \`environment:\`) in the list. Then run Rotate again.`,
        },
      );
    }
  }

  /**
   * The organization exists and the token sees it; a classic token has `admin:org`. Returns the organization's ID.
   */
  async #checkOrganization(target: OrganizationTarget): Promise<TargetIdentity> {
    const call = this.#call("GET organization", target, { scope: "organization" });
    const client = await this.#connection.clientFor(target.owner);
    const { data, headers } = await this.#send(call, () =>
      client.request("GET /orgs/{org}", { org: target.owner }),
    );
    if (typeof data.id !== "number") throw unexpectedAnswer(call, "no organization id");
    const scopes = classicScopes(headers);
    const need = accessNeed(target);
    if (scopes.length > 0 && !scopes.includes("admin:org")) {
      throw new GitHubAccessError(
        `The classic token in ${this.#tokenSecretName} has the scopes ${scopes.join(", ")} but not "admin:org", which writing the ${need.what} of ${target.owner} needs. Nothing was changed.`,
        {
          repo: targetLabel(target),
          fix: `Edit the token (GitHub → Settings → Developer settings → Personal access tokens → Tokens (classic)) and tick the "admin:org" scope, or store a new token with it in ${this.#tokenSecretName}. ${need.needs(this.#machineUser)}`,
        },
      );
    }
    // A `selected` secret's repositories are resolved by the rotation, once (src/lifecycle/selected-ids.ts).
    return { id: data.id };
  }

  /**
   * The IDs of a `selected` organization target's repositories: those the rotation resolved
   * (`useSelectedRepositoryIds`), else resolved here once per adapter (per invocation) by the same means, in one go.
   */
  #selected(target: OrganizationTarget): Promise<readonly number[]> {
    const key = targetKey(target);
    const cached = this.#selectedIds.get(key);
    if (cached) return cached;
    const resolved = resolveSelectedIds(target, undefined, this, { now: new Date(), stop: () => false }).then(
      (resolution) => (resolution.kind === "done" ? resolution.ids : []),
    );
    this.#selectedIds.set(key, resolved);
    resolved.catch(() => {
      if (this.#selectedIds.get(key) === resolved) this.#selectedIds.delete(key);
    });
    return resolved;
  }

  useSelectedRepositoryIds(target: OrganizationTarget, ids: readonly number[]): void {
    this.#selectedIds.set(targetKey(target), Promise.resolve([...ids]));
  }

  /**
   * Page `page` of the organization's repositories, A to Z, 100 a page
   * (https://docs.github.com/en/rest/repos/repos#list-organization-repositories; `per_page` at most 100); `last`
   * when GitHub's `link` header names no next page
   * (https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api).
   */
  async organizationRepositories(org: string, page: number): Promise<RepositoryPage> {
    const call: GitHubCall = {
      ...this.#call("GET organization repositories"),
      repo: `organization ${org}`,
      scope: "organization",
    };
    const client = await this.#connection.clientFor(org);
    const { data, headers } = await this.#send(call, () =>
      client.request("GET /orgs/{org}/repos", {
        org,
        type: "all",
        sort: "full_name",
        direction: "asc",
        per_page: REPOSITORY_PAGE,
        page,
      }),
    );
    if (!Array.isArray(data)) throw unexpectedAnswer(call, "not a list");
    const repositories = data.map((item) => {
      const { id, name } = item as { id?: unknown; name?: unknown };
      if (typeof id !== "number" || typeof name !== "string")
        throw unexpectedAnswer(call, "a repository without id or name");
      return { id, name };
    });
    const link = typeof headers.link === "string" ? headers.link : "";
    return { repositories, last: !/rel="next"/.test(link) };
  }

  /**
   * GET a selected repository by name (https://docs.github.com/en/rest/repos/repos#get-a-repository): a name that does
   * not exist is refused (404), and so is one that moved (GitHub redirects a renamed or transferred repository's old
   * name; redirects are never followed), so the secret never goes to a repository the list does not name.
   */
  async selectedRepositoryId(target: OrganizationTarget, name: string): Promise<number> {
    const client = await this.#connection.clientFor(target.owner);
    const call: GitHubCall = {
      ...this.#call(`GET repository (selected for ${targetLabel(target)})`),
      repo: `${target.owner}/${name}`,
      scope: "repository",
      need: accessNeed(target),
    };
    const { data } = await this.#send(call, () =>
      client.request("GET /repos/{owner}/{repo}", { owner: target.owner, repo: name }),
    );
    if (typeof data.id !== "number") throw unexpectedAnswer(call, "no repository id");
    return data.id;
  }

  /** An organization secret's or variable's `visibility` and, for `selected`, its repositories' IDs. */
  async #visibility(
    target: Target,
  ): Promise<{ visibility?: string; selected_repository_ids?: readonly number[] }> {
    if (target.kind !== "organization") return {};
    if (target.visibility !== "selected") return { visibility: target.visibility };
    return { visibility: "selected", selected_repository_ids: await this.#selected(target) };
  }

  async #fetchPublicKey(target: Target): Promise<RepoPublicKey> {
    const call = this.#call("GET public key", target);
    const { secrets, params } = secretScope(target);
    const client = await this.#connection.clientFor(target.owner);
    const { data } = await this.#send(call, () => client.request(`GET ${secrets}/public-key`, params));
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
    target: Target,
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
    const { secrets, params } = secretScope(target);
    const client = await this.#connection.clientFor(target.owner);
    await client.request(`PUT ${secrets}/{secret_name}`, {
      ...params,
      secret_name: name,
      encrypted_value: encrypted,
      key_id: publicKey.keyId,
      ...(await this.#visibility(target)),
    });
  }

  #call(action: string, target?: Target, extra?: Pick<GitHubCall, "otherRefusalFix" | "scope">): GitHubCall {
    const need: AccessNeed | undefined = target === undefined ? undefined : accessNeed(target);
    return {
      action,
      tokenSecretName: this.#tokenSecretName,
      apiUrl: this.#apiUrl,
      ...(target === undefined
        ? {}
        : {
            repo: targetLabel(target),
            scope: target.kind === "organization" ? "organization" : target.kind,
            ...(need === undefined ? {} : { need }),
          }),
      ...(this.#machineUser === undefined ? {} : { machineUser: this.#machineUser }),
      ...(this.#appSlug === undefined ? {} : { appSlug: this.#appSlug }),
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

/**
 * The scopes of a classic token (or an OAuth token), which GitHub lists in `X-OAuth-Scopes`; fine-grained tokens
 * and GitHub App tokens have none. https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/scopes-for-oauth-apps
 */
function classicScopes(headers: Readonly<Record<string, unknown>>): string[] {
  return String(headers["x-oauth-scopes"] ?? "")
    .split(",")
    .map((scope) => scope.trim())
    .filter((scope) => scope !== "");
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
