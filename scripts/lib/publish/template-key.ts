import { UsageError } from "../cli/errors.ts";

/** Where a version's template goes by default: one folder per release, so published links never change. */
export function defaultTemplateKey(version: string): string {
  return `aws-github-akm/${version}/aws-github-akm.template.yaml`;
}

/** Returns the object key if S3 accepts it and it is not an obvious mistake; a UsageError otherwise. */
export function validateTemplateKey(key: string): string {
  if (key === "") throw new UsageError("--key is empty: give an object key such as templates/akm.yaml.");
  if (key.startsWith("/") || key.startsWith("s3://")) {
    throw new UsageError(
      `--key '${key}' must be an object key inside the bucket, without a leading '/' or s3:// (e.g. templates/akm.yaml).`,
    );
  }
  const bytes = Buffer.byteLength(key, "utf8");
  if (bytes > 1024) throw new UsageError(`--key is ${bytes} bytes long; S3 allows at most 1,024.`);
  return key;
}
