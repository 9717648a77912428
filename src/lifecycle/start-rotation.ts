import type { StartedBy } from "../handler-contract.ts";
import { OutcomeRecorder, type RunOutcome } from "./outcome.ts";
import { type LockDeps, takeRunLock } from "./with-run-lock.ts";

export interface StartOptions {
  /** The Automation execution ID: the lease owner, the same in every step of the execution. */
  readonly owner: string;
  readonly dryRun: boolean;
  /** The runbook's StartedBy parameter: what to do when another execution holds the lock. */
  readonly startedBy: StartedBy;
}

/**
 * The Rotate runbook's first step: takes the rotation lock for this execution before its loop, so the runbook can
 * branch on the answer (the loop's own outputs cannot be read after it: the aws:loop page documents none,
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-action-loop.html).
 * - `rotate`: this execution holds the lock (the loop's Rotate steps renew it), or it is a dry run, which changes
 *   nothing and takes no lock;
 * - `leave`: the schedule started this run and another execution is rotating: the runbook ends Success, having
 *   changed nothing, and the summary names that execution;
 * - `failed`: a user's run found another execution rotating, or the lock could not be read or written.
 * A lease whose holder crashed has expired after LOCK_TTL_MS (or after the write-budget wait it was extended
 * over): it is taken over, and this run rotates as any other.
 * Reads nothing but the lease: no token, no list, no GitHub call, so a scheduled start beside a rotation costs one
 * S3 read and write.
 */
export async function startRotation(deps: LockDeps, options: StartOptions): Promise<RunOutcome> {
  const report = new OutcomeRecorder("rotate-start", options.dryRun);
  report.next = "rotate";
  if (options.dryRun) {
    return report.finish(
      "Succeeded",
      "Dry run: the rotation lock is not taken (a dry run changes nothing, so it may run beside a rotation).",
    );
  }
  const refused = await takeRunLock(deps, options.owner, "rotate-start", options.startedBy);
  if (refused) return refused;
  return report.finish("Succeeded", "This execution holds the rotation lock: the rotation goes on.");
}
