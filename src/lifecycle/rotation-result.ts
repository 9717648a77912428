import { nameTargets, targetNoun } from "../domain/name-targets.ts";
import { targetKey, targetLabel } from "../domain/target.ts";
import { toAkmError } from "../errors.ts";
import { githubApiNote } from "./github-api-note.ts";
import { targetsLacking } from "./holders.ts";
import { OutcomeRecorder, type RunOutcome } from "./outcome.ts";
import type { RotationDeps } from "./rotation-context.ts";
import { loadTargets } from "./selected-targets.ts";

export interface RotationResultOptions {
  /** The Automation execution ID (the lease owner of its Rotate steps). */
  readonly owner: string;
  readonly dryRun: boolean;
}

/**
 * After the Rotate loop: reads what the rotation reached and tells the runbook what comes next, without
 * changing IAM or GitHub. The runbook cannot read the loop's inner outputs after the loop (the aws:loop page,
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-action-loop.html, documents none),
 * so this step asks the state instead:
 * - `continues`: a key is still being written, or the listed targets are still being checked before one is
 *   created (the loop's 100 iterations ran out first); the lease is given up so that the next execution — the
 *   schedule's, or a manual one — resumes it;
 * - `retire`: a previous key waits for its grace period (`retireAfter`), then the Retire step;
 * - `done`: nothing left to do.
 * A dry run answers `retire` with the current time, so the dry run passes through the wait and the Retire
 * step too (both change nothing), and a deployment's first dry run exercises every step.
 */
export async function rotationResult(
  deps: RotationDeps,
  options: RotationResultOptions,
): Promise<RunOutcome> {
  const outcome = new OutcomeRecorder("rotate-result", options.dryRun);
  outcome.note(githubApiNote(deps.settings.githubApiUrl));
  try {
    const state = await deps.state.load();
    outcome.newAccessKeyId = state?.pending?.accessKeyId ?? state?.current?.accessKeyId;
    outcome.oldAccessKeyId = state?.pending ? state.current?.accessKeyId : state?.previous?.accessKeyId;
    if (options.dryRun) {
      outcome.next = "retire";
      outcome.retireAfter = deps.clock.now();
      return outcome.finish(
        "Succeeded",
        "Dry run: nothing was changed. The plan is in the Rotate step's output; the dry run goes on through the grace-period wait (no wait) and a Retire that changes nothing.",
      );
    }
    // A round of checks before a key is created (preflight's, then the shadowing check's; creating the key clears
    // both) means the loop ran out while the list was still being checked. No key at all after the loop means the
    // same: a rotation that finished has one. Unless the last rotation's old key is still in its grace period: then
    // no new key could be created anyway, and the old one is retired first.
    const previous = state?.previous;
    const inGrace = previous !== undefined && deps.clock.now().getTime() < Date.parse(previous.retireAfter);
    const checking =
      state?.pending === undefined &&
      !inGrace &&
      (state?.checked !== undefined ||
        state?.shadowCheck?.purpose === "rotate" ||
        state?.current === undefined);
    // The set a rotation under way writes (or checks); after it, what the selections find now (a repository that
    // gained the topic meanwhile lacks the key, and the next run writes it).
    const { targets } = await loadTargets(deps, {
      state,
      underWay: state?.pending !== undefined || checking,
      ownersChecked: false,
    });
    const noun = targetNoun(targets);
    outcome.noun = noun;
    if (checking) {
      // No target has a result before the key exists: the progress line counts those not checked yet.
      const passed = new Set(state?.checked?.repos);
      const unchecked = targets.filter((target) => !passed.has(targetKey(target))).length;
      const looked = state?.shadowCheck?.purpose === "rotate" ? state.shadowCheck.checked.length : 0;
      outcome.next = "continues";
      outcome.reposRemaining = unchecked;
      await releaseLock(deps, options.owner);
      return outcome.finish(
        "Succeeded",
        `Rotation continues at the next run: ${targets.length - unchecked} of ${targets.length} listed ${noun.many} checked on GitHub so far${looked > 0 ? ` (and ${looked} repositor${looked === 1 ? "y" : "ies"} looked at for copies of the key's secrets that would hide it)` : ""}; they are still being checked before a new key is created, which happens only once every check has passed. This execution used its 100 loop iterations; the next execution (the schedule's, or run Rotate now) resumes the checks where they stopped. Nothing was changed in IAM or GitHub.`,
      );
    }
    const key = state?.pending ?? state?.current;
    const lacking = key ? targetsLacking(key.accessKeyId, targets, state?.holdings ?? {}) : [];
    const missing = new Set(lacking);
    for (const target of targets) {
      outcome.repo(
        missing.has(target)
          ? { repo: targetLabel(target), result: "skipped", detail: "does not hold the new key yet" }
          : { repo: targetLabel(target), result: "already-current", detail: `holds ${key?.accessKeyId}` },
      );
    }
    if (state?.pending || (state?.current?.secretAccessKey && lacking.length > 0)) {
      outcome.next = "continues";
      outcome.reposRemaining = lacking.length;
      await releaseLock(deps, options.owner);
      return outcome.finish(
        "Succeeded",
        `Rotation continues at the next run: ${lacking.length} of ${targets.length} listed ${noun.many} do not hold key ${key?.accessKeyId} yet (${nameTargets(lacking)}). This execution used its 100 loop iterations; the next execution (the schedule's, or run Rotate now) resumes where it stopped. The old key stays active until every ${noun.one} holds the new one.`,
      );
    }
    if (previous) {
      outcome.next = "retire";
      outcome.retireAfter = new Date(previous.retireAfter);
      return outcome.finish(
        "Succeeded",
        `Rotation Succeeded: every listed ${noun.one} (${targets.length}) holds key ${state?.current?.accessKeyId}. The old key ${previous.accessKeyId} is deactivated after ${previous.retireAfter}.`,
      );
    }
    return outcome.finish(
      "Succeeded",
      `Rotation Succeeded: every listed ${noun.one} (${targets.length}) holds key ${state?.current?.accessKeyId ?? "(none)"}; there is no old key to retire.`,
    );
  } catch (error) {
    const akm = toAkmError(error, "Reading the rotation's result");
    deps.log(`rotate-result failed: ${akm.name}: ${akm.message}`);
    return outcome.finish("Failed", `Rotation result unknown (${akm.fault} fault).`, akm);
  }
}

/** Gives the execution's lease up so that the next execution can resume (a failed release expires by itself). */
async function releaseLock(deps: RotationDeps, owner: string): Promise<void> {
  try {
    await deps.lock.release(owner);
  } catch (error) {
    deps.log(`could not release the rotation lock: ${toAkmError(error, "Unlocking").message}`);
  }
}
