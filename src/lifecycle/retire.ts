import { nameTargets, targetNoun } from "../domain/name-targets.ts";
import { toAkmError } from "../errors.ts";
import { holdersOf } from "./holders.ts";
import { OutcomeRecorder, type RunOutcome } from "./outcome.ts";
import type { RotationDeps } from "./rotation-context.ts";
import { loadTargets } from "./selected-targets.ts";
import { withRunLock } from "./with-run-lock.ts";

/** Who retires: the Automation execution ID (the lease owner), and whether only to say what would happen. */
export interface RetireOptions {
  readonly owner: string;
  readonly dryRun: boolean;
}

/**
 * R2: after the grace period, deactivates the previous key — only if no listed target (repository, environment
 * or organization secret) can still hold it (R1). The key is deleted by the next rotation, so an inactive key can be re-activated by hand meanwhile.
 * A dry run reads the same things and says what it would do, without the lock and without any change.
 */
export async function retire(deps: RotationDeps, options: RetireOptions): Promise<RunOutcome> {
  if (options.dryRun) return retireOnce(deps, true);
  return withRunLock(deps, options.owner, "retire", () => retireOnce(deps, false));
}

async function retireOnce(deps: RotationDeps, dryRun: boolean): Promise<RunOutcome> {
  const outcome = new OutcomeRecorder("retire", dryRun);
  try {
    const state = await deps.state.load();
    const previous = state?.previous;
    outcome.newAccessKeyId = state?.current?.accessKeyId;
    if (!state || !previous) {
      return outcome.finish(
        "Succeeded",
        `${dryRun ? "Dry run: nothing was changed. " : ""}Nothing to retire: there is no previous key.`,
      );
    }
    outcome.oldAccessKeyId = previous.accessKeyId;
    outcome.retireAfter = new Date(previous.retireAfter);
    const now = deps.clock.now();
    if (now.getTime() < Date.parse(previous.retireAfter)) {
      return outcome.finish(
        "Succeeded",
        `${dryRun ? "Dry run: nothing was changed. " : ""}The previous key ${previous.accessKeyId} stays active until ${previous.retireAfter} (grace period); the next rotation retires it.`,
      );
    }
    // What the selections find now, not the set the rotation began with (R1): a repository that gained the topic
    // since may hold an adopted previous key, and counts as a holder until a rotation writes it.
    const { targets } = await loadTargets(deps, { state, underWay: false, ownersChecked: false });
    const noun = targetNoun(targets);
    outcome.noun = noun;
    const holders = holdersOf(previous, targets, state.holdings);
    if (holders.length > 0) {
      return outcome.finish(
        "Failed",
        `Retire Failed: the previous key ${previous.accessKeyId} may still be used by ${nameTargets(holders)}, so it stays active. Run Rotate: it writes the current key to these ${noun.many} first.`,
      );
    }
    const keys = await deps.iam.list();
    const key = keys.find((k) => k.accessKeyId === previous.accessKeyId);
    if (!key) {
      return outcome.finish(
        "Succeeded",
        `The previous key ${previous.accessKeyId} no longer exists; nothing to do.`,
      );
    }
    if (key.status === "Active" && !dryRun) await deps.iam.deactivate(previous.accessKeyId);
    return outcome.finish(
      "Succeeded",
      `${dryRun ? "Dry run: would have deactivated" : "Deactivated"} the previous key ${previous.accessKeyId}; every listed ${noun.one} holds ${outcome.newAccessKeyId ?? "(none)"}. The next rotation deletes it.`,
    );
  } catch (error) {
    const akm = toAkmError(error, "Retire");
    deps.log(`retire failed: ${akm.name}: ${akm.message}`);
    return outcome.finish("Failed", `Retire Failed (${akm.fault} fault).`, akm);
  }
}
