import { nameTargets, targetNoun } from "../domain/name-targets.ts";
import { targetLabel } from "../domain/target.ts";
import { toAkmError } from "../errors.ts";
import type { StartedBy } from "../handler-contract.ts";
import { holdersOf } from "./holders.ts";
import { OutcomeRecorder, type RunOutcome } from "./outcome.ts";
import type { RotationDeps } from "./rotation-context.ts";
import { loadTargets } from "./selected-targets.ts";
import { guardAgainstShadowing, inPartText, type ShadowGuard } from "./shadow-guard.ts";
import { withRunLock } from "./with-run-lock.ts";

/** Who retires: the Automation execution ID (the lease owner), and whether only to say what would happen. */
export interface RetireOptions {
  readonly owner: string;
  readonly dryRun: boolean;
  /** Stop the shadowing re-check after this instant (the step's time budget); none: check every repository. */
  readonly deadline?: Date;
  /**
   * Who started the execution (default "user"): a scheduled run that finds another execution holding the lock
   * leaves the retirement to it instead of failing (src/lifecycle/held-lock.ts).
   */
  readonly startedBy?: StartedBy;
}

/**
 * R2: after the grace period, deactivates the previous key — only if no listed target (repository, environment
 * or organization secret) can still hold it (R1), and no copy of the key's names that the list does not manage
 * hides the new key from some jobs (they would still use the old key: src/lifecycle/shadowing.ts, checked again
 * here, over several Retire runs for a long list — meanwhile the key stays active and the next rotation retires it
 * once its own check passes). The key is deleted by the next rotation, so an inactive key can be re-activated by
 * hand meanwhile. A dry run reads the same things and says what it would do, without the lock and without any
 * change.
 */
export async function retire(deps: RotationDeps, options: RetireOptions): Promise<RunOutcome> {
  if (options.dryRun) return retireOnce(deps, true, options.deadline);
  return withRunLock(
    deps,
    options.owner,
    "retire",
    () => retireOnce(deps, false, options.deadline),
    options.startedBy,
  );
}

async function retireOnce(
  deps: RotationDeps,
  dryRun: boolean,
  deadline: Date | undefined,
): Promise<RunOutcome> {
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
    const { targets, unmanaged } = await loadTargets(deps, { state, underWay: false, ownersChecked: false });
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
    if (key.status === "Active") {
      const shadow = await guardAgainstShadowing(deps, {
        stage: { stage: "retire", oldAccessKeyId: previous.accessKeyId },
        targets,
        unmanaged,
        stored: state,
        deadline: deadline ?? FAR_FUTURE,
        outcome,
      });
      if (shadow.round && !dryRun) {
        await deps.state.save({
          ...state,
          shadowCheck: shadow.round,
          updatedAt: deps.clock.now().toISOString(),
        });
      }
      const stop = shadowStop(shadow.guard, previous.accessKeyId, dryRun, outcome);
      if (stop) return stop;
      if (!dryRun) await deps.iam.deactivate(previous.accessKeyId);
    }
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

const FAR_FUTURE = new Date("9999-12-31T23:59:59Z");

/**
 * The outcome when the shadowing check does not let the old key go (undefined: it does). A check that ran out of
 * time keeps the key active and ends Succeeded: nothing is wrong, the next Retire or rotation goes on with it.
 */
function shadowStop(
  guard: ShadowGuard,
  oldAccessKeyId: string,
  dryRun: boolean,
  outcome: OutcomeRecorder,
): RunOutcome | undefined {
  const prefix = dryRun ? "Dry run: nothing was changed. " : "";
  switch (guard.kind) {
    case "clear":
      return undefined;
    case "unfinished":
      return outcome.finish(
        "Succeeded",
        `${prefix}The previous key ${oldAccessKeyId} stays active for now: ${guard.checked} of ${guard.total} repositories${inPartText(guard.inRepository)} were looked at again for copies of the key's secrets that would keep using it before this step's time${guard.resumeAt ? " (or GitHub's rate limit)" : ""} ran out. The next rotation finishes that check and retires the key then.`,
      );
    case "shadowed":
    case "failed":
      if (guard.kind === "failed") {
        for (const failure of guard.error.failures) {
          outcome.repo({
            repo: targetLabel(failure.target),
            result: "failed",
            detail: failure.error.describe(),
          });
        }
      }
      return dryRun
        ? outcome.finish(
            "Succeeded",
            `${prefix}Would not deactivate the previous key ${oldAccessKeyId}: ${guard.error.describe()}`,
          )
        : outcome.finish(
            "Failed",
            `Retire Failed: the previous key ${oldAccessKeyId} stays active (see below).`,
            guard.error,
          );
  }
}
