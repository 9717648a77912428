import type {
  ListStackResourcesCommand,
  ListStackResourcesCommandOutput,
} from "@aws-sdk/client-cloudformation";
import type {
  DescribeAutomationStepExecutionsCommand,
  DescribeAutomationStepExecutionsCommandOutput,
  DescribeDocumentCommand,
  DescribeDocumentCommandOutput,
  GetAutomationExecutionCommand,
  GetAutomationExecutionCommandOutput,
  GetDocumentCommand,
  GetDocumentCommandOutput,
  StartAutomationExecutionCommand,
  StartAutomationExecutionCommandOutput,
} from "@aws-sdk/client-ssm";

/** The one CloudFormation call the smoke test makes; CloudFormationClient satisfies it. */
export interface SmokeCloudFormation {
  send(command: ListStackResourcesCommand): Promise<ListStackResourcesCommandOutput>;
}

/**
 * The SSM calls the smoke test makes; SSMClient satisfies it. Tests route the document calls to moto and the
 * execution calls to a fake, since moto does not emulate Automation executions.
 */
export interface SmokeSsm {
  send(command: DescribeDocumentCommand): Promise<DescribeDocumentCommandOutput>;
  send(command: GetDocumentCommand): Promise<GetDocumentCommandOutput>;
  send(command: StartAutomationExecutionCommand): Promise<StartAutomationExecutionCommandOutput>;
  send(command: GetAutomationExecutionCommand): Promise<GetAutomationExecutionCommandOutput>;
  send(
    command: DescribeAutomationStepExecutionsCommand,
  ): Promise<DescribeAutomationStepExecutionsCommandOutput>;
}

/** Time, injected so tests never wait. */
export interface SmokeClock {
  now(): Date;
  sleep(milliseconds: number): Promise<void>;
}
