import { StartAutomationExecutionCommand } from "@aws-sdk/client-ssm";
import { awsErrorName } from "../aws/describe-aws-error.ts";
import { AwsCallError } from "../cli/errors.ts";
import type { SsmAutomationSender } from "./ssm-automation-sender.ts";

export interface AutomationStart {
  readonly documentName: string;
  readonly region: string;
  readonly parameters: Readonly<Record<string, string[]>>;
}

/** Starts an Automation execution and returns its ID; AWS failures say what to check. */
export async function startAutomation(ssm: SsmAutomationSender, start: AutomationStart): Promise<string> {
  const action = `start runbook ${start.documentName} in ${start.region}`;
  let executionId: string | undefined;
  try {
    ({ AutomationExecutionId: executionId } = await ssm.send(
      new StartAutomationExecutionCommand({
        DocumentName: start.documentName,
        Parameters: { ...start.parameters },
      }),
    ));
  } catch (error) {
    throw new AwsCallError(action, error, hintFor(error, start));
  }
  if (executionId === undefined) {
    throw new AwsCallError(action, new Error("SSM returned no AutomationExecutionId"));
  }
  return executionId;
}

function hintFor(error: unknown, start: AutomationStart): string | undefined {
  switch (awsErrorName(error)) {
    case "AutomationDefinitionNotFoundException":
    case "InvalidDocument":
      return (
        `There is no runbook named ${start.documentName} in ${start.region}. The stack creates ` +
        "GHS-AKM-<IamUserName>-Rotate, -Get-RepoList, -Add-RepoConfig and -Delete-RepoConfig; " +
        `\`aws ssm list-documents --region ${start.region} --filters Key=Owner,Values=Self\` lists yours.`
      );
    case "InvalidAutomationExecutionParametersException":
      return "Check the --param names and values against the runbook's parameters (see its description in the SSM console).";
    case "AccessDeniedException":
      return (
        "Your credentials need ssm:StartAutomationExecution on the runbook, and iam:PassRole on the role it " +
        "runs as (its assumeRole, the stack's GHS-AKM-SSM-<IamUserName> role)."
      );
    case "AutomationExecutionLimitExceededException":
      return "Too many Automation executions are running in this account and region; wait for some to end.";
    default:
      return undefined;
  }
}
