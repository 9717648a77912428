import type { AutomationExecution } from "@aws-sdk/client-ssm";
import { redactSecrets } from "../cli/redact-secrets.ts";
import { statusKind } from "./execution-status.ts";

/**
 * The lines printed when an execution has ended: its status, its outputs (Summary and the like, one per
 * line, multi-line values indented) and, unless it succeeded, its failure message.
 */
export function renderExecutionResult(execution: AutomationExecution): string[] {
  const status = execution.AutomationExecutionStatus ?? "an unknown status";
  const lines = [`Execution ${execution.AutomationExecutionId ?? "(no ID)"} ended ${status}.`];
  const outputs = Object.entries(execution.Outputs ?? {}).sort(([a], [b]) => a.localeCompare(b));
  if (outputs.length > 0) {
    lines.push("Outputs:");
    for (const [name, values] of outputs) {
      const text = redactSecrets(values.join("\n"));
      const [first = "", ...rest] = text.split("\n");
      lines.push(`  ${name}: ${first}`, ...rest.map((line) => `    ${line}`));
    }
  }
  if (statusKind(execution.AutomationExecutionStatus) !== "succeeded") {
    const message = execution.FailureMessage ? redactSecrets(execution.FailureMessage) : "(none given)";
    lines.push(`Failure message: ${message}`);
  }
  return lines;
}
