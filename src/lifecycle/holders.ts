import { type Target, targetKey } from "../domain/target.ts";
import type { Holding } from "./state.ts";

/**
 * R1: which listed targets (repository, environment and organization secrets alike) may still depend on a key.
 * A key this tool created is held exactly by the targets it was verified to be written to.
 * An adopted key (created outside this tool) may be held by any listed target we have not
 * verifiably moved to another key, so those targets count as holders too.
 */
export function holdersOf(
  key: { readonly accessKeyId: string; readonly origin: "created" | "adopted" },
  targets: readonly Target[],
  holdings: Readonly<Record<string, Holding>>,
): Target[] {
  return targets.filter((target) => {
    const holding = holdings[targetKey(target)];
    if (key.origin === "adopted" && holding === undefined) return true;
    return holding?.accessKeyId === key.accessKeyId;
  });
}

/** Listed targets that are not yet verified to hold `accessKeyId`. */
export function targetsLacking(
  accessKeyId: string,
  targets: readonly Target[],
  holdings: Readonly<Record<string, Holding>>,
): Target[] {
  return targets.filter((target) => holdings[targetKey(target)]?.accessKeyId !== accessKeyId);
}
