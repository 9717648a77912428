import {
  type AutomationExecution,
  DescribeAutomationStepExecutionsCommand,
  GetAutomationExecutionCommand,
  GetDocumentCommand,
  type StepExecution,
} from "@aws-sdk/client-ssm";
import { AwsCallError } from "../cli/errors.ts";
import { statusKind } from "../run/execution-status.ts";
import { startAutomation } from "../run/start-automation.ts";
import type { SmokeClock, SmokeSsm } from "./smoke-clients.ts";

export interface DryRunOptions {
  readonly documentName: string;
  readonly region: string;
  readonly pollSeconds: number;
  /** Give up waiting after this long (the execution keeps running). */
  readonly timeoutMs: number;
  readonly clock: SmokeClock;
  /** One progress line (status changes). */
  readonly print: (line: string) => void;
}

/** How the DryRun execution went: its last state, every step execution, and the content of the version it ran. */
export interface DryRun {
  readonly executionId: string;
  readonly execution: AutomationExecution;
  /** False when it was still running at the timeout. */
  readonly ended: boolean;
  readonly steps: readonly StepExecution[];
  /** The runbook content (YAML or JSON text) of the version that ran, when SSM returned it. */
  readonly content: string | undefined;
}

/**
 * Starts the runbook with DryRun=true (StartAutomationExecution runs the default version when none is named,
 * as the schedule does) and polls GetAutomationExecution until it ends or the timeout passes. Step executions
 * come from DescribeAutomationStepExecutions when GetAutomationExecution says its list is truncated
 * (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_AutomationExecution.html,
 * StepExecutionsTruncated).
 */
export async function runDryRun(ssm: SmokeSsm, options: DryRunOptions): Promise<DryRun> {
  const executionId = await startAutomation(ssm, {
    documentName: options.documentName,
    region: options.region,
    parameters: { DryRun: ["true"] },
  });
  options.print(`  started DryRun execution ${executionId}`);
  const started = options.clock.now().getTime();
  let execution: AutomationExecution;
  let lastStatus: string | undefined;
  for (;;) {
    execution = await getExecution(ssm, executionId);
    const status = execution.AutomationExecutionStatus;
    if (status !== lastStatus) {
      options.print(`  execution ${status ?? "(no status yet)"}`);
      lastStatus = status;
    }
    if (statusKind(status) !== "running") break;
    if (options.clock.now().getTime() - started >= options.timeoutMs) {
      return {
        executionId,
        execution,
        ended: false,
        steps: execution.StepExecutions ?? [],
        content: undefined,
      };
    }
    await options.clock.sleep(options.pollSeconds * 1000);
  }
  const steps =
    execution.StepExecutionsTruncated === true
      ? await allStepExecutions(ssm, executionId)
      : (execution.StepExecutions ?? []);
  const content = await documentContent(ssm, options.documentName, execution.DocumentVersion);
  return { executionId, execution, ended: true, steps, content };
}

async function getExecution(ssm: SmokeSsm, executionId: string): Promise<AutomationExecution> {
  try {
    const { AutomationExecution: execution } = await ssm.send(
      new GetAutomationExecutionCommand({ AutomationExecutionId: executionId }),
    );
    if (execution === undefined) throw new Error("SSM returned no AutomationExecution");
    return execution;
  } catch (error) {
    throw new AwsCallError(
      `read the status of Automation execution ${executionId}`,
      error,
      "Your credentials need ssm:GetAutomationExecution (see README, First deploy). The execution keeps running.",
    );
  }
}

async function allStepExecutions(ssm: SmokeSsm, executionId: string): Promise<StepExecution[]> {
  const steps: StepExecution[] = [];
  let nextToken: string | undefined;
  try {
    do {
      const page = await ssm.send(
        new DescribeAutomationStepExecutionsCommand({
          AutomationExecutionId: executionId,
          ...(nextToken ? { NextToken: nextToken } : {}),
        }),
      );
      steps.push(...(page.StepExecutions ?? []));
      nextToken = page.NextToken;
    } while (nextToken);
  } catch (error) {
    throw new AwsCallError(
      `list the steps of Automation execution ${executionId}`,
      error,
      "Your credentials need ssm:DescribeAutomationStepExecutions (see README, First deploy).",
    );
  }
  return steps;
}

async function documentContent(
  ssm: SmokeSsm,
  name: string,
  version: string | undefined,
): Promise<string | undefined> {
  try {
    const { Content } = await ssm.send(
      new GetDocumentCommand({ Name: name, ...(version ? { DocumentVersion: version } : {}) }),
    );
    return Content;
  } catch (error) {
    throw new AwsCallError(
      `read runbook ${name}${version ? ` version ${version}` : ""}`,
      error,
      "Your credentials need ssm:GetDocument on the stack's runbooks (see README, First deploy).",
    );
  }
}
