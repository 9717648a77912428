import { quote } from "../config/repos-config.ts";
import { AkmError, toAkmError } from "../errors.ts";
import { OutcomeRecorder, type RunOutcome } from "./outcome.ts";
import { LOCK_TTL_MS, type RotationDeps } from "./rotation-context.ts";

/**
 * Runs `work` only while holding the rotation lease, so two executions (a schedule overlapping a manual
 * run) never interleave keys or secrets: the second one stops at once, having changed nothing.
 * An InProgress result keeps the lease for the execution's next step (through the runbook's wait for
 * GitHub's write budget, when there is one); any other result gives it up.
 */
export async function withRunLock(
  deps: RotationDeps,
  owner: string,
  action: "rotate" | "retire",
  work: () => Promise<RunOutcome>,
): Promise<RunOutcome> {
  const report = new OutcomeRecorder(action, false);
  let holder: Awaited<ReturnType<RotationDeps["lock"]["acquire"]>>;
  try {
    holder = await deps.lock.acquire(owner, deps.clock.now(), LOCK_TTL_MS);
  } catch (error) {
    // The lease may have been taken although its answer was lost: give it up again (a conditional delete
    // that removes it only if this run holds it), so reruns do not wait for it to expire.
    try {
      await deps.lock.release(owner);
    } catch (releaseError) {
      deps.log(`could not release the rotation lock: ${toAkmError(releaseError, "Unlocking").message}`);
    }
    return report.finish(
      "Failed",
      `${action} Failed: could not take the rotation lock.`,
      toAkmError(error, "Locking"),
    );
  }
  if (holder) {
    // The lease object is data anyone with write access to the bucket could have written: quoted and cut short.
    const by = quote(holder.owner);
    const until = quote(holder.expiresAt);
    return report.finish(
      "Failed",
      `Another rotation is in progress (execution ${by}, since ${quote(holder.acquiredAt)}); this run changed nothing.`,
      new AkmError(`The rotation lock is held by execution ${by} until ${until}.`, {
        fix: `Wait for that execution to end (Systems Manager → Automation → Executions), then run this runbook again. If it crashed, its lock expires at ${until}.`,
        fault: "transient",
      }),
    );
  }
  const result = await work();
  if (result.status === "InProgress" && result.resumeAt) {
    // The runbook sleeps until resumeAt (GitHub's write budget); keep the lease over the sleep so that a
    // scheduled run cannot take over and end this execution with "another rotation is in progress".
    const now = deps.clock.now();
    try {
      await deps.lock.acquire(owner, now, result.resumeAt.getTime() - now.getTime() + LOCK_TTL_MS);
    } catch (error) {
      deps.log(`could not extend the rotation lock: ${toAkmError(error, "Locking").message}`);
    }
  }
  if (result.status !== "InProgress") {
    try {
      await deps.lock.release(owner);
    } catch (error) {
      // The lease expires by itself; a failed release must not hide the run's own result.
      deps.log(`could not release the rotation lock: ${toAkmError(error, "Unlocking").message}`);
    }
  }
  return result;
}
