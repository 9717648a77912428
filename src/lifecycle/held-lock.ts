import { quote } from "../config/message-text.ts";
import { AkmError } from "../errors.ts";
import type { StartedBy } from "../handler-contract.ts";
import type { LockHolder } from "../ports.ts";
import type { OutcomeRecorder, RunOutcome } from "./outcome.ts";

/** The actions that take the rotation lock: the Rotate runbook's Start step, each Rotate step of its loop, Retire. */
export type LockingAction = "rotate-start" | "rotate" | "retire";

/**
 * What a run answers when another execution holds the rotation lock (`holder`: not expired, since an expired lease
 * is taken over before this is asked), having changed nothing.
 *
 * - A run the schedule started (`startedBy` "schedule") leaves the work to the holder when it finds the lock held
 *   at its Start step or its Retire step: it ends Succeeded and says to which execution it left it. A rotation of
 *   10,000 repositories takes about 40 hours at GitHub's write budget, so the schedule starts several runs during
 *   one; ending each of them Failed would e-mail a false alarm every time (the stack's alert rule forwards every
 *   Failed execution).
 * - Any other run stops Failed with "another rotation is in progress" and what to do: a user asked for a rotation
 *   that did not happen, and a Rotate step inside the loop that finds the lock taken has lost its own lease.
 *
 * The lease is data anyone with write access to the bucket could have written: its fields are quoted and cut short.
 */
export function heldLockOutcome(
  report: OutcomeRecorder,
  holder: LockHolder,
  action: LockingAction,
  startedBy: StartedBy,
): RunOutcome {
  const by = quote(holder.owner);
  const since = quote(holder.acquiredAt);
  const until = quote(holder.expiresAt);
  if (startedBy === "schedule" && action === "rotate-start") {
    report.next = "leave";
    report.note(
      `The rotation lock is held by execution ${by} until ${until}; that execution renews it while it runs. A lock left by a crashed run expires then, and the next scheduled run takes the rotation over.`,
    );
    return report.finish(
      "Succeeded",
      `Left the rotation to execution ${by}, in progress since ${since}; this scheduled run changed nothing.`,
    );
  }
  if (startedBy === "schedule" && action === "retire") {
    report.note(
      `The rotation lock is held by execution ${by} until ${until}. If the old key is still active once that execution ends, the next rotation deactivates and deletes it before it creates a new key.`,
    );
    return report.finish(
      "Succeeded",
      `Left the retirement of the old key to execution ${by}, which holds the rotation lock since ${since}; this scheduled run changed nothing.`,
    );
  }
  return report.finish(
    "Failed",
    `Another rotation is in progress (execution ${by}, since ${since}); this run changed nothing.`,
    new AkmError(`The rotation lock is held by execution ${by} until ${until}.`, {
      fix: `Wait for that execution to end (Systems Manager → Automation → Executions), then run this runbook again. If it crashed, its lock expires at ${until}.`,
      fault: "transient",
    }),
  );
}
