import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { awsErrorName } from "../aws/describe-aws-error.ts";
import { AwsCallError } from "../cli/errors.ts";

/** YAML's media type (RFC 9512 registers application/yaml; browsers and S3 consoles show text/yaml inline). */
export const TEMPLATE_CONTENT_TYPE = "text/yaml";

export interface TemplateUpload {
  readonly bucket: string;
  readonly key: string;
  readonly region: string;
  readonly body: Uint8Array;
}

/** Puts the template bytes at s3://bucket/key; AWS failures become AwsCallErrors with a fix for the usual causes. */
export async function uploadTemplate(s3: Pick<S3Client, "send">, upload: TemplateUpload): Promise<void> {
  try {
    await s3.send(
      new PutObjectCommand({
        Bucket: upload.bucket,
        Key: upload.key,
        Body: upload.body,
        ContentType: TEMPLATE_CONTENT_TYPE,
      }),
    );
  } catch (error) {
    throw new AwsCallError(
      `upload the template to s3://${upload.bucket}/${upload.key}`,
      error,
      hintFor(error, upload),
    );
  }
}

function hintFor(error: unknown, upload: TemplateUpload): string | undefined {
  switch (awsErrorName(error)) {
    case "NoSuchBucket":
      return `Create the bucket in ${upload.region} first, or check --bucket.`;
    case "AccessDenied":
    case "Forbidden":
      return `Your credentials need s3:PutObject on s3://${upload.bucket}/${upload.key} (check the bucket policy too).`;
    case "PermanentRedirect":
    case "AuthorizationHeaderMalformed":
    case "IllegalLocationConstraintException":
      return `The bucket is not in ${upload.region}: pass its region with --region (CloudFormation needs the template in the stack's region).`;
    default:
      return undefined;
  }
}
