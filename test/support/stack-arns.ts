/**
 * What a deployed stack of the rendered template consists of, as IAM sees it: the ARN each resource has for
 * one resolved stack (`deployedContext`: named resources by their resolved name, unnamed ones by the name
 * CloudFormation generates) and the tags the template gives it. Used to evaluate a policy that names the
 * stack's resources (README's service control policy) against what the stack really creates, not against
 * names written by hand.
 *
 * Only the template's own `Tags` are listed. CloudFormation also adds `aws:cloudformation:stack-name` and its
 * kin, but documents that their propagation "varies by resource type" (CloudFormation user guide, "Resource
 * tag": https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-resource-tags.html), so
 * no policy of ours may rely on them.
 */
import type { CfnTemplate } from "../../scripts/local-stack/lambda-runner.ts";
import type { TemplatePolicies } from "./iam-policy-eval.ts";

/** One resource of the stack as IAM authorizes requests to it. */
export interface StackArn {
  readonly logicalId: string;
  readonly type: string;
  readonly arn: string;
  /** The template's tags of the resource, as `aws:ResourceTag/<key>` context keys. */
  readonly tags: Readonly<Record<string, string>>;
}

/** Resource types whose requests IAM authorizes against their ARN, and how the ARN is had. */
const ARN_OF: Readonly<Record<string, "GetAtt" | "Ref" | "document">> = {
  "AWS::Lambda::Function": "GetAtt",
  "AWS::IAM::Role": "GetAtt",
  "AWS::Events::Rule": "GetAtt",
  "AWS::KMS::Key": "GetAtt",
  "AWS::SecretsManager::Secret": "Ref",
  "AWS::SNS::Topic": "Ref",
  "AWS::SSM::Document": "document",
};

/**
 * Every resource of the template of a type in `ARN_OF`, with its ARN and tags for the stack `policies` was
 * resolved for; plus the stack itself (`AWS::CloudFormation::Stack`, its stack ID). An SSM document gives two
 * entries: the document, and the automation definition of its default version, which StartAutomationExecution
 * names (`automation-definition/<name>:<version>`: Service Authorization Reference, "Actions, resources, and
 * condition keys for AWS Systems Manager", https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssystemsmanager.html;
 * the schedule's target uses the `$DEFAULT` version).
 */
export function stackArns(template: CfnTemplate, policies: TemplatePolicies): StackArn[] {
  const { resolver } = policies;
  const { region, accountId } = policies.context;
  const out: StackArn[] = [
    {
      logicalId: "AWS::StackId",
      type: "AWS::CloudFormation::Stack",
      arn: String(resolver.resolve({ Ref: "AWS::StackId" })),
      tags: {},
    },
  ];
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    const how = ARN_OF[resource.Type];
    if (how === undefined) continue;
    const tags = tagsOf(resolver.resolve(resource.Properties?.Tags ?? []), logicalId);
    if (how === "document") {
      const name = String(resolver.resolve({ Ref: logicalId }));
      const regional = `arn:aws:ssm:${region}:${accountId}`;
      out.push({ logicalId, type: resource.Type, arn: `${regional}:document/${name}`, tags });
      out.push({
        logicalId,
        type: "automation-definition",
        arn: `${regional}:automation-definition/${name}:$DEFAULT`,
        tags: {},
      });
      continue;
    }
    const arn = resolver.resolve(
      how === "GetAtt" ? { "Fn::GetAtt": [logicalId, "Arn"] } : { Ref: logicalId },
    );
    out.push({ logicalId, type: resource.Type, arn: String(arn), tags });
  }
  return out;
}

function tagsOf(value: unknown, logicalId: string): Record<string, string> {
  if (!Array.isArray(value)) throw new Error(`stack-arns: ${logicalId}'s Tags is not a list.`);
  return Object.fromEntries(
    value.map((tag: { Key?: unknown; Value?: unknown }) => [
      `aws:ResourceTag/${String(tag.Key)}`,
      String(tag.Value),
    ]),
  );
}
