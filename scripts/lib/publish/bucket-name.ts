import { UsageError } from "../cli/errors.ts";

/**
 * What is wrong with an S3 general purpose bucket name, or an empty list if nothing is.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
 */
export function bucketNameProblems(name: string): string[] {
  const problems: string[] = [];
  if (name.length < 3 || name.length > 63)
    problems.push(`it has ${name.length} character${name.length === 1 ? "" : "s"}, not 3 to 63`);
  if (!/^[a-z0-9.-]*$/.test(name))
    problems.push("it may only contain lowercase letters, digits, '.' and '-'");
  if (!/^[a-z0-9]/.test(name) || !/[a-z0-9]$/.test(name)) {
    problems.push("it must begin and end with a lowercase letter or digit");
  }
  if (name.includes("..")) problems.push("it must not contain two adjacent periods");
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(name)) problems.push("it must not look like an IP address");
  for (const prefix of ["xn--", "sthree-", "amzn-s3-demo-"]) {
    if (name.startsWith(prefix)) problems.push(`it must not start with '${prefix}'`);
  }
  for (const suffix of ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"]) {
    if (name.endsWith(suffix)) problems.push(`it must not end with '${suffix}'`);
  }
  return problems;
}

/** Returns the bucket name if S3 would accept it; a UsageError listing every problem otherwise. */
export function validateBucketName(name: string): string {
  const problems = bucketNameProblems(name);
  if (problems.length > 0) {
    throw new UsageError(
      `--bucket '${name}' is not a valid S3 bucket name: ${problems.join("; ")}. ` +
        "Pass the name of an existing bucket (not an s3:// URL or ARN).",
    );
  }
  return name;
}
