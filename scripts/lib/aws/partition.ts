/** The public endpoints of an AWS partition that the launch-link and run commands need. */
export interface Partition {
  readonly name: "aws" | "aws-cn" | "aws-us-gov";
  /** Domain of regional S3 endpoints: `<bucket>.s3.<region>.<s3Domain>`. */
  readonly s3Domain: string;
  /** Origin of the CloudFormation console for a region. */
  readonly consoleOrigin: (region: string) => string;
}

const AWS: Partition = {
  name: "aws",
  s3Domain: "amazonaws.com",
  consoleOrigin: (region) => `https://${region}.console.aws.amazon.com`,
};
const AWS_CN: Partition = {
  name: "aws-cn",
  s3Domain: "amazonaws.com.cn",
  consoleOrigin: () => "https://console.amazonaws.cn",
};
const AWS_US_GOV: Partition = {
  name: "aws-us-gov",
  s3Domain: "amazonaws.com",
  consoleOrigin: () => "https://console.amazonaws-us-gov.com",
};

/**
 * The partition of a (validated) region code, or undefined for isolated and sovereign partitions, whose
 * console and S3 addresses this tool does not know: better no link than a wrong one.
 */
export function partitionOf(region: string): Partition | undefined {
  if (region.startsWith("cn-")) return AWS_CN;
  if (region.startsWith("us-gov-")) return AWS_US_GOV;
  if (/^[a-z]{2}-iso/.test(region) || region.startsWith("eusc-")) return undefined;
  return AWS;
}
