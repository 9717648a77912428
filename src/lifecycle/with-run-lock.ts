import { toAkmError } from "../errors.ts";
import type { StartedBy } from "../handler-contract.ts";
import { heldLockOutcome, type LockingAction } from "./held-lock.ts";
import { OutcomeRecorder, type RunOutcome } from "./outcome.ts";
import { LOCK_TTL_MS, type RotationDeps } from "./rotation-context.ts";

/** What taking the lock needs: the lease, the clock it is timed on, and the log. */
export type LockDeps = Pick<RotationDeps, "lock" | "clock" | "log">;

/**
 * Takes (or renews) the rotation lease for `owner` for LOCK_TTL_MS. Returns undefined once this run holds it,
 * else the outcome to answer instead, having changed nothing: the lock could not be read or written (Failed), or
 * another execution holds it (src/lifecycle/held-lock.ts: a scheduled run leaves the work to it, any other stops
 * Failed).
 */
export async function takeRunLock(
  deps: LockDeps,
  owner: string,
  action: LockingAction,
  startedBy: StartedBy,
): Promise<RunOutcome | undefined> {
  const report = new OutcomeRecorder(action, false);
  let holder: Awaited<ReturnType<RotationDeps["lock"]["acquire"]>>;
  try {
    holder = await deps.lock.acquire(owner, deps.clock.now(), LOCK_TTL_MS);
  } catch (error) {
    // The lease may have been taken although its answer was lost: give it up again (a conditional delete
    // that removes it only if this run holds it), so reruns do not wait for it to expire.
    await releaseRunLock(deps, owner);
    return report.finish(
      "Failed",
      `${action} Failed: could not take the rotation lock.`,
      toAkmError(error, "Locking"),
    );
  }
  return holder ? heldLockOutcome(report, holder, action, startedBy) : undefined;
}

/** Gives the lease up if `owner` holds it; a failed release is logged (the lease expires by itself). */
export async function releaseRunLock(deps: LockDeps, owner: string): Promise<void> {
  try {
    await deps.lock.release(owner);
  } catch (error) {
    deps.log(`could not release the rotation lock: ${toAkmError(error, "Unlocking").message}`);
  }
}

/**
 * Runs `work` only while holding the rotation lease, so two executions (a schedule overlapping a manual
 * run) never interleave keys or secrets: the second one stops at once, having changed nothing (or, started by
 * the schedule, leaves the work to the first: `startedBy`, src/lifecycle/held-lock.ts).
 * An InProgress result keeps the lease for the execution's next step (through the runbook's wait for
 * GitHub's write budget, when there is one); any other result gives it up.
 */
export async function withRunLock(
  deps: RotationDeps,
  owner: string,
  action: "rotate" | "retire",
  work: () => Promise<RunOutcome>,
  startedBy: StartedBy = "user",
): Promise<RunOutcome> {
  const refused = await takeRunLock(deps, owner, action, startedBy);
  if (refused) return refused;
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
  // The lease expires by itself; a failed release must not hide the run's own result.
  if (result.status !== "InProgress") await releaseRunLock(deps, owner);
  return result;
}
