import { UsageError } from "../cli/errors.ts";

/**
 * A region code such as us-east-1, ap-southeast-4, us-gov-west-1, cn-north-1 or eusc-de-east-1:
 * a 2-4 letter area, one or more words, a number.
 */
const REGION_PATTERN = /^[a-z]{2,4}(-[a-z]+)+-\d{1,2}$/;

/** Returns the region if it is shaped like an AWS region code; a UsageError otherwise. */
export function validateRegion(region: string, flag = "--region"): string {
  if (!REGION_PATTERN.test(region)) {
    throw new UsageError(
      `${flag} '${region}' is not an AWS region code. Use a code such as us-east-1 or eu-west-2 ` +
        "(not a name like 'US East (N. Virginia)'); `aws ec2 describe-regions` lists them.",
    );
  }
  return region;
}
