import { ExitCode } from "../cli/exit-code.ts";

/** Where an Automation execution (or step) stands, for deciding whether to keep polling and how to exit. */
export type StatusKind = "running" | "succeeded" | "failed";

// https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_AutomationExecution.html
const SUCCEEDED: ReadonlySet<string> = new Set(["Success", "CompletedWithSuccess"]);
const FAILED: ReadonlySet<string> = new Set([
  "Failed",
  "TimedOut",
  "Cancelled",
  "Rejected",
  "Exited",
  "CompletedWithFailure",
  "ChangeCalendarOverrideRejected",
]);

/**
 * Classifies an execution status. Every other status (Pending, InProgress, Waiting, Cancelling,
 * PendingApproval, Scheduled, ...) means the execution has not ended yet.
 */
export function statusKind(status: string | undefined): StatusKind {
  if (status !== undefined && SUCCEEDED.has(status)) return "succeeded";
  if (status !== undefined && FAILED.has(status)) return "failed";
  return "running";
}

/** The exit code for an ended execution: 0 when it succeeded, 3 for any unsuccessful end. */
export function exitCodeForStatus(status: string | undefined): ExitCode {
  return statusKind(status) === "succeeded" ? ExitCode.Success : ExitCode.RunbookFailed;
}
