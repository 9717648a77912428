import { type CloudFormationClient, DescribeStacksCommand } from "@aws-sdk/client-cloudformation";
import { AwsCallError } from "../cli/errors.ts";
import type { ParameterValues } from "./resolve-parameters.ts";

/** What DescribeStacks shows instead of a NoEcho parameter's value. */
const MASKED = "****";

/**
 * The parameter values a stack runs with (DescribeStacks). NoEcho values come back masked and are left out:
 * nothing can be checked or resolved with them.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_Parameter.html
 */
export async function readStackParameters(
  cloudFormation: Pick<CloudFormationClient, "send">,
  stack: string,
  region: string,
): Promise<ParameterValues> {
  let parameters: { ParameterKey?: string | undefined; ParameterValue?: string | undefined }[] | undefined;
  try {
    const { Stacks } = await cloudFormation.send(new DescribeStacksCommand({ StackName: stack }));
    parameters = Stacks?.[0]?.Parameters;
  } catch (error) {
    throw new AwsCallError(`read the parameter values of stack ${stack} (${region})`, error);
  }
  const values: Record<string, string> = {};
  for (const { ParameterKey: key, ParameterValue: value } of parameters ?? []) {
    if (key !== undefined && value !== undefined && value !== MASKED) values[key] = value;
  }
  return values;
}
