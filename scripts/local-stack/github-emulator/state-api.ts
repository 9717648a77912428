/**
 * The test-facing API for arranging and inspecting the emulated GitHub without requests: organizations,
 * repositories (topics, custom properties, files), environments, tokens, secrets and variables at every scope, and
 * the R1 view (what a job would read). Nothing here runs the write hook. Every method naming something that does
 * not exist throws, naming it and the call that creates it.
 */
import {
  type EffectiveValue,
  effectiveSecret,
  effectiveVariable,
  type JobContext,
  visibleTo,
} from "./precedence.ts";
import { type OrgVisibility, type SecretScope, type SecretStore, scopeLabel, scopeStore } from "./scopes.ts";
import type { RepoPublicKey, SecretMeta } from "./secret-box.ts";
import {
  type EmulatorState,
  type OrgAccess,
  type OrgRecord,
  type PropertyValue,
  type RepoOptions,
  type TokenGrant,
  variableNameProblem,
} from "./state.ts";

/** Who sees an organization secret or variable, for the arranging helpers. */
export interface OrgAccessSpec {
  readonly visibility: OrgVisibility;
  /** With `selected`: repository names of the organization. */
  readonly repositories?: readonly string[];
}

/** Who sees an organization secret or variable, as the emulator holds it. */
export interface OrgAccessView {
  readonly visibility: OrgVisibility;
  /** Selected repositories as `owner/name`, by ID order (repositories deleted since are left out). */
  readonly repositories: readonly string[];
  readonly repositoryIds: readonly number[];
}

/** One repository of an organization, as its listings describe it (dynamic selection reads these). */
export interface OrgRepositoryView {
  readonly name: string;
  readonly id: number;
  readonly archived: boolean;
  /** As `setTopics` set them. */
  readonly topics: readonly string[];
  /** Custom property values by property name (`null`: unset). */
  readonly properties: Readonly<Record<string, PropertyValue>>;
}

/** One place that holds a name: its scope and value. */
export interface Holding {
  readonly scope: SecretScope;
  readonly value: string;
}

/** Arranging and inspecting the emulated GitHub (see the module comment). */
export interface GitHubStateApi {
  /** Adds an organization (idempotent): repositories it owns report an Organization owner and see its secrets. */
  addOrg(org: string): void;
  /** GitHub's numeric ID of the organization. */
  orgId(org: string): number;
  /** Adds a repository (private by default) with a fresh key pair per store. Idempotent. */
  addRepo(owner: string, name: string, options?: RepoOptions): void;
  /** Registers a token; replaces an earlier grant for the same token. */
  addToken(token: string, grant: TokenGrant): void;
  /** Forgets a token: it then gets 401 Bad credentials. */
  revokeToken(token: string): void;
  /**
   * Archives (or with `false`, unarchives) a repository: `GET /repos/…` reports `archived`, and GitHub answers
   * every write to it 403 "Repository was archived so is read-only.".
   */
  archiveRepo(owner: string, repo: string, archived?: boolean): void;
  /**
   * Renames a repository (`to.owner` unchanged) or transfers it (another owner): it keeps its ID, key pairs,
   * environments and secrets, and requests to its old name get GitHub's redirect — 301 for GET, 307 for other
   * methods, `Location` `…/repositories/{id}/…` — until a repository is created under the old name (`addRepo`).
   */
  moveRepo(owner: string, repo: string, to: { readonly owner: string; readonly name: string }): void;
  /** Deletes a repository (with its redirects); `addRepo` under the same name then makes a new one, with a new ID. */
  deleteRepo(owner: string, repo: string): void;
  /** GitHub's numeric ID of the repository now under this name. */
  repoId(owner: string, repo: string): number;
  /** Whether a repository is under this name now (not moved away, not deleted). */
  hasRepo(owner: string, repo: string): boolean;
  /** Whether `org` is an organization (`addOrg`); a user's repositories have no organization listing. */
  isOrg(org: string): boolean;
  /**
   * The organization's repositories now (every one, whatever a token reaches), oldest first, with what
   * `GET /orgs/{org}/repos` and `GET /orgs/{org}/properties/values` report of them. Throws for a non-organization.
   */
  orgRepositories(org: string): OrgRepositoryView[];
  /** Replaces a repository's topics (as `GET /orgs/{org}/repos` reports them). */
  setTopics(owner: string, repo: string, topics: readonly string[]): void;
  /** Sets custom property values (merged into the existing ones; `null` unsets, as GitHub reports it). */
  setCustomProperties(owner: string, repo: string, properties: Readonly<Record<string, PropertyValue>>): void;
  /** Stores a file on the default branch (`path` without leading slash), e.g. `.github/workflows/deploy.yml`. */
  setFile(owner: string, repo: string, path: string, content: string): void;
  /** Shorthand for `setFile(owner, repo, ".github/workflows/" + fileName, yaml)`. */
  setWorkflow(owner: string, repo: string, fileName: string, yaml: string): void;
  /** Adds a deployment environment (idempotent, case-insensitive) with its own key pair. */
  addEnvironment(owner: string, repo: string, environment: string): void;
  /** Deletes a deployment environment with its secrets and variables (case-insensitive), as GitHub's
   * DELETE /repos/{owner}/{repo}/environments/{environment_name} does; one that does not exist throws. */
  deleteEnvironment(owner: string, repo: string, environment: string): void;
  /** The repository's environment names, in creation order. */
  environmentNames(owner: string, repo: string): string[];

  /** A scope's current public key. */
  publicKeyAt(scope: SecretScope): RepoPublicKey;
  /** Gives a scope a new key pair; PUTs sealed for the old key id then get 422. */
  rotatePublicKeyAt(scope: SecretScope): RepoPublicKey;
  /**
   * Stores a secret directly, as if written earlier. Organization scopes take who sees it (default: all
   * repositories); passing `access` elsewhere throws.
   */
  setSecretAt(scope: SecretScope, name: string, value: string, access?: OrgAccessSpec): void;
  /** Decrypted value of a secret at a scope, or undefined when absent. */
  secretValueAt(scope: SecretScope, name: string): string | undefined;
  secretMetaAt(scope: SecretScope, name: string): SecretMeta | undefined;
  /** Names of a scope's secrets, sorted. */
  secretNamesAt(scope: SecretScope): string[];
  /** Deletes a secret at a scope; false when it was absent. */
  deleteSecretAt(scope: SecretScope, name: string): boolean;
  /** Who sees an organization secret; undefined when the secret does not exist. */
  orgSecretAccess(org: string, store: SecretStore, name: string): OrgAccessView | undefined;

  /** Stores an Actions variable directly (scopes of store `actions`; organizations take `access`, default all). */
  setVariableAt(scope: SecretScope, name: string, value: string, access?: OrgAccessSpec): void;
  /** A variable's value at a scope, or undefined when absent. */
  variableValueAt(scope: SecretScope, name: string): string | undefined;
  /** Names of a scope's variables, sorted. */
  variableNamesAt(scope: SecretScope): string[];
  /** Who sees an organization variable; undefined when it does not exist. */
  orgVariableAccess(org: string, name: string): OrgAccessView | undefined;

  /**
   * The R1 view: what a job in `job.owner/job.repo` (optionally `job.environment`, for `job.store`, default
   * Actions) would read for a secret name, and from which scope, by GitHub's precedence (environment > repository
   * > organization, the organization's only if visible to the repository). Undefined: the job reads nothing.
   */
  effectiveSecret(job: JobContext, name: string): EffectiveValue | undefined;
  /** Like `effectiveSecret`, for an Actions configuration variable. */
  effectiveVariable(job: Omit<JobContext, "store">, name: string): EffectiveValue | undefined;
  /**
   * Every scope that holds a secret (or, with `"variable"`, an Actions variable) of this name, with its value: every
   * repository store, environment and organization store. For R1 checks after each write ("no key a target still
   * holds is deactivated").
   */
  holdersOf(name: string, what?: "secret" | "variable"): Holding[];
  /**
   * Names of the organization's repositories that see its secret `name` of `store` (or, with `"variable"`, its
   * Actions variable), by its visibility; empty when the organization does not hold it. The readers of an
   * organization target, for R1 checks.
   */
  reposSeeing(org: string, name: string, what: "secret" | "variable", store?: SecretStore): string[];

  /** Shorthands for a repository's Actions secrets (`{ kind: "repository", store: "actions" }`). */
  publicKey(owner: string, repo: string): RepoPublicKey;
  rotateRepoPublicKey(owner: string, repo: string): RepoPublicKey;
  setSecret(owner: string, repo: string, name: string, value: string): void;
  secretValue(owner: string, repo: string, name: string): string | undefined;
  secretMeta(owner: string, repo: string, name: string): SecretMeta | undefined;
  secretNames(owner: string, repo: string): string[];
}

function actions(owner: string, repo: string): SecretScope {
  return { kind: "repository", owner, repo, store: "actions" };
}

/** Implements `GitHubStateApi` over the state; the server extends it. */
export class StateFacade implements GitHubStateApi {
  constructor(protected readonly state: EmulatorState) {}

  addOrg(org: string): void {
    this.state.addOrg(org);
  }
  orgId(org: string): number {
    return this.state.requireOrg(org).id;
  }
  addRepo(owner: string, name: string, options: RepoOptions = {}): void {
    this.state.addRepo(owner, name, options);
  }
  addToken(token: string, grant: TokenGrant): void {
    this.state.addToken(token, grant);
  }
  revokeToken(token: string): void {
    this.state.revokeToken(token);
  }
  archiveRepo(owner: string, repo: string, archived = true): void {
    this.state.requireRepo(owner, repo).archived = archived;
  }
  moveRepo(owner: string, repo: string, to: { readonly owner: string; readonly name: string }): void {
    this.state.moveRepo(owner, repo, to);
  }
  deleteRepo(owner: string, repo: string): void {
    this.state.deleteRepo(owner, repo);
  }
  repoId(owner: string, repo: string): number {
    return this.state.requireRepo(owner, repo).id;
  }
  hasRepo(owner: string, repo: string): boolean {
    return this.state.findRepo(owner, repo) !== undefined;
  }
  isOrg(org: string): boolean {
    return this.state.findOrg(org) !== undefined;
  }
  orgRepositories(org: string): OrgRepositoryView[] {
    return this.state.reposOf(this.state.requireOrg(org).login).map((repo) => ({
      name: repo.name,
      id: repo.id,
      archived: repo.archived,
      topics: [...repo.topics],
      properties: Object.fromEntries(repo.properties),
    }));
  }
  setTopics(owner: string, repo: string, topics: readonly string[]): void {
    this.state.requireRepo(owner, repo).topics = [...topics];
  }
  setCustomProperties(
    owner: string,
    repo: string,
    properties: Readonly<Record<string, PropertyValue>>,
  ): void {
    const record = this.state.requireRepo(owner, repo);
    for (const [name, value] of Object.entries(properties)) record.properties.set(name, value);
  }
  setFile(owner: string, repo: string, path: string, content: string): void {
    this.state.requireRepo(owner, repo).files.set(path.replace(/^\/+/, ""), content);
  }
  setWorkflow(owner: string, repo: string, fileName: string, yaml: string): void {
    this.setFile(owner, repo, `.github/workflows/${fileName}`, yaml);
  }
  addEnvironment(owner: string, repo: string, environment: string): void {
    this.state.addEnvironment(this.state.requireRepo(owner, repo), environment);
  }
  deleteEnvironment(owner: string, repo: string, environment: string): void {
    const record = this.state.requireRepo(owner, repo);
    this.state.requireEnvironment(record, environment);
    record.environments.delete(environment.toLowerCase());
  }
  environmentNames(owner: string, repo: string): string[] {
    return [...this.state.requireRepo(owner, repo).environments.values()].map(
      (environment) => environment.name,
    );
  }

  publicKeyAt(scope: SecretScope): RepoPublicKey {
    return this.state.requireBoxAt(scope).publicKey();
  }
  rotatePublicKeyAt(scope: SecretScope): RepoPublicKey {
    return this.state.requireBoxAt(scope).rotate();
  }
  setSecretAt(scope: SecretScope, name: string, value: string, access?: OrgAccessSpec): void {
    const box = this.state.requireBoxAt(scope);
    if (scope.kind === "organization") {
      const org = this.state.requireOrg(scope.org);
      org.secretAccess[scope.store].set(name.toUpperCase(), this.#access(org, access));
    } else if (access !== undefined) {
      throw new Error(
        `github-emulator: ${scopeLabel(scope)} is not an organization; access applies to those only`,
      );
    }
    box.put(name, value, this.state.stamp());
  }
  secretValueAt(scope: SecretScope, name: string): string | undefined {
    return this.state.requireBoxAt(scope).value(name);
  }
  secretMetaAt(scope: SecretScope, name: string): SecretMeta | undefined {
    return this.state.requireBoxAt(scope).meta(name);
  }
  secretNamesAt(scope: SecretScope): string[] {
    return this.state
      .requireBoxAt(scope)
      .list()
      .map((meta) => meta.name);
  }
  deleteSecretAt(scope: SecretScope, name: string): boolean {
    if (scope.kind === "organization") {
      this.state.requireOrg(scope.org).secretAccess[scope.store].delete(name.toUpperCase());
    }
    return this.state.requireBoxAt(scope).delete(name);
  }
  orgSecretAccess(org: string, store: SecretStore, name: string): OrgAccessView | undefined {
    const access = this.state.requireOrg(org).secretAccess[store].get(name.toUpperCase());
    return access === undefined ? undefined : this.#view(access);
  }

  setVariableAt(scope: SecretScope, name: string, value: string, access?: OrgAccessSpec): void {
    const problem = variableNameProblem(name);
    if (problem !== undefined) throw new Error(`github-emulator: ${problem}`);
    const book = this.state.requireVariablesAt(scope);
    if (scope.kind === "organization") {
      const org = this.state.requireOrg(scope.org);
      org.variableAccess.set(name.toUpperCase(), this.#access(org, access));
    } else if (access !== undefined) {
      throw new Error(
        `github-emulator: ${scopeLabel(scope)} is not an organization; access applies to those only`,
      );
    }
    book.set(name, value, this.state.stamp());
  }
  variableValueAt(scope: SecretScope, name: string): string | undefined {
    return this.state.requireVariablesAt(scope).get(name)?.value;
  }
  variableNamesAt(scope: SecretScope): string[] {
    return this.state
      .requireVariablesAt(scope)
      .list()
      .map((variable) => variable.name);
  }
  orgVariableAccess(org: string, name: string): OrgAccessView | undefined {
    const access = this.state.requireOrg(org).variableAccess.get(name.toUpperCase());
    return access === undefined ? undefined : this.#view(access);
  }

  effectiveSecret(job: JobContext, name: string): EffectiveValue | undefined {
    return effectiveSecret(this.state, job, name);
  }
  effectiveVariable(job: Omit<JobContext, "store">, name: string): EffectiveValue | undefined {
    return effectiveVariable(this.state, job, name);
  }
  holdersOf(name: string, what: "secret" | "variable" = "secret"): Holding[] {
    const holdings: Holding[] = [];
    const read = (scope: SecretScope) =>
      what === "secret"
        ? this.state.boxAt(scope)?.value(name)
        : scopeStore(scope) === "actions"
          ? this.state.requireVariablesAt(scope).get(name)?.value
          : undefined;
    for (const scope of this.state.allScopes()) {
      const value = read(scope);
      if (value !== undefined) holdings.push({ scope, value });
    }
    return holdings;
  }

  reposSeeing(
    org: string,
    name: string,
    what: "secret" | "variable",
    store: SecretStore = "actions",
  ): string[] {
    const record = this.state.findOrg(org);
    if (record === undefined) return [];
    const access =
      what === "secret"
        ? record.secretAccess[store].get(name.toUpperCase())
        : record.variableAccess.get(name.toUpperCase());
    if (access === undefined) return [];
    return this.state
      .reposOf(record.login)
      .filter((repo) => visibleTo(access, repo))
      .map((repo) => repo.name);
  }

  publicKey(owner: string, repo: string): RepoPublicKey {
    return this.publicKeyAt(actions(owner, repo));
  }
  rotateRepoPublicKey(owner: string, repo: string): RepoPublicKey {
    return this.rotatePublicKeyAt(actions(owner, repo));
  }
  setSecret(owner: string, repo: string, name: string, value: string): void {
    this.setSecretAt(actions(owner, repo), name, value);
  }
  secretValue(owner: string, repo: string, name: string): string | undefined {
    return this.secretValueAt(actions(owner, repo), name);
  }
  secretMeta(owner: string, repo: string, name: string): SecretMeta | undefined {
    return this.secretMetaAt(actions(owner, repo), name);
  }
  secretNames(owner: string, repo: string): string[] {
    return this.secretNamesAt(actions(owner, repo));
  }

  /** An `OrgAccessSpec` resolved to repository IDs of the organization (names it does not have throw). */
  #access(org: OrgRecord, spec: OrgAccessSpec | undefined): OrgAccess {
    const visibility = spec?.visibility ?? "all";
    if (spec?.repositories !== undefined && visibility !== "selected") {
      throw new Error(
        `github-emulator: repositories apply to visibility "selected" only, not "${visibility}"`,
      );
    }
    const selected = new Set(
      (spec?.repositories ?? []).map((name) => this.state.requireRepo(org.login, name).id),
    );
    return { visibility, selected };
  }

  #view(access: OrgAccess): OrgAccessView {
    const repos = [...access.selected]
      .sort((a, b) => a - b)
      .map((id) => this.state.repoById(id))
      .filter((repo) => repo !== undefined);
    return {
      visibility: access.visibility,
      repositories: repos.map((repo) => `${repo.owner}/${repo.name}`),
      repositoryIds: repos.map((repo) => repo.id),
    };
  }
}
