import { composePaginateRest } from "@octokit/plugin-paginate-rest";
import { NAME_PATTERN } from "../config/list-entry-schema.ts";
import { type RepoRef, repoLabel } from "../domain/repo.ts";
import type { OrganizationTarget, SecretStore } from "../domain/target.ts";
import type { WorkflowFile } from "../domain/workflow.ts";
import { GitHubAccessError } from "../errors.ts";
import type {
  InventoryUsage,
  OrganizationRepositories,
  SecretInventory,
  SecretScope,
  UnseenRepositories,
} from "../ports.ts";
import { type AccessNeed, PERMISSIONS_DOC } from "./access-need.ts";
import type { GitHubClient } from "./client.ts";
import {
  API_URL_FIX,
  type GitHubCall,
  hasStatus,
  isHttpFailure,
  toGitHubAccessError,
} from "./to-github-access-error.ts";
import { UnlistedOwnerError } from "./unlisted-owner-error.ts";
import { parseWorkflow } from "./workflow-jobs.ts";

export interface GitHubSecretInventoryOptions {
  /** The client for an owner's repositories (a personal token: the same client for every owner). */
  readonly clientFor: (owner: string) => Promise<GitHubClient>;
  /** Display name of the Secrets Manager secret holding the token, named in fixes. */
  readonly tokenSecretName: string;
  /**
   * GitHub App mode: the installation's `repository_selection` on an owner ("all" or "selected"), known once
   * `clientFor(owner)` resolved. Undefined (or answering undefined): a personal token.
   */
  readonly repositorySelection?: (owner: string) => Promise<"all" | "selected" | undefined>;
}

/** The directory GitHub reads workflow files from. https://docs.github.com/en/actions/writing-workflows/about-workflows */
const WORKFLOWS_DIR = ".github/workflows";
/** GitHub's largest page for secrets and repositories; variables allow at most 30 a page. */
const PAGE = 100;
const VARIABLES_PAGE = 30;
/** How many times a paged listing is read before its pages' disagreeing counts fail the call (`#list`). */
const LIST_ATTEMPTS = 3;
/**
 * The most workflow files of one repository the check reads (each is a request; GitHub's contents API lists up to
 * 1,000 files of a directory, https://docs.github.com/en/rest/repos/contents#get-repository-content). Whoever may
 * push to a repository decides how many there are; the jobs of the files not read count as unknown.
 */
export const MAX_WORKFLOW_FILES = 100;

/**
 * The shadowing check's read-only view of GitHub through the REST API: names of secrets and variables, never
 * values. Listings page through octokit's `composePaginateRest` (every page counts as a request); each answer's
 * `x-ratelimit-remaining` and `x-ratelimit-reset` are kept for `usage()`, so the check can stop before the
 * primary rate limit runs out.
 * https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#checking-the-status-of-your-rate-limit
 * https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api
 */
export class GitHubSecretInventory implements SecretInventory {
  readonly #clientFor: (owner: string) => Promise<GitHubClient>;
  readonly #tokenSecretName: string;
  readonly #repositorySelection: (owner: string) => Promise<"all" | "selected" | undefined>;
  #requests = 0;
  #remaining: number | undefined;
  #resetAt: Date | undefined;

  constructor(options: GitHubSecretInventoryOptions) {
    this.#clientFor = options.clientFor;
    this.#tokenSecretName = options.tokenSecretName;
    this.#repositorySelection = options.repositorySelection ?? (async () => undefined);
  }

  /**
   * https://docs.github.com/en/rest/deployments/environments#list-environments. Environments exist in private
   * repositories only on some plans (same page), and GitHub does not document the answer for one without them: a
   * 404 counts as no environments. The repository itself is known to exist (preflight checked it, or the
   * organization's listing named it), and a token that may not list environments gets 403, which fails.
   */
  async environments(repo: RepoRef): Promise<readonly string[]> {
    const client = await this.#clientFor(repo.owner);
    const items = await this.#list(
      this.#call("GET environments", repo, readNeed(repoLabel(repo), ["Actions"], "its environments")),
      () =>
        composePaginateRest.iterator(client, "GET /repos/{owner}/{repo}/environments", {
          owner: repo.owner,
          repo: repo.name,
          per_page: PAGE,
        }),
      { emptyOn404: true },
    );
    return namesOf(items);
  }

  /**
   * Secrets: https://docs.github.com/en/rest/actions/secrets#list-repository-secrets,
   * #list-environment-secrets and #list-organization-secrets; Dependabot's
   * https://docs.github.com/en/rest/dependabot/secrets#list-repository-secrets (and organization); Codespaces'
   * https://docs.github.com/en/rest/codespaces/repository-secrets#list-repository-secrets and
   * https://docs.github.com/en/rest/codespaces/organization-secrets#list-organization-secrets.
   * Variables (Actions only; Dependabot and Codespaces have none: an empty list):
   * https://docs.github.com/en/rest/actions/variables#list-repository-variables, #list-environment-variables,
   * #list-organization-variables.
   */
  async names(scope: SecretScope, kind: "secret" | "variable"): Promise<readonly string[]> {
    const route = listRoute(scope, kind);
    if (route === undefined) return [];
    const owner = scope.kind === "organization" ? scope.owner : scope.repo.owner;
    const client = await this.#clientFor(owner);
    const per_page = kind === "secret" ? PAGE : VARIABLES_PAGE;
    const params =
      scope.kind === "organization"
        ? { org: owner, per_page }
        : {
            owner,
            repo: scope.repo.name,
            per_page,
            ...(scope.kind === "environment" ? { environment_name: scope.environment } : {}),
          };
    const repo = scope.kind === "organization" ? undefined : scope.repo;
    const permission =
      kind === "variable"
        ? "Variables"
        : SECRET_PERMISSIONS[scope.kind === "environment" ? "actions" : scope.store];
    // An environment's secrets and variables take "Environments" too (each endpoint's "Fine-grained access tokens"):
    // https://docs.github.com/en/rest/actions/secrets#list-environment-secrets
    // https://docs.github.com/en/rest/actions/variables#list-environment-variables
    const permissions = scope.kind === "environment" ? ["Environments", permission] : [permission];
    const call = this.#call(
      `GET ${describeScope(scope)} ${kind}s`,
      repo,
      repo === undefined ? undefined : readNeed(repoLabel(repo), permissions, `the names of its ${kind}s`),
    );
    return namesOf(await this.#list(call, () => composePaginateRest.iterator(client, route, params)));
  }

  /**
   * Selected: the target's names (no request). All and private: the organization's repositories, every page
   * (https://docs.github.com/en/rest/repos/repos#list-organization-repositories); for `private`, those that are
   * not public. GitHub documents `private` as "private repositories"; an internal repository is not public
   * either, and counting it can only report a copy more, never miss one.
   * https://docs.github.com/en/rest/actions/secrets#create-or-update-an-organization-secret
   */
  async repositoriesSeeing(target: OrganizationTarget): Promise<OrganizationRepositories> {
    if (target.visibility === "selected") {
      return { repos: target.selectedRepositories.map((name) => ({ owner: target.owner, name })) };
    }
    const client = await this.#clientFor(target.owner);
    const call: GitHubCall = {
      ...this.#call("GET organization repositories"),
      repo: `organization ${target.owner}`,
    };
    const items = await this.#list(call, () =>
      composePaginateRest.iterator(client, "GET /orgs/{org}/repos", {
        org: target.owner,
        type: "all",
        per_page: PAGE,
      }),
    );
    const repos: RepoRef[] = [];
    let publicCount = 0;
    for (const item of items) {
      const {
        name,
        visibility,
        private: isPrivate,
      } = item as {
        name?: unknown;
        visibility?: unknown;
        private?: unknown;
      };
      if (typeof name !== "string") continue;
      if (!NAME_PATTERN.test(name)) {
        // A name GitHub cannot give a repository ("..", one with "/") would become a request path of its own.
        throw new GitHubAccessError(
          `GitHub answered GET organization repositories of ${target.owner} with a repository name GitHub does not allow (${JSON.stringify(name.slice(0, 100))}).`,
          { repo: `organization ${target.owner}`, fix: API_URL_FIX },
        );
      }
      const isPublic = typeof visibility === "string" ? visibility === "public" : isPrivate !== true;
      if (isPublic) publicCount++;
      if (target.visibility === "all" || !isPublic) repos.push({ owner: target.owner, name });
    }
    const unseen = await this.#unseen(target, client, {
      listed: repos.length,
      public: publicCount,
      private: items.length - publicCount,
    });
    return unseen === undefined ? { repos } : { repos, unseen };
  }

  /**
   * Whether the repositories listed are every one the secret reaches.
   * - GitHub App: the installation's `repository_selection` ("all" or "selected"; GitHub App mode reads it when it
   *   finds the installation): a token minted for an installation on selected repositories lists only those.
   *   https://docs.github.com/en/rest/apps/apps#get-an-organization-installation-for-the-authenticated-app
   * - Personal token: the organization's counts, `GET /orgs/{org}`: `public_repos` always, `total_private_repos`
   *   only to an owner ("To see the full details about an organization, the authenticated user must be an
   *   organization owner"; a classic token needs `admin:org`). Fewer listed than counted: repositories left out
   *   (a fine-grained token limited to "Only select repositories", or a user who cannot see some). No private
   *   count: the check cannot tell.
   *   https://docs.github.com/en/rest/orgs/orgs#get-an-organization
   */
  async #unseen(
    target: OrganizationTarget,
    client: GitHubClient,
    listed: { readonly listed: number; readonly public: number; readonly private: number },
  ): Promise<UnseenRepositories | undefined> {
    const selection = await this.#repositorySelection(target.owner);
    if (selection === "all") return undefined;
    if (selection === "selected") {
      return {
        certain: true,
        reason: `The GitHub App is installed on selected repositories of ${target.owner} only, and sees no other.`,
        fix: `Let the App see every repository: an owner of ${target.owner} opens Settings → GitHub Apps → the App → Configure, and under Repository access chooses "All repositories". Or, if the secret need not reach every repository, list it with "Visibility": "selected" and the repositories it should reach. Then run Rotate again.`,
      };
    }
    const org = await this.#organization(target.owner, client);
    const totalPublic = typeof org.public_repos === "number" ? org.public_repos : undefined;
    const totalPrivate = typeof org.total_private_repos === "number" ? org.total_private_repos : undefined;
    const tokenFix = `Give the token every repository of ${target.owner}: a fine-grained token's Repository access "All repositories" (its owner must be able to see them all, e.g. an organization owner), a classic token of a user who sees them all. Or, if the secret need not reach every repository, list it with "Visibility": "selected" and the repositories it should reach.`;
    // Public repositories do not see a secret of visibility private.
    const missedPublic =
      target.visibility === "all" && totalPublic !== undefined && listed.public < totalPublic;
    const missedPrivate = totalPrivate !== undefined && listed.private < totalPrivate;
    if (missedPublic || missedPrivate) {
      const reaches =
        target.visibility === "all" && totalPrivate !== undefined && totalPublic !== undefined
          ? totalPublic + totalPrivate
          : target.visibility === "private"
            ? totalPrivate
            : undefined;
      return {
        certain: true,
        ...(reaches === undefined ? {} : { total: reaches }),
        reason: `The token lists ${listed.public} public and ${listed.private} other repositories of ${target.owner}, and GitHub counts ${totalPublic ?? "?"} public and ${totalPrivate ?? "an unknown number of"} private ones.`,
        fix: `${tokenFix} Then run Rotate again.`,
      };
    }
    if (totalPrivate === undefined) {
      return {
        certain: false,
        reason: `GitHub shows how many private repositories ${target.owner} has only to an organization owner (a classic token with the admin:org scope), so the check cannot tell whether the token sees every one.`,
        fix: `If the token does not see every repository, ${tokenFix.charAt(0).toLowerCase()}${tokenFix.slice(1)} Otherwise nothing is to be done.`,
      };
    }
    return undefined;
  }

  /** `GET /orgs/{org}`: https://docs.github.com/en/rest/orgs/orgs#get-an-organization */
  async #organization(org: string, client: GitHubClient): Promise<Record<string, unknown>> {
    const call: GitHubCall = { ...this.#call("GET organization"), repo: `organization ${org}` };
    this.#requests++;
    try {
      const response = await client.request("GET /orgs/{org}", { org });
      this.#observe(response.headers);
      return isRecord(response.data) ? response.data : {};
    } catch (error) {
      if (!isHttpFailure(error)) throw error;
      this.#observe(error.response?.headers);
      throw toGitHubAccessError(error, call);
    }
  }

  /**
   * The files of `.github/workflows` ending in `.yml` or `.yaml`, each read and parsed (the first MAX_WORKFLOW_FILES
   * by path; the rest as one unreadable entry); none when the directory does not exist. A token that may not read contents (a fine-grained token without "Contents: Read-only") gets
   * one unreadable entry instead of an error: the copies are still found, only their readers stay unknown.
   * https://docs.github.com/en/rest/repos/contents#get-repository-content
   */
  async workflows(repo: RepoRef): Promise<readonly WorkflowFile[]> {
    const listing = await this.#content(repo, WORKFLOWS_DIR, undefined);
    if (listing.kind === "missing") return [];
    if (listing.kind === "refused") return [unreadable(WORKFLOWS_DIR, listing.problem)];
    if (!Array.isArray(listing.data)) return [];
    const paths = listing.data
      .filter((entry) => isRecord(entry) && entry.type === "file" && typeof entry.path === "string")
      .map((entry) => (entry as { path: string }).path)
      .filter((path) => /\.ya?ml$/i.test(path))
      .sort();
    const files: WorkflowFile[] = [];
    for (const path of paths.slice(0, MAX_WORKFLOW_FILES)) {
      const file = await this.#content(repo, path, undefined);
      files.push(
        file.kind === "found"
          ? workflowOf(path, file.data)
          : unreadable(
              path,
              file.kind === "refused" ? file.problem : "it could not be read (GitHub answered 404)",
            ),
      );
    }
    const left = paths.length - MAX_WORKFLOW_FILES;
    if (left > 0) {
      files.push(
        unreadable(
          WORKFLOWS_DIR,
          `${left.toLocaleString("en-US")} more workflow file${left === 1 ? " was" : "s were"} not read (the check reads at most ${MAX_WORKFLOW_FILES} of a repository's)`,
        ),
      );
    }
    return files;
  }

  /**
   * One file through the contents API; undefined when GitHub answers 404, or refuses to show it, or when the run has
   * no client for the repository's owner (a GitHub App has tokens only for the owners the list names: a reusable
   * workflow of another owner cannot be read, see UnlistedOwnerError).
   */
  async workflow(repo: RepoRef, path: string, ref: string | undefined): Promise<WorkflowFile | undefined> {
    let file: ContentAnswer;
    try {
      file = await this.#content(repo, path, ref);
    } catch (error) {
      if (error instanceof UnlistedOwnerError) return undefined;
      throw error;
    }
    return file.kind === "found" ? workflowOf(path, file.data) : undefined;
  }

  usage(): InventoryUsage {
    return { requests: this.#requests, remaining: this.#remaining, resetAt: this.#resetAt };
  }

  /**
   * GET contents: the answer, `missing` on 404 (no such file, or a repository the token cannot see), `refused` on
   * 403 (the token may not read contents). A rate limit the client gave up waiting for still throws (transient).
   */
  async #content(repo: RepoRef, path: string, ref: string | undefined): Promise<ContentAnswer> {
    const client = await this.#clientFor(repo.owner);
    const call = this.#call(`GET contents ${path}`, repo);
    this.#requests++;
    try {
      const response = await client.request("GET /repos/{owner}/{repo}/contents/{path}", {
        owner: repo.owner,
        repo: repo.name,
        path,
        ...(ref === undefined ? {} : { ref }),
      });
      this.#observe(response.headers);
      return { kind: "found", data: response.data };
    } catch (error) {
      if (!isHttpFailure(error)) throw error;
      this.#observe(error.response?.headers);
      if (hasStatus(error, 404)) return { kind: "missing" };
      const mapped = toGitHubAccessError(error, call);
      if (hasStatus(error, 403) && mapped.fault !== "transient") {
        return {
          kind: "refused",
          problem: `GitHub refused to show it (403): a fine-grained token needs "Contents: Read-only" for the check to name the jobs`,
        };
      }
      throw mapped;
    }
  }

  /**
   * Every item of a paged listing (`pages` starts it over), read again when the pages disagree with the count
   * GitHub gives with them: GitHub pages by offset
   * (https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api) and documents no snapshot
   * across pages, so an item deleted or created between two page requests shifts the others, and one can be read
   * twice or not at all. A listing whose answers carry `total_count` (environments, secrets, variables) is taken
   * when every page gave the same count and that many items were read, or when two readings in a row gave the
   * same items and counts (the list held still: GitHub documents no case where its count differs from the items,
   * and if one exists it must not stop every rotation). Otherwise, after LIST_ATTEMPTS readings, a transient
   * GitHubAccessError (the shadowing check stops there, and the next invocation reads it again). Listings
   * without a count (an organization's repositories) are taken as read.
   */
  async #list(
    call: GitHubCall,
    pages: () => AsyncIterable<Page>,
    options: { readonly emptyOn404?: boolean } = {},
  ): Promise<unknown[]> {
    let previous:
      | { readonly items: number; readonly totals: readonly number[]; readonly text: string }
      | undefined;
    for (let attempt = 1; attempt <= LIST_ATTEMPTS; attempt++) {
      const items: unknown[] = [];
      const totals: number[] = [];
      try {
        for await (const page of pages()) {
          this.#requests++;
          this.#observe(page.headers);
          const data = Array.isArray(page.data) ? page.data : [];
          items.push(...data);
          // The paginate plugin keeps GitHub's count on the array it returns (its normalization of list answers).
          const total = (data as { total_count?: unknown }).total_count;
          if (typeof total === "number") totals.push(total);
        }
      } catch (error) {
        if (!isHttpFailure(error)) throw error;
        this.#requests++;
        this.#observe(error.response?.headers);
        if (options.emptyOn404 === true && hasStatus(error, 404)) return [];
        throw toGitHubAccessError(error, call);
      }
      if (totals.every((total) => total === items.length)) return items;
      const reading = { items: items.length, totals, text: JSON.stringify([items, totals]) };
      if (previous?.text === reading.text) return items;
      previous = reading;
    }
    const where = call.repo === undefined ? "" : ` of ${call.repo}`;
    throw new GitHubAccessError(
      `GitHub's answers to ${call.action}${where} changed while they were read, ${LIST_ATTEMPTS} times in a row (the last time ${previous?.items} items in pages that counted ${[...new Set(previous?.totals)].join(", ")}), so it is not known whether a copy of the key is among them. Nothing was changed.`,
      {
        ...(call.repo === undefined ? {} : { repo: call.repo }),
        fault: "transient",
        fix: "Nothing to do: the next invocation reads the list again. If this keeps happening, something creates or deletes these items all the time (for example an environment for every pull request); the check goes on once the list holds still between two page requests.",
      },
    );
  }

  #observe(headers: Record<string, unknown> | undefined): void {
    const remaining = Number(headers?.["x-ratelimit-remaining"]);
    const reset = Number(headers?.["x-ratelimit-reset"]);
    if (headers?.["x-ratelimit-remaining"] !== undefined && Number.isFinite(remaining))
      this.#remaining = remaining;
    if (headers?.["x-ratelimit-reset"] !== undefined && Number.isFinite(reset))
      this.#resetAt = new Date(reset * 1000);
  }

  #call(action: string, repo?: RepoRef, need?: AccessNeed): GitHubCall {
    return {
      action,
      tokenSecretName: this.#tokenSecretName,
      ...(repo === undefined ? {} : { repo: repoLabel(repo) }),
      ...(need === undefined ? {} : { need }),
    };
  }
}

/** The fine-grained repository permission that lets a token read a store's secrets. */
const SECRET_PERMISSIONS = {
  actions: "Secrets",
  dependabot: "Dependabot secrets",
  codespaces: "Codespaces secrets",
} as const satisfies Readonly<Record<SecretStore, string>>;

/**
 * What reading `what` of `repo` needs, for the fixes of GitHub's refusals: the check reads more than the rotation
 * writes (the environments' list needs "Actions"). https://docs.github.com/en/rest/deployments/environments#list-environments
 */
function readNeed(repo: string, permissions: readonly string[], what: string): AccessNeed {
  const machineUser = (login: string | undefined) =>
    login === undefined ? "the machine user" : `the machine user ${login}`;
  const named = permissions.map((permission) => `"${permission}"`).join(" and ");
  const word = permissions.length === 1 ? "permission" : "permissions";
  return {
    what,
    where: repo,
    classicScope: "repo",
    needs: (login) =>
      `The check for copies of the key's secrets that would hide it reads ${what} of ${repo}: ${machineUser(login)} needs access to it, a fine-grained token the repository ${word} ${named} (Read-only at least), a classic token the "repo" scope (see ${PERMISSIONS_DOC}, and README, section Shadowing).`,
    fineGrained: `under Repository access include ${repo}, and under Repository permissions set ${named} to "Read-only" at least`,
    role: (login) => `Give ${machineUser(login)} access to ${repo}`,
  };
}

type ContentAnswer =
  | { readonly kind: "found"; readonly data: unknown }
  | { readonly kind: "missing" }
  | { readonly kind: "refused"; readonly problem: string };

/** A file from the contents API (`content` in base64), parsed. Files over 1 MB come without content. */
function workflowOf(path: string, data: unknown): WorkflowFile {
  if (!isRecord(data) || data.type !== "file") return unreadable(path, "it is not a file");
  if (data.encoding !== "base64" || typeof data.content !== "string") {
    return unreadable(path, "GitHub sent it without its content");
  }
  return parseWorkflow(path, Buffer.from(data.content, "base64").toString("utf8"));
}

function unreadable(path: string, problem: string): WorkflowFile {
  return { path, jobs: [], triggers: [], inputDefaults: {}, problem };
}

interface Page {
  readonly data: unknown;
  readonly headers: Record<string, unknown>;
}

function namesOf(items: readonly unknown[]): string[] {
  return items
    .map((item) => (isRecord(item) ? item.name : undefined))
    .filter((name): name is string => typeof name === "string" && name !== "");
}

/** The listing of a scope's secrets or variables; undefined where there are none (Dependabot, Codespaces variables). */
function listRoute(scope: SecretScope, kind: "secret" | "variable"): string | undefined {
  const what = kind === "secret" ? "secrets" : "variables";
  switch (scope.kind) {
    case "environment":
      return `GET /repos/{owner}/{repo}/environments/{environment_name}/${what}`;
    case "repository":
      if (kind === "variable" && scope.store !== "actions") return undefined;
      return `GET /repos/{owner}/{repo}/${scope.store}/${what}`;
    case "organization":
      if (kind === "variable" && scope.store !== "actions") return undefined;
      return `GET /orgs/{org}/${scope.store}/${what}`;
  }
}

function describeScope(scope: SecretScope): string {
  switch (scope.kind) {
    case "environment":
      return `environment ${scope.environment}`;
    case "repository":
      return `repository ${scope.store}`;
    case "organization":
      return `organization ${scope.store}`;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}
