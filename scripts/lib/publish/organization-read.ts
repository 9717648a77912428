import { GetBucketPolicyCommand, PutBucketPolicyCommand, type S3Client } from "@aws-sdk/client-s3";
import { awsErrorName } from "../aws/describe-aws-error.ts";
import { AwsCallError, UsageError } from "../cli/errors.ts";

/** The statement this tool owns in a bucket policy; other statements are left as they are. */
export const ORGANIZATION_READ_SID = "AwsGithubAkmTemplateReadForOrganization";

// https://docs.aws.amazon.com/organizations/latest/APIReference/API_Organization.html (Id pattern)
const ORGANIZATION_ID = /^o-[a-z0-9]{10,32}$/;

/** Returns the organization ID if it is shaped like one (o-…); a UsageError otherwise. */
export function validateOrganizationId(id: string): string {
  if (!ORGANIZATION_ID.test(id)) {
    throw new UsageError(
      `--org-id '${id}' is not an AWS Organizations ID: it looks like o-a1b2c3d4e5 (o- then 10 to 32 lowercase ` +
        "letters or digits). `aws organizations describe-organization --query Organization.Id` prints yours.",
    );
  }
  return id;
}

interface PolicyStatement {
  readonly Sid?: string;
  readonly Resource?: string | readonly string[];
  readonly Condition?: { readonly StringEquals?: Readonly<Record<string, unknown>> };
  readonly [field: string]: unknown;
}

interface BucketPolicy {
  readonly Version?: string;
  readonly Statement?: readonly PolicyStatement[];
  readonly [field: string]: unknown;
}

/**
 * The bucket policy with read access to `objectArn` for every principal of one AWS Organization added: the
 * one statement with ORGANIZATION_READ_SID (created, or extended with the object when it already names the
 * same organization). A grant limited to a fixed aws:PrincipalOrgID is not "public" to S3 Block Public Access,
 * so the bucket stays private to everyone else
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html#access-control-block-public-access-policy-status).
 * Pure.
 */
export function withOrganizationRead(
  policy: BucketPolicy | undefined,
  organizationId: string,
  objectArn: string,
): BucketPolicy {
  const statements = [...(policy?.Statement ?? [])];
  const index = statements.findIndex((statement) => statement.Sid === ORGANIZATION_READ_SID);
  const existing = index >= 0 ? statements[index] : undefined;
  const sameOrganization = existing?.Condition?.StringEquals?.["aws:PrincipalOrgID"] === organizationId;
  const resources = sameOrganization ? [existing?.Resource ?? []].flat() : [];
  const statement: PolicyStatement = {
    Sid: ORGANIZATION_READ_SID,
    Effect: "Allow",
    Principal: "*",
    Action: "s3:GetObject",
    Resource: [...new Set([...resources, objectArn])],
    Condition: { StringEquals: { "aws:PrincipalOrgID": organizationId } },
  };
  if (index >= 0) statements[index] = statement;
  else statements.push(statement);
  return { ...policy, Version: policy?.Version ?? "2012-10-17", Statement: statements };
}

/** Reads the bucket's policy, adds the organization's read access to the object, and writes it back. */
export async function grantOrganizationRead(
  s3: Pick<S3Client, "send">,
  grant: { readonly bucket: string; readonly organizationId: string; readonly objectArn: string },
): Promise<void> {
  let current: BucketPolicy | undefined;
  try {
    const { Policy } = await s3.send(new GetBucketPolicyCommand({ Bucket: grant.bucket }));
    current = Policy === undefined ? undefined : (JSON.parse(Policy) as BucketPolicy);
  } catch (error) {
    if (awsErrorName(error) !== "NoSuchBucketPolicy") {
      throw new AwsCallError(
        `read the bucket policy of ${grant.bucket}`,
        error,
        "Your credentials need s3:GetBucketPolicy and s3:PutBucketPolicy on the bucket for --org-id.",
      );
    }
  }
  const policy = withOrganizationRead(current, grant.organizationId, grant.objectArn);
  try {
    await s3.send(new PutBucketPolicyCommand({ Bucket: grant.bucket, Policy: JSON.stringify(policy) }));
  } catch (error) {
    throw new AwsCallError(
      `let organization ${grant.organizationId} read the template in ${grant.bucket}`,
      error,
      "Your credentials need s3:PutBucketPolicy on the bucket for --org-id.",
    );
  }
}
