import type {
  GetAutomationExecutionCommand,
  GetAutomationExecutionCommandOutput,
  StartAutomationExecutionCommand,
  StartAutomationExecutionCommandOutput,
} from "@aws-sdk/client-ssm";

/**
 * The two SSM calls run.ts makes. SSMClient satisfies it; tests pass a tiny fake implementing `send`,
 * since moto does not emulate Automation executions.
 */
export interface SsmAutomationSender {
  send(command: StartAutomationExecutionCommand): Promise<StartAutomationExecutionCommandOutput>;
  send(command: GetAutomationExecutionCommand): Promise<GetAutomationExecutionCommandOutput>;
}
