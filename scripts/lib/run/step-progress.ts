import type { StepExecution } from "@aws-sdk/client-ssm";
import { redactSecrets } from "../cli/redact-secrets.ts";

/** The statuses printed so far, by step execution; starts empty. */
export type PrintedStatuses = ReadonlyMap<string, string>;

/** Lines to print for the steps whose status changed since the last poll, and the statuses now printed. */
export interface StepProgress {
  readonly lines: readonly string[];
  readonly printed: PrintedStatuses;
}

/**
 * Compares the steps of one GetAutomationExecution answer with what was printed before. A step appears
 * when it first has a status and again each time its status changes; a failed step shows its message.
 * Steps are told apart by StepExecutionId, because loops run a step name more than once.
 */
export function stepProgress(
  printed: PrintedStatuses,
  steps: readonly StepExecution[] | undefined,
): StepProgress {
  const next = new Map(printed);
  const lines: string[] = [];
  (steps ?? []).forEach((step, index) => {
    const status = step.StepStatus;
    if (status === undefined) return;
    const id = step.StepExecutionId ?? `${index}:${step.StepName ?? ""}`;
    if (next.get(id) === status) return;
    next.set(id, status);
    const action = step.Action ? ` (${step.Action})` : "";
    const failure = step.FailureMessage ? `: ${redactSecrets(step.FailureMessage)}` : "";
    lines.push(`  step ${step.StepName ?? "(unnamed)"}${action}: ${status}${failure}`);
  });
  return { lines, printed: next };
}
