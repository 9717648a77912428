import type { RepoRef } from "../domain/repo.ts";
import { repoSlug } from "../domain/repo.ts";
import type { Holding } from "./state.ts";

/**
 * R1: which listed repositories may still depend on a key.
 * A key this tool created is held exactly by the repos it was verified to be written to.
 * An adopted key (created outside this tool) may be held by any listed repo we have not
 * verifiably moved to another key, so those repos count as holders too.
 */
export function holdersOf(
  key: { readonly accessKeyId: string; readonly origin: "created" | "adopted" },
  repos: readonly RepoRef[],
  holdings: Readonly<Record<string, Holding>>,
): RepoRef[] {
  return repos.filter((repo) => {
    const holding = holdings[repoSlug(repo)];
    if (key.origin === "adopted" && holding === undefined) return true;
    return holding?.accessKeyId === key.accessKeyId;
  });
}

/** Listed repos that are not yet verified to hold `accessKeyId`. */
export function reposLacking(
  accessKeyId: string,
  repos: readonly RepoRef[],
  holdings: Readonly<Record<string, Holding>>,
): RepoRef[] {
  return repos.filter((repo) => holdings[repoSlug(repo)]?.accessKeyId !== accessKeyId);
}
