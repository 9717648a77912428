import { ListStackResourcesCommand, type StackResourceSummary } from "@aws-sdk/client-cloudformation";
import { awsErrorName } from "../aws/describe-aws-error.ts";
import { AwsCallError } from "../cli/errors.ts";
import type { SmokeCloudFormation } from "./smoke-clients.ts";

/** One AWS::SSM::Document of the stack. */
export interface StackRunbook {
  readonly logicalId: string;
  /** The document name (its physical ID). */
  readonly name: string;
  /** CloudFormation's status for it, e.g. UPDATE_COMPLETE. */
  readonly status: string;
}

/** The stack's runbooks and which one is Rotate. */
export interface StackRunbooks {
  readonly runbooks: readonly StackRunbook[];
  /** The Rotate runbook: logical ID rAkmSsmAutomation (the original stack's), else the one named *-Rotate. */
  readonly rotate: StackRunbook | undefined;
}

/** The logical ID of the Rotate runbook, kept from the original stack (templates/40-runbooks.yaml). */
export const ROTATE_LOGICAL_ID = "rAkmSsmAutomation";

/**
 * Every SSM document the stack holds, from ListStackResources (all pages):
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ListStackResources.html
 */
export async function stackRunbooks(
  cloudFormation: SmokeCloudFormation,
  stack: string,
  region: string,
): Promise<StackRunbooks> {
  const summaries: StackResourceSummary[] = [];
  let nextToken: string | undefined;
  do {
    let page: Awaited<ReturnType<SmokeCloudFormation["send"]>>;
    try {
      page = await cloudFormation.send(
        new ListStackResourcesCommand({ StackName: stack, ...(nextToken ? { NextToken: nextToken } : {}) }),
      );
    } catch (error) {
      throw new AwsCallError(
        `list the resources of stack ${stack} in ${region}`,
        error,
        hintFor(error, stack, region),
      );
    }
    summaries.push(...(page.StackResourceSummaries ?? []));
    nextToken = page.NextToken;
  } while (nextToken);
  const runbooks = summaries
    .filter((r) => r.ResourceType === "AWS::SSM::Document" && r.PhysicalResourceId)
    .map((r) => ({
      logicalId: r.LogicalResourceId ?? "",
      name: r.PhysicalResourceId ?? "",
      status: r.ResourceStatus ?? "",
    }));
  const rotate =
    runbooks.find((r) => r.logicalId === ROTATE_LOGICAL_ID) ??
    runbooks.find((r) => r.name.endsWith("-Rotate"));
  return { runbooks, rotate };
}

function hintFor(error: unknown, stack: string, region: string): string | undefined {
  const name = awsErrorName(error);
  if (name === "ValidationError") {
    return `Check --stack ${stack} and --region ${region}: \`aws cloudformation list-stacks --region ${region}\` lists the stacks there.`;
  }
  if (name === "AccessDenied" || name === "AccessDeniedException") {
    return "Your credentials need cloudformation:ListStackResources on that stack (see README, First deploy).";
  }
  return undefined;
}
