import type { RepoRef } from "../domain/repo.ts";
import { repoSlug } from "../domain/repo.ts";
import type { Holding, RotationState } from "./state.ts";

/**
 * Forgets the holdings of repositories that are no longer listed and no longer hold a live key (the current,
 * pending or previous one), so the progress grows with the list, not with every repository ever listed. A
 * repository removed from the list while it may still hold a live key is kept: R1 may still need it if it
 * comes back before that key is retired. Returns `state` itself when nothing is pruned.
 */
export function pruneHoldings(state: RotationState, repos: readonly RepoRef[]): RotationState {
  const listed = new Set(repos.map(repoSlug));
  const live = new Set(
    [state.current, state.pending, state.previous].flatMap((key) => (key ? [key.accessKeyId] : [])),
  );
  const kept: Record<string, Holding> = {};
  let pruned = 0;
  for (const [slug, holding] of Object.entries(state.holdings)) {
    if (listed.has(slug) || live.has(holding.accessKeyId)) kept[slug] = holding;
    else pruned++;
  }
  return pruned === 0 ? state : { ...state, holdings: kept };
}
