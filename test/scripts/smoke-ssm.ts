import {
  type AutomationExecution,
  DescribeAutomationStepExecutionsCommand,
  type DescribeAutomationStepExecutionsCommandOutput,
  type DescribeDocumentCommand,
  type DescribeDocumentCommandOutput,
  GetAutomationExecutionCommand,
  type GetAutomationExecutionCommandOutput,
  type GetDocumentCommand,
  type GetDocumentCommandOutput,
  type SSMClient,
  StartAutomationExecutionCommand,
  type StartAutomationExecutionCommandOutput,
  type StepExecution,
} from "@aws-sdk/client-ssm";
import type { SmokeClock, SmokeSsm } from "../../scripts/lib/smoke.ts";

export const SMOKE_EXECUTION_ID = "5f0c2a1e-8d3b-4c7a-9e6f-1a2b3c4d5e6f";
const METADATA = { $metadata: { httpStatusCode: 200 } };

/**
 * SSM for the smoke test: document calls go to moto (a real SSMClient), execution calls to scripted snapshots,
 * since moto does not emulate Automation executions. Each GetAutomationExecution answers the next snapshot,
 * then repeats the last; DescribeAutomationStepExecutions pages through `allSteps`.
 */
export class SmokeSsmStub implements SmokeSsm {
  readonly started: StartAutomationExecutionCommand["input"][] = [];
  readonly stepPages: (string | undefined)[] = [];
  gets = 0;
  readonly #documents: SSMClient;
  readonly #snapshots: AutomationExecution[];
  readonly #allSteps: StepExecution[];

  constructor(documents: SSMClient, snapshots: AutomationExecution[], allSteps: StepExecution[] = []) {
    this.#documents = documents;
    this.#snapshots = snapshots;
    this.#allSteps = allSteps;
  }

  send(command: DescribeDocumentCommand): Promise<DescribeDocumentCommandOutput>;
  send(command: GetDocumentCommand): Promise<GetDocumentCommandOutput>;
  send(command: StartAutomationExecutionCommand): Promise<StartAutomationExecutionCommandOutput>;
  send(command: GetAutomationExecutionCommand): Promise<GetAutomationExecutionCommandOutput>;
  send(
    command: DescribeAutomationStepExecutionsCommand,
  ): Promise<DescribeAutomationStepExecutionsCommandOutput>;
  async send(
    command:
      | DescribeDocumentCommand
      | GetDocumentCommand
      | StartAutomationExecutionCommand
      | GetAutomationExecutionCommand
      | DescribeAutomationStepExecutionsCommand,
  ): Promise<unknown> {
    if (command instanceof StartAutomationExecutionCommand) {
      this.started.push(command.input);
      return { AutomationExecutionId: SMOKE_EXECUTION_ID, ...METADATA };
    }
    if (command instanceof GetAutomationExecutionCommand) {
      const snapshot = this.#snapshots[Math.min(this.gets, this.#snapshots.length - 1)];
      this.gets++;
      return { AutomationExecution: { AutomationExecutionId: SMOKE_EXECUTION_ID, ...snapshot }, ...METADATA };
    }
    if (command instanceof DescribeAutomationStepExecutionsCommand) {
      const token = command.input.NextToken;
      this.stepPages.push(token);
      const start = Number(token ?? "0");
      const next = start + 2 < this.#allSteps.length ? String(start + 2) : undefined;
      return { StepExecutions: this.#allSteps.slice(start, start + 2), NextToken: next, ...METADATA };
    }
    // DescribeDocument and GetDocument: moto. (The overloads of SSMClient.send take one command type each.)
    return this.#documents.send(command as DescribeDocumentCommand);
  }
}

/** A clock that moves only when slept on; records every wait. */
export class SteppingClock implements SmokeClock {
  readonly waits: number[] = [];
  #now = Date.parse("2026-11-30T12:00:00Z");

  now(): Date {
    return new Date(this.#now);
  }

  async sleep(milliseconds: number): Promise<void> {
    this.waits.push(milliseconds);
    this.#now += milliseconds;
  }
}
