/**
 * An in-memory SecretInventory for unit tests of the shadowing check: repositories with their environments,
 * secret and variable names per scope, and workflow files (YAML text, read with the product's own parser). Every
 * method call counts as one request (a workflow listing as one plus one per file), like the GitHub adapter's
 * unpaged answers.
 */
import { type RepoRef, repoSlug } from "../../src/domain/repo.ts";
import type { OrganizationTarget, SecretStore } from "../../src/domain/target.ts";
import type { WorkflowFile } from "../../src/domain/workflow.ts";
import { GitHubAccessError } from "../../src/errors.ts";
import { parseWorkflow } from "../../src/github/workflow-jobs.ts";
import type {
  InventoryUsage,
  OrganizationRepositories,
  SecretInventory,
  SecretScope,
  UnseenRepositories,
} from "../../src/ports.ts";

export interface RepoSpec {
  readonly private?: boolean;
  /** Environment name → the names of its secrets and variables. */
  readonly environments?: Record<string, { secrets?: string[]; variables?: string[] }>;
  /** The repository's own secrets per store. */
  readonly secrets?: Partial<Record<SecretStore, string[]>>;
  /** The repository's own Actions variables. */
  readonly variables?: string[];
  /** Path under the repository (`.github/workflows/x.yml`) → YAML text. */
  readonly workflows?: Record<string, string>;
}

export class MemoryInventory implements SecretInventory {
  readonly #repos = new Map<string, { ref: RepoRef; spec: RepoSpec }>();
  readonly #failing = new Map<string, GitHubAccessError>();
  readonly #unseen = new Map<string, UnseenRepositories>();
  /** Every call, as `method target`, for tests that count what was asked. */
  readonly calls: string[] = [];
  /** GitHub's `x-ratelimit-remaining` as the next answer would report it; undefined: GitHub sends none. */
  remaining: number | undefined;
  resetAt: Date | undefined;
  /**
   * Called with each call as it is counted, before it is answered: to let time pass per request on an injected
   * clock, or to fail one call by throwing (the call then throws that error).
   */
  onCall: ((call: string) => void) | undefined;

  /** Adds a repository (`owner/name`). */
  repo(slug: string, spec: RepoSpec = {}): this {
    const [owner, name] = slug.split("/") as [string, string];
    this.#repos.set(slug.toLowerCase(), { ref: { owner, name }, spec });
    return this;
  }

  /** Every later call about `slug` fails with `error`. */
  fail(slug: string, error: GitHubAccessError): this {
    this.#failing.set(slug.toLowerCase(), error);
    return this;
  }

  async environments(repo: RepoRef): Promise<readonly string[]> {
    return Object.keys(this.#spec(repo, "environments").environments ?? {});
  }

  async names(scope: SecretScope, kind: "secret" | "variable"): Promise<readonly string[]> {
    if (scope.kind === "organization") {
      this.#count(`names ${scope.owner} ${kind}`);
      return [];
    }
    const where = scope.kind === "environment" ? `environment ${scope.environment}` : scope.kind;
    const spec = this.#spec(scope.repo, `names ${where} ${kind}`);
    if (scope.kind === "environment") {
      // The name as listed first; else ignoring case, as GitHub does for names it would take as the same.
      const wanted = scope.environment.toLowerCase();
      const entries = Object.entries(spec.environments ?? {});
      const [, environment] =
        entries.find(([name]) => name === scope.environment) ??
        entries.find(([name]) => name.toLowerCase() === wanted) ??
        [];
      return (kind === "secret" ? environment?.secrets : environment?.variables) ?? [];
    }
    return (kind === "secret" ? spec.secrets?.[scope.store] : spec.variables) ?? [];
  }

  /** Every later listing of `owner`'s repositories says the credential may not see them all. */
  unseen(owner: string, unseen: UnseenRepositories): this {
    this.#unseen.set(owner.toLowerCase(), unseen);
    return this;
  }

  async repositoriesSeeing(target: OrganizationTarget): Promise<OrganizationRepositories> {
    this.#count(`repositoriesSeeing ${target.owner}`);
    if (target.visibility === "selected") {
      return { repos: target.selectedRepositories.map((name) => ({ owner: target.owner, name })) };
    }
    const repos = [...this.#repos.values()]
      .filter(({ ref }) => ref.owner.toLowerCase() === target.owner.toLowerCase())
      .filter(({ spec }) => target.visibility === "all" || spec.private === true)
      .map(({ ref }) => ref);
    const unseen = this.#unseen.get(target.owner.toLowerCase());
    return unseen === undefined ? { repos } : { repos, unseen };
  }

  async workflows(repo: RepoRef): Promise<readonly WorkflowFile[]> {
    const files = Object.entries(this.#spec(repo, "workflows").workflows ?? {});
    for (const [path] of files) this.#count(`workflow ${repoSlug(repo)} ${path}`);
    return files.map(([path, text]) => parseWorkflow(path, text));
  }

  async workflow(repo: RepoRef, path: string, ref: string | undefined): Promise<WorkflowFile | undefined> {
    this.#count(`workflow ${repoSlug(repo)} ${path}@${ref ?? ""}`);
    const text = this.#repos.get(repoSlug(repo))?.spec.workflows?.[path];
    return text === undefined ? undefined : parseWorkflow(path, text);
  }

  usage(): InventoryUsage {
    return { requests: this.calls.length, remaining: this.remaining, resetAt: this.resetAt };
  }

  #spec(repo: RepoRef, what: string): RepoSpec {
    this.#count(`${what} ${repoSlug(repo)}`);
    const failure = this.#failing.get(repoSlug(repo));
    if (failure) throw failure;
    const found = this.#repos.get(repoSlug(repo));
    if (!found) {
      throw new GitHubAccessError(`GitHub answered 404 for ${repoSlug(repo)}.`, {
        status: 404,
        repo: repoSlug(repo),
        fix: "Check the repository name.",
      });
    }
    return found.spec;
  }

  #count(call: string): void {
    this.calls.push(call);
    if (this.remaining !== undefined) this.remaining--;
    this.onCall?.(call);
  }
}
