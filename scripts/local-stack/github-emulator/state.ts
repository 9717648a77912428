/**
 * What the emulated GitHub knows: organizations, repositories (each with Actions, Dependabot and Codespaces secrets,
 * environments, variables, topics, custom properties and files), users and tokens. Secret values are kept
 * decrypted inside `SecretBox`es, behind private fields, so they never show up when state is printed.
 */
import sodium from "libsodium-wrappers";
import type { InstallationGrant } from "./apps.ts";
import {
  type OrgVisibility,
  SECRET_STORES,
  type SecretScope,
  type SecretStore,
  scopeLabel,
} from "./scopes.ts";
import { SecretBox } from "./secret-box.ts";
import { VariableBook } from "./variable-book.ts";

/**
 * A fine-grained token's permission: `write` may read and write, `read` may only read (GitHub answers writes 403
 * "Resource not accessible by personal access token"). Without any, secrets cannot even be read.
 */
export type TokenPermission = "write" | "read";

/** The token owner's role on the repositories it reaches (GitHub's `push` is the UI's "write"). */
export type RepoRole = "admin" | "maintain" | "write" | "triage" | "read";

/**
 * The token owner's role in the organizations: owners manage organization secrets and variables, members do not
 * (GitHub answers 403). https://docs.github.com/en/organizations/managing-peoples-access-to-your-organization-with-roles/roles-in-an-organization
 */
export type OrgRole = "owner" | "member";

/** A repository's visibility; `internal` repositories (GitHub Enterprise) report `private: true`. */
export type RepoVisibility = "public" | "private" | "internal";

/** What a registered token may do. */
export interface TokenGrant {
  /** Login of the token owner, returned by `GET /user`. */
  readonly login: string;
  /** `all`, or repositories as `owner/name` (case-insensitive, like GitHub). */
  readonly repos: "all" | readonly string[];
  /**
   * A fine-grained token's "Secrets" permission (repository and organization secrets of every store, ignored for
   * classic tokens).
   */
  readonly permission: TokenPermission;
  /** A fine-grained token's "Variables" permission (default: `permission`). */
  readonly variables?: TokenPermission;
  /**
   * A fine-grained token's "Environments" permission (default: `permission`), which environment secrets and
   * variables take besides "Secrets" or "Variables" (handler-kit.ts).
   */
  readonly environments?: TokenPermission;
  /**
   * `fine-grained` (default) or `classic`: a classic token's answers carry `X-OAuth-Scopes`, and without the
   * admin role GitHub refuses its secrets requests with "Must have admin rights to Repository.".
   */
  readonly kind?: "fine-grained" | "classic";
  /** A classic token's scopes (default `repo`). */
  readonly scopes?: readonly string[];
  /** The owner's role on the repositories (default: `admin` with `write` permission, else `read`); secrets need admin. */
  readonly role?: RepoRole;
  /** The owner's role in every organization (default: `owner` when the repository role is admin, else `member`). */
  readonly orgRole?: OrgRole;
  /**
   * When the token expires: every answer then carries `GitHub-Authentication-Token-Expiration`, and after that
   * instant GitHub answers 401 Bad credentials. Undefined: a token without an expiration date (no header).
   */
  readonly expiresAt?: Date;
  /** Set for a GitHub App's JWT (apps.ts): it is accepted by the App endpoints only. */
  readonly app?: { readonly id: number };
  /**
   * Set for a GitHub App installation token (apps.ts): its permissions replace `permission` and `role`, and it
   * reaches only the installation account's repositories.
   */
  readonly installation?: InstallationGrant;
}

/** The token owner's role on the repositories the grant reaches. */
export function roleOf(grant: TokenGrant): RepoRole {
  return grant.role ?? (grant.permission === "write" ? "admin" : "read");
}

/** The token owner's role in the organizations. */
export function orgRoleOf(grant: TokenGrant): OrgRole {
  return grant.orgRole ?? (roleOf(grant) === "admin" ? "owner" : "member");
}

export interface UserRecord {
  readonly login: string;
  readonly id: number;
  readonly createdAt: string;
}

/** A repository's owner as bodies show it: a user, or an organization added with `addOrg`. */
export interface OwnerRecord {
  readonly login: string;
  readonly id: number;
  readonly type: "User" | "Organization";
}

/** Who sees an organization secret or variable. */
export interface OrgAccess {
  visibility: OrgVisibility;
  /** Repository IDs, meaningful with visibility `selected`. */
  readonly selected: Set<number>;
}

export interface OrgRecord {
  readonly login: string;
  readonly id: number;
  readonly createdAt: string;
  readonly stores: Readonly<Record<SecretStore, SecretBox>>;
  /** Per store, upper-case secret name to who sees it. */
  readonly secretAccess: Readonly<Record<SecretStore, Map<string, OrgAccess>>>;
  readonly variables: VariableBook;
  /** Upper-case variable name to who sees it. */
  readonly variableAccess: Map<string, OrgAccess>;
}

export interface EnvironmentRecord {
  /** As created (GitHub compares environment names case-insensitively). */
  readonly name: string;
  readonly id: number;
  readonly createdAt: string;
  readonly secrets: SecretBox;
  readonly variables: VariableBook;
}

/** A custom property value: a string, several (multi-select), or null (unset). */
export type PropertyValue = string | readonly string[] | null;

export interface RepoRecord {
  /** Current owner and name; a rename or transfer changes them (the ID stays). */
  owner: string;
  name: string;
  readonly id: number;
  /** Earlier `owner/name`s (lower-case): GitHub redirects them here until another repository takes the name. */
  readonly formerNames: Set<string>;
  visibility: RepoVisibility;
  readonly createdAt: string;
  /** Read-only: GitHub refuses every write ("Repository was archived so is read-only."). */
  archived: boolean;
  /** Secrets per store, each with its own key pair. */
  readonly stores: Readonly<Record<SecretStore, SecretBox>>;
  /** Environments by lower-case name. */
  readonly environments: Map<string, EnvironmentRecord>;
  readonly variables: VariableBook;
  topics: readonly string[];
  /** Custom property values by property name. */
  readonly properties: Map<string, PropertyValue>;
  /** File contents by path (no leading slash), on the default branch. */
  readonly files: Map<string, string>;
}

/** Options of `addRepo`. */
export interface RepoOptions {
  /** Shorthand for visibility `private` (true, the default) or `public` (false). */
  readonly private?: boolean;
  /** Wins over `private`. */
  readonly visibility?: RepoVisibility;
  readonly topics?: readonly string[];
  readonly properties?: Readonly<Record<string, PropertyValue>>;
}

/** GitHub limits: 48 KB per secret value; names are letters, digits and `_`, not starting with a digit. */
const MAX_SECRET_BYTES = 48 * 1024;
const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** ISO 8601 in GitHub's style: `2019-08-10T14:59:22Z`. */
export function githubTimestamp(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

function repoKey(owner: string, name: string): string {
  return `${owner}/${name}`.toLowerCase();
}

/** Whether a repository is private for GitHub's `private` visibility of organization secrets (internal counts). */
export function isPrivate(repo: RepoRecord): boolean {
  return repo.visibility !== "public";
}

/** Why GitHub would refuse a secret name, or undefined when it is acceptable. */
export function secretNameProblem(name: string): string | undefined {
  if (!SECRET_NAME.test(name)) {
    return "Secret names can only contain alphanumeric characters ([a-z], [A-Z], [0-9]) or underscores (_). Spaces are not allowed. Must start with a letter ([a-z], [A-Z]) or underscores (_).";
  }
  if (name.toUpperCase().startsWith("GITHUB_")) return "Secret names must not start with GITHUB_.";
  return undefined;
}

/**
 * Why GitHub would refuse a variable name, or undefined. Same rules as secrets.
 * https://docs.github.com/en/actions/writing-workflows/choosing-what-your-workflow-does/store-information-in-variables#naming-conventions-for-configuration-variables
 */
export function variableNameProblem(name: string): string | undefined {
  if (!SECRET_NAME.test(name)) {
    return "Variable names can only contain alphanumeric characters ([a-z], [A-Z], [0-9]) or underscores (_). Spaces are not allowed. Must start with a letter ([a-z], [A-Z]) or underscores (_).";
  }
  if (name.toUpperCase().startsWith("GITHUB_")) return "Variable names must not start with GITHUB_.";
  return undefined;
}

function storeBoxes(): Record<SecretStore, SecretBox> {
  return { actions: new SecretBox(), dependabot: new SecretBox(), codespaces: new SecretBox() };
}

/** In-memory GitHub state. Call `EmulatorState.create()` (it waits for libsodium). */
export class EmulatorState {
  readonly #repos = new Map<string, RepoRecord>();
  /** The same repositories by ID (organization secrets name repositories by ID; thousands at a time). */
  readonly #reposById = new Map<number, RepoRecord>();
  readonly #orgs = new Map<string, OrgRecord>();
  readonly #tokens = new Map<string, TokenGrant>();
  readonly #users = new Map<string, UserRecord>();
  /** Former `owner/name`s (lower-case) of renamed or transferred repositories, to the repository now. */
  readonly #redirects = new Map<string, RepoRecord>();
  #nextId = 1_000_001;

  private constructor(readonly now: () => number) {}

  static async create(now: () => number): Promise<EmulatorState> {
    await sodium.ready;
    return new EmulatorState(now);
  }

  /** The current time as GitHub writes it in bodies. */
  stamp(): string {
    return githubTimestamp(this.now());
  }

  /** Adds an organization (idempotent, case-insensitive). Repositories whose owner it is belong to it. */
  addOrg(login: string): OrgRecord {
    const existing = this.#orgs.get(login.toLowerCase());
    if (existing !== undefined) return existing;
    const org: OrgRecord = {
      login,
      id: this.#nextId++,
      createdAt: this.stamp(),
      stores: storeBoxes(),
      secretAccess: { actions: new Map(), dependabot: new Map(), codespaces: new Map() },
      variables: new VariableBook(),
      variableAccess: new Map(),
    };
    this.#orgs.set(login.toLowerCase(), org);
    return org;
  }

  findOrg(login: string): OrgRecord | undefined {
    return this.#orgs.get(login.toLowerCase());
  }

  requireOrg(login: string): OrgRecord {
    const org = this.findOrg(login);
    if (org === undefined) {
      throw new Error(`github-emulator: organization ${login} does not exist; call addOrg() first`);
    }
    return org;
  }

  /**
   * Adds a repository (idempotent: an existing one, matched case-insensitively, is returned unchanged). A name that
   * redirected to a renamed or transferred repository belongs to the new one from now on (GitHub drops the redirect).
   */
  addRepo(owner: string, name: string, options: RepoOptions = {}): RepoRecord {
    const existing = this.#repos.get(repoKey(owner, name));
    if (existing !== undefined) return existing;
    this.#redirects.get(repoKey(owner, name))?.formerNames.delete(repoKey(owner, name));
    this.#redirects.delete(repoKey(owner, name));
    const repo: RepoRecord = {
      owner,
      name,
      id: this.#nextId++,
      formerNames: new Set(),
      visibility: options.visibility ?? (options.private === false ? "public" : "private"),
      createdAt: this.stamp(),
      archived: false,
      stores: storeBoxes(),
      environments: new Map(),
      variables: new VariableBook(),
      topics: [...(options.topics ?? [])],
      properties: new Map(Object.entries(options.properties ?? {})),
      files: new Map(),
    };
    this.#repos.set(repoKey(owner, name), repo);
    this.#reposById.set(repo.id, repo);
    return repo;
  }

  findRepo(owner: string, name: string): RepoRecord | undefined {
    return this.#repos.get(repoKey(owner, name));
  }

  /** The repository with this ID, if it exists. */
  repoById(id: number): RepoRecord | undefined {
    return this.#reposById.get(id);
  }

  /** Repositories whose owner is `owner` (case-insensitive), oldest first. */
  reposOf(owner: string): RepoRecord[] {
    const lower = owner.toLowerCase();
    return [...this.#repos.values()].filter((repo) => repo.owner.toLowerCase() === lower);
  }

  /**
   * Renames and/or transfers a repository: it keeps its ID, key pairs, environments and secrets; its old name
   * redirects to it (GitHub: 301 for GET, 307 for other methods) until a repository is created under that name.
   */
  moveRepo(owner: string, name: string, to: { readonly owner: string; readonly name: string }): RepoRecord {
    const repo = this.requireRepo(owner, name);
    const target = repoKey(to.owner, to.name);
    if (this.#repos.has(target)) {
      throw new Error(
        `github-emulator: cannot move ${owner}/${name} to ${to.owner}/${to.name}: that name is taken`,
      );
    }
    const old = repoKey(repo.owner, repo.name);
    this.#repos.delete(old);
    repo.formerNames.add(old);
    this.#redirects.set(old, repo);
    // A repository moved back to an old name answers there again.
    this.#redirects.delete(target);
    repo.formerNames.delete(target);
    repo.owner = to.owner;
    repo.name = to.name;
    this.#repos.set(target, repo);
    return repo;
  }

  /** Deletes a repository, every redirect to it, and its place in organization secrets' selected repositories. */
  deleteRepo(owner: string, name: string): void {
    const repo = this.requireRepo(owner, name);
    this.#repos.delete(repoKey(owner, name));
    this.#reposById.delete(repo.id);
    for (const former of repo.formerNames) this.#redirects.delete(former);
    for (const org of this.#orgs.values()) {
      for (const store of SECRET_STORES) {
        for (const access of org.secretAccess[store].values()) access.selected.delete(repo.id);
      }
      for (const access of org.variableAccess.values()) access.selected.delete(repo.id);
    }
  }

  /**
   * The repository an old name redirects to, when the name is not a repository any more and the grant reaches the
   * repository (GitHub answers 404 alike for a missing and an invisible repository).
   */
  redirectFor(grant: TokenGrant, owner: string, name: string): RepoRecord | undefined {
    if (this.#repos.has(repoKey(owner, name))) return undefined;
    const repo = this.#redirects.get(repoKey(owner, name));
    if (repo === undefined) return undefined;
    return this.accessibleRepo(grant, repo.owner, repo.name) === undefined ? undefined : repo;
  }

  /** Like findRepo, but fails with a message naming the repository (for the test-facing API). */
  requireRepo(owner: string, name: string): RepoRecord {
    const repo = this.findRepo(owner, name);
    if (repo === undefined) {
      throw new Error(`github-emulator: repository ${owner}/${name} does not exist; call addRepo() first`);
    }
    return repo;
  }

  /** Adds an environment to a repository (idempotent, case-insensitive), with its own key pair. */
  addEnvironment(repo: RepoRecord, name: string): EnvironmentRecord {
    const existing = repo.environments.get(name.toLowerCase());
    if (existing !== undefined) return existing;
    const environment: EnvironmentRecord = {
      name,
      id: this.#nextId++,
      createdAt: this.stamp(),
      secrets: new SecretBox(),
      variables: new VariableBook(),
    };
    repo.environments.set(name.toLowerCase(), environment);
    return environment;
  }

  findEnvironment(repo: RepoRecord, name: string): EnvironmentRecord | undefined {
    return repo.environments.get(name.toLowerCase());
  }

  requireEnvironment(repo: RepoRecord, name: string): EnvironmentRecord {
    const environment = this.findEnvironment(repo, name);
    if (environment === undefined) {
      throw new Error(
        `github-emulator: repository ${repo.owner}/${repo.name} has no environment ${name}; call addEnvironment() first`,
      );
    }
    return environment;
  }

  /** The secrets of a scope, or undefined when the repository, environment or organization does not exist. */
  boxAt(scope: SecretScope): SecretBox | undefined {
    switch (scope.kind) {
      case "organization":
        return this.findOrg(scope.org)?.stores[scope.store];
      case "repository":
        return this.findRepo(scope.owner, scope.repo)?.stores[scope.store];
      case "environment": {
        const repo = this.findRepo(scope.owner, scope.repo);
        return repo === undefined ? undefined : this.findEnvironment(repo, scope.environment)?.secrets;
      }
    }
  }

  /** Every scope that exists: each organization's and repository's stores, and every environment. */
  *allScopes(): Generator<SecretScope> {
    for (const org of this.#orgs.values()) {
      for (const store of SECRET_STORES) yield { kind: "organization", org: org.login, store };
    }
    for (const repo of this.#repos.values()) {
      for (const store of SECRET_STORES)
        yield { kind: "repository", owner: repo.owner, repo: repo.name, store };
      for (const environment of repo.environments.values()) {
        yield { kind: "environment", owner: repo.owner, repo: repo.name, environment: environment.name };
      }
    }
  }

  /** Like boxAt, failing with a message naming what is missing (for the test-facing API). */
  requireBoxAt(scope: SecretScope): SecretBox {
    switch (scope.kind) {
      case "organization":
        return this.requireOrg(scope.org).stores[scope.store];
      case "repository":
        return this.requireRepo(scope.owner, scope.repo).stores[scope.store];
      case "environment":
        return this.requireEnvironment(this.requireRepo(scope.owner, scope.repo), scope.environment).secrets;
    }
  }

  /** The variables of a scope (store `actions` only), failing with a message naming what is missing. */
  requireVariablesAt(scope: SecretScope): VariableBook {
    if (scope.kind !== "environment" && scope.store !== "actions") {
      throw new Error(`github-emulator: ${scopeLabel(scope)} has no variables: variables are Actions-only`);
    }
    switch (scope.kind) {
      case "organization":
        return this.requireOrg(scope.org).variables;
      case "repository":
        return this.requireRepo(scope.owner, scope.repo).variables;
      case "environment":
        return this.requireEnvironment(this.requireRepo(scope.owner, scope.repo), scope.environment)
          .variables;
    }
  }

  addToken(token: string, grant: TokenGrant): void {
    if (token === "") throw new Error("github-emulator: a token must not be empty");
    this.#tokens.set(token, { ...grant, repos: grant.repos === "all" ? "all" : [...grant.repos] });
    this.user(grant.login);
  }

  revokeToken(token: string): void {
    this.#tokens.delete(token);
  }

  grantFor(token: string): TokenGrant | undefined {
    return this.#tokens.get(token);
  }

  /** The owner of a repository: its organization when one was added under that login, else a user. */
  ownerOf(repo: RepoRecord): OwnerRecord {
    const org = this.findOrg(repo.owner);
    if (org !== undefined) return { login: org.login, id: org.id, type: "Organization" };
    const user = this.user(repo.owner);
    return { login: user.login, id: user.id, type: "User" };
  }

  /** The user record for a login, created on first sight. */
  user(login: string): UserRecord {
    let user = this.#users.get(login);
    if (user === undefined) {
      user = { login, id: this.#nextId++, createdAt: this.stamp() };
      this.#users.set(login, user);
    }
    return user;
  }

  /**
   * The repository if it exists and the grant reaches it; GitHub does not tell the two cases apart (404). A grant
   * that names a repository by an earlier name still reaches it (GitHub binds a token to the repository, not to
   * its name).
   */
  accessibleRepo(grant: TokenGrant, owner: string, name: string): RepoRecord | undefined {
    const repo = this.findRepo(owner, name);
    return repo !== undefined && this.reaches(grant, repo) ? repo : undefined;
  }

  /** Whether a grant reaches a repository. */
  reaches(grant: TokenGrant, repo: RepoRecord): boolean {
    // An installation token reaches its installation's account only.
    if (
      grant.installation !== undefined &&
      repo.owner.toLowerCase() !== grant.installation.account.toLowerCase()
    ) {
      return false;
    }
    if (grant.repos === "all") return true;
    const names = new Set([repoKey(repo.owner, repo.name), ...repo.formerNames]);
    return grant.repos.some((full) => names.has(full.toLowerCase()));
  }

  /** Why GitHub would refuse this value, or undefined. */
  secretValueProblem(value: string): string | undefined {
    const bytes = Buffer.byteLength(value, "utf8");
    return bytes > MAX_SECRET_BYTES
      ? `Secret value is ${bytes} bytes; the limit is ${MAX_SECRET_BYTES}.`
      : undefined;
  }
}
