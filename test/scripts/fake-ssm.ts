import {
  type AutomationExecution,
  GetAutomationExecutionCommand,
  type GetAutomationExecutionCommandOutput,
  StartAutomationExecutionCommand,
  type StartAutomationExecutionCommandOutput,
} from "@aws-sdk/client-ssm";
import type { SsmAutomationSender } from "../../scripts/lib/shared/aws.ts";

export const EXECUTION_ID = "0b9a1e2c-3d4f-4a5b-8c6d-7e8f9a0b1c2d";

const METADATA = { $metadata: { httpStatusCode: 200 } };

/**
 * A tiny stand-in for SSMClient (moto does not emulate Automation executions): StartAutomationExecution
 * records its input; each GetAutomationExecution answers the next scripted snapshot, then repeats the last.
 */
export class FakeSsm implements SsmAutomationSender {
  readonly started: StartAutomationExecutionCommand["input"][] = [];
  gets = 0;
  startError: Error | undefined;
  getError: Error | undefined;
  readonly #snapshots: AutomationExecution[];

  constructor(snapshots: AutomationExecution[] = []) {
    this.#snapshots = snapshots;
  }

  send(command: StartAutomationExecutionCommand): Promise<StartAutomationExecutionCommandOutput>;
  send(command: GetAutomationExecutionCommand): Promise<GetAutomationExecutionCommandOutput>;
  async send(
    command: StartAutomationExecutionCommand | GetAutomationExecutionCommand,
  ): Promise<StartAutomationExecutionCommandOutput | GetAutomationExecutionCommandOutput> {
    if (command instanceof StartAutomationExecutionCommand) {
      this.started.push(command.input);
      if (this.startError) throw this.startError;
      return { AutomationExecutionId: EXECUTION_ID, ...METADATA };
    }
    if (command instanceof GetAutomationExecutionCommand) {
      const snapshot = this.#snapshots[Math.min(this.gets, this.#snapshots.length - 1)];
      this.gets++;
      if (this.getError) throw this.getError;
      return { AutomationExecution: { AutomationExecutionId: EXECUTION_ID, ...snapshot }, ...METADATA };
    }
    throw new Error("FakeSsm only answers StartAutomationExecution and GetAutomationExecution");
  }
}

/** Records the requested waits instead of waiting. */
export class RecordingSleeper {
  readonly waits: number[] = [];
  readonly sleep = async (milliseconds: number): Promise<void> => {
    this.waits.push(milliseconds);
  };
}
