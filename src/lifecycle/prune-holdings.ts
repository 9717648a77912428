import { type Target, targetKey } from "../domain/target.ts";
import type { Holding, RotationState } from "./state.ts";

/**
 * Forgets the holdings of targets that are no longer listed and no longer hold a live key (the current, pending
 * or previous one), so the progress grows with the list, not with every target ever listed. A target removed
 * from the list while it may still hold a live key is kept: R1 may still need it if it comes back before that key
 * is retired. Returns `state` itself when nothing is pruned.
 */
export function pruneHoldings(state: RotationState, targets: readonly Target[]): RotationState {
  const listed = new Set(targets.map(targetKey));
  const live = new Set(
    [state.current, state.pending, state.previous].flatMap((key) => (key ? [key.accessKeyId] : [])),
  );
  const kept: Record<string, Holding> = {};
  let pruned = 0;
  for (const [key, holding] of Object.entries(state.holdings)) {
    if (listed.has(key) || live.has(holding.accessKeyId)) kept[key] = holding;
    else pruned++;
  }
  return pruned === 0 ? state : { ...state, holdings: kept };
}
