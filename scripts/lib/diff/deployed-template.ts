import { type CloudFormationClient, GetTemplateCommand } from "@aws-sdk/client-cloudformation";
import { awsErrorName } from "../aws/describe-aws-error.ts";
import { AwsCallError } from "../cli/errors.ts";
import type { CfnTemplate } from "../template/cfn-template.ts";
import { parseCfnYaml } from "../template/parse-cfn-yaml.ts";

/** A deployed stack's template and a label saying where it came from. */
export interface DeployedTemplate {
  readonly source: string;
  readonly template: CfnTemplate;
}

/**
 * The template a stack was last deployed with, as submitted (GetTemplate, stage Original: before any
 * transform, the form users upgrade from).
 */
export async function readDeployedTemplate(
  cloudFormation: Pick<CloudFormationClient, "send">,
  stack: string,
  region: string,
): Promise<DeployedTemplate> {
  const source = `stack ${stack} (${region})`;
  let body: string | undefined;
  try {
    ({ TemplateBody: body } = await cloudFormation.send(
      new GetTemplateCommand({ StackName: stack, TemplateStage: "Original" }),
    ));
  } catch (error) {
    throw new AwsCallError(`read the template of ${source}`, error, hintFor(error, stack, region));
  }
  if (body === undefined || body === "") {
    throw new AwsCallError(
      `read the template of ${source}`,
      new Error("CloudFormation returned no TemplateBody"),
    );
  }
  return { source, template: parseCfnYaml(body, source) };
}

function hintFor(error: unknown, stack: string, region: string): string | undefined {
  const name = awsErrorName(error);
  if (name === "ValidationError") {
    return `Check --stack ${stack} and --region ${region}: \`aws cloudformation list-stacks --region ${region}\` lists the stacks there.`;
  }
  if (name === "AccessDenied" || name === "AccessDeniedException") {
    return "Your credentials need cloudformation:GetTemplate on that stack.";
  }
  return undefined;
}
