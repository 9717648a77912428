import { type OrganizationTarget, targetLabel } from "../domain/target.ts";
import { GitHubAccessError } from "../errors.ts";

/**
 * An organization secret with visibility `selected` is written with its repositories' IDs (`selected_repository_ids`,
 * https://docs.github.com/en/rest/actions/secrets#create-or-update-an-organization-secret), while the list names
 * them. This resolves the names with as few requests as GitHub allows, resumably:
 *
 * - many names: the organization's repositories are listed, 100 a page (`GET /orgs/{org}/repos`, `per_page` at most
 *   100: https://docs.github.com/en/rest/repos/repos#list-organization-repositories), and matched by name ignoring
 *   case (GitHub's repository names are case-insensitive); 10,000 selected repositories take 100 requests instead of
 *   10,000. The listing stops as soon as every name is found. With a GitHub App's installation token it lists the
 *   repositories the installation can see, which include every listed one (src/github/app-permissions.ts).
 * - a few names (at most PER_NAME_MAX), and names the whole listing did not show: `GET /repos/{owner}/{repo}` each
 *   (https://docs.github.com/en/rest/repos/repos#get-a-repository), which refuses a missing repository, and one that
 *   moved (GitHub redirects a renamed or transferred repository's old name; redirects are never followed), with its
 *   own message. More unseen names than that are refused at once, without a request each.
 *
 * A rotation resolves once and keeps what it found in the progress object (`RotationState.selectedIds`), so later
 * invocations of the same rotation send no request for it; `stop` ends the work between two requests (the
 * invocation's time budget) and the next invocation continues from the record.
 *
 * GitHub documents no upper bound on the number of `selected_repository_ids` one write sends (neither on that page
 * nor in its OpenAPI description, which gives the array no `maxItems`), so the IDs go in the secret's one PUT.
 */

/** At most this many unresolved names are looked up one by one; more are listed (one request per 100 repositories). */
export const PER_NAME_MAX = 10;

/** What resolving one organization target's selected names has found so far, as the progress object keeps it. */
export interface SelectedIds {
  /** When this rotation began resolving (ISO 8601). */
  readonly at: string;
  /** GitHub's repository ID of each name found, by the name in lower case. */
  readonly found: Readonly<Record<string, number>>;
  /** The next page of the organization's listing to read; left out when no listing is under way. */
  readonly nextPage?: number | undefined;
}

/** One page of an organization's repositories (GitHub's order, `sort=full_name`). */
export interface RepositoryPage {
  readonly repositories: readonly { readonly id: number; readonly name: string }[];
  /** GitHub links no next page. */
  readonly last: boolean;
}

/** Where the names are looked up (the GitHub adapter: src/github/secrets-target.ts). */
export interface SelectedRepositorySource {
  /** Page `page` (from 1) of `GET /orgs/{org}/repos` at 100 a page. */
  organizationRepositories(org: string, page: number): Promise<RepositoryPage>;
  /** `GET /repos/{owner}/{name}`'s ID; throws GitHubAccessError naming the repository (missing, moved, invisible). */
  selectedRepositoryId(target: OrganizationTarget, name: string): Promise<number>;
}

export type SelectedResolution =
  | {
      readonly kind: "done";
      /** The IDs, in the order of the target's names. */
      readonly ids: readonly number[];
      readonly record: SelectedIds;
      /** Requests sent by this call. */
      readonly requests: number;
    }
  | {
      readonly kind: "unfinished";
      readonly record: SelectedIds;
      /** Names resolved so far, of `total`. */
      readonly resolved: number;
      readonly total: number;
      readonly requests: number;
    };

/**
 * Resolves `target`'s selected names, continuing `from` (names it found are not looked up again; a name added to the
 * list since is). `stop` is asked before every request but the first, so each call makes progress; when it answers
 * true the call returns `unfinished` with the record to keep. Throws GitHubAccessError for a name that is not one of
 * the organization's repositories.
 */
export async function resolveSelectedIds(
  target: OrganizationTarget,
  from: SelectedIds | undefined,
  source: SelectedRepositorySource,
  options: { readonly now: Date; readonly stop: () => boolean },
): Promise<SelectedResolution> {
  const wanted = new Map<string, string>();
  for (const name of target.selectedRepositories) wanted.set(name.toLowerCase(), name);
  const found: Record<string, number> = { ...from?.found };
  const at = from?.at ?? options.now.toISOString();
  let requests = 0;
  const missing = () => [...wanted.keys()].filter((name) => !(name in found));
  const unfinished = (nextPage: number | undefined): SelectedResolution => ({
    kind: "unfinished",
    record: { at, found, ...(nextPage === undefined ? {} : { nextPage }) },
    resolved: wanted.size - missing().length,
    total: wanted.size,
    requests,
  });
  const mayRequest = () => requests === 0 || !options.stop();

  let todo = missing();
  if (todo.length > 0 && (from?.nextPage !== undefined || todo.length > PER_NAME_MAX)) {
    const left = new Set(todo);
    for (let page = from?.nextPage ?? 1; ; page++) {
      if (!mayRequest()) return unfinished(page);
      requests++;
      const { repositories, last } = await source.organizationRepositories(target.owner, page);
      for (const { id, name } of repositories) {
        const lower = name.toLowerCase();
        if (left.delete(lower)) found[lower] = id;
      }
      if (last || left.size === 0) break;
    }
    todo = missing();
    if (todo.length > PER_NAME_MAX)
      throw notInOrganization(
        target,
        todo.map((name) => wanted.get(name) ?? name),
      );
  }
  for (const name of todo) {
    if (!mayRequest()) return unfinished(undefined);
    requests++;
    found[name] = await source.selectedRepositoryId(target, wanted.get(name) ?? name);
  }
  const ids = target.selectedRepositories.map((name) => found[name.toLowerCase()] as number);
  // Only the current names are kept: a name removed from the list is forgotten.
  const kept = Object.fromEntries([...wanted.keys()].map((name) => [name, found[name] as number]));
  return { kind: "done", ids, record: { at, found: kept }, requests };
}

/** Names the organization's whole listing did not show, too many to look up one by one. */
function notInOrganization(target: OrganizationTarget, names: readonly string[]): GitHubAccessError {
  const label = targetLabel(target);
  const shown = names.slice(0, 5).join(", ");
  const more = names.length > 5 ? ` and ${names.length - 5} more` : "";
  return new GitHubAccessError(
    `${names.length} repositories selected for ${label} are not among the repositories of ${target.owner} that the token can see: ${shown}${more}. Nothing was changed.`,
    {
      repo: label,
      fix: `Correct the names in the entry's Repositories (a renamed or transferred repository has a new name or owner), remove those that no longer exist, or give the token access to them (a GitHub App: install it on those repositories). Then run Rotate again.`,
    },
  );
}
