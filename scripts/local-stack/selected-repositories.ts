/**
 * The repositories a list's dynamic selections (Topic / Property entries) pick on the emulated GitHub, resolved
 * the way the function's run resolves them: the product's `resolveSelections` (owner allow list first, each
 * repository once, A to Z) and `mergeSelections` (a listed entry wins over a selection of the same repository and
 * store, the first selection over later ones, no more than MAX_REPOS targets), over a RepositoryFinder that reads
 * the emulator's state directly instead of through requests, so that the stack fixture's R1 check neither spends
 * the emulated rate limit nor shows in the access log. It matches as src/github/repository-finder.ts does, by
 * GitHub's rules: topics ignoring case, property names ignoring case, values exactly (a multi-select property by
 * one of its values), archived repositories left out.
 * https://docs.github.com/en/rest/repos/repos#list-organization-repositories
 * https://docs.github.com/en/rest/orgs/custom-properties#list-custom-property-values-for-organization-repositories
 */
import { MAX_REPOS } from "../../src/config/list-entry.ts";
import { OwnerAllowList } from "../../src/config/owner-allow-list.ts";
import type { RepositorySelection } from "../../src/domain/selection.ts";
import type { Target } from "../../src/domain/target.ts";
import { AkmError } from "../../src/errors.ts";
import { mergeSelections, resolveSelections } from "../../src/lifecycle/selection.ts";
import type { RepositoryFinder, RepositoryMatches } from "../../src/ports.ts";
import type { GitHubStateApi, OrgRepositoryView } from "./github-emulator/index.ts";

/** Dynamic selection's view of the emulated GitHub, without requests (see the module comment). */
export class EmulatorRepositoryFinder implements RepositoryFinder {
  constructor(private readonly github: Pick<GitHubStateApi, "isOrg" | "orgRepositories">) {}

  async withTopic(org: string, topic: string): Promise<RepositoryMatches> {
    const wanted = topic.toLowerCase();
    return matches(
      this.#repositories(org).filter((repo) => repo.topics.some((t) => t.toLowerCase() === wanted)),
    );
  }

  async withProperty(org: string, property: string, value: string): Promise<RepositoryMatches> {
    const wanted = property.toLowerCase();
    return matches(
      this.#repositories(org).filter((repo) =>
        Object.entries(repo.properties).some(
          ([name, held]) =>
            name.toLowerCase() === wanted &&
            (typeof held === "string" ? held === value : Array.isArray(held) && held.includes(value)),
        ),
      ),
    );
  }

  /** A user's repositories have no organization listing: GitHub answers 404 and the run selects nothing. */
  #repositories(org: string): OrgRepositoryView[] {
    return this.github.isOrg(org) ? this.github.orgRepositories(org) : [];
  }
}

function matches(found: readonly OrgRepositoryView[]): RepositoryMatches {
  return {
    repositories: found.filter((repo) => !repo.archived).map(({ name, id }) => ({ name, id })),
    archived: found.filter((repo) => repo.archived).map((repo) => repo.name),
  };
}

/**
 * The targets a run would write for `listed` now: the listed ones, then what each selection finds (see the module
 * comment). When the run would refuse the list (a selection of an owner `allowedOwners` does not list — the stack
 * parameter pAllowedGitHubOwners — or more targets than one stack rotates), it writes nothing the selections find:
 * the listed targets alone.
 */
export async function targetsWithSelected(
  github: Pick<GitHubStateApi, "isOrg" | "orgRepositories">,
  listed: { readonly targets: readonly Target[]; readonly selections: readonly RepositorySelection[] },
  allowedOwners: string,
): Promise<readonly Target[]> {
  if (listed.selections.length === 0) return listed.targets;
  const allowed = OwnerAllowList.parse(allowedOwners);
  if (!(allowed instanceof OwnerAllowList)) return listed.targets;
  try {
    const resolved = await resolveSelections(
      listed.selections,
      new EmulatorRepositoryFinder(github),
      allowed,
    );
    return mergeSelections(listed.targets, resolved, { max: MAX_REPOS, location: "repos.json" }).targets;
  } catch (error) {
    if (error instanceof AkmError) return listed.targets;
    throw error;
  }
}
