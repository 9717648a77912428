import { type AutomationExecution, GetAutomationExecutionCommand } from "@aws-sdk/client-ssm";
import { AwsCallError } from "../cli/errors.ts";
import { statusKind } from "./execution-status.ts";
import type { SsmAutomationSender } from "./ssm-automation-sender.ts";
import { type PrintedStatuses, stepProgress } from "./step-progress.ts";

export interface WatchOptions {
  readonly executionId: string;
  readonly pollSeconds: number;
  /** Waits between polls; injected so tests never wait. */
  readonly sleep: (milliseconds: number) => Promise<void>;
  /** Prints one progress line. */
  readonly print: (line: string) => void;
  /** Stops watching, before the end, once this holds (e.g. Rotate has reached its grace period). */
  readonly until?: (execution: AutomationExecution) => boolean;
}

/**
 * Polls GetAutomationExecution until the execution ends (or `until` holds), printing the execution's status and each step's
 * status as they change, and returns the ended execution.
 */
export async function watchExecution(
  ssm: SsmAutomationSender,
  options: WatchOptions,
): Promise<AutomationExecution> {
  let printed: PrintedStatuses = new Map();
  let lastStatus: string | undefined;
  for (;;) {
    const execution = await getExecution(ssm, options.executionId);
    const status = execution.AutomationExecutionStatus;
    if (status !== lastStatus) {
      options.print(`Execution ${status ?? "(no status yet)"}`);
      lastStatus = status;
    }
    const progress = stepProgress(printed, execution.StepExecutions);
    for (const line of progress.lines) options.print(line);
    printed = progress.printed;
    if (statusKind(status) !== "running" || options.until?.(execution) === true) return execution;
    await options.sleep(options.pollSeconds * 1000);
  }
}

async function getExecution(ssm: SsmAutomationSender, executionId: string): Promise<AutomationExecution> {
  const action = `read the status of Automation execution ${executionId}`;
  let execution: AutomationExecution | undefined;
  try {
    ({ AutomationExecution: execution } = await ssm.send(
      new GetAutomationExecutionCommand({ AutomationExecutionId: executionId }),
    ));
  } catch (error) {
    throw new AwsCallError(
      action,
      error,
      "The execution keeps running; check it later with " +
        `\`aws ssm get-automation-execution --automation-execution-id ${executionId}\`.`,
    );
  }
  if (execution === undefined)
    throw new AwsCallError(action, new Error("SSM returned no AutomationExecution"));
  return execution;
}
