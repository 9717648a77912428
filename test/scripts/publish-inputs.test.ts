import { describe, expect, it } from "vitest";
import {
  bucketNameProblems,
  defaultTemplateKey,
  validateBucketName,
  validateTemplateKey,
  withOrganizationRead,
} from "../../scripts/lib/launch-link.ts";
import { partitionOf, validateRegion, validateStackName } from "../../scripts/lib/shared/aws.ts";
import { parseKeyValues, UsageError } from "../../scripts/lib/shared/cli.ts";
import { errorThrownBy } from "./cli-harness.ts";

describe("bucket names", () => {
  it.each(["my-bucket", "abc", "a.b-c.d1", "a".repeat(63)])("accepts %s", (name) => {
    // Act
    const problems = bucketNameProblems(name);

    // Assess
    expect(problems).toEqual([]);
  });

  it.each([
    ["ab", "has 2 characters, not 3 to 63"],
    ["a".repeat(64), "not 3 to 63"],
    ["My-Bucket", "lowercase letters"],
    ["my_bucket", "lowercase letters"],
    ["-bucket", "begin and end"],
    ["bucket.", "begin and end"],
    ["my..bucket", "two adjacent periods"],
    ["192.168.5.4", "IP address"],
    ["xn--bucket", "'xn--'"],
    ["bucket-s3alias", "'-s3alias'"],
    ["s3://my-bucket", "lowercase letters"],
  ])("refuses %s because %s", (name, reason) => {
    // Act
    const problems = bucketNameProblems(name);

    // Assess
    expect(problems.join("; ")).toContain(reason);
  });

  it("names the option and every problem in one message", () => {
    // Act
    const act = () => validateBucketName("My..Bucket");

    // Assess
    expect(act).toThrow(UsageError);
    expect(act).toThrow(/--bucket 'My\.\.Bucket'.*lowercase letters.*two adjacent periods/);
  });
});

describe("regions", () => {
  it.each(["us-east-1", "eu-central-2", "ap-southeast-4", "us-gov-west-1", "cn-north-1", "il-central-1"])(
    "accepts %s",
    (region) => {
      // Act
      const result = validateRegion(region);

      // Assess
      expect(result).toBe(region);
    },
  );

  it.each(["", "US-EAST-1", "us-east", "useast1", "eu west 1", "us-east-1a"])("refuses '%s'", (region) => {
    // Act
    const act = () => validateRegion(region);

    // Assess
    expect(act).toThrow(/--region '.*' is not an AWS region code/);
  });

  it("knows the partitions with a public console and no others", () => {
    // Act
    const partitions = ["eu-west-1", "cn-north-1", "us-gov-east-1", "us-iso-east-1"].map(
      (region) => partitionOf(region)?.name,
    );

    // Assess
    expect(partitions).toEqual(["aws", "aws-cn", "aws-us-gov", undefined]);
  });
});

describe("object keys", () => {
  it("puts each version's template in its own folder", () => {
    // Act
    const key = defaultTemplateKey("1.2.3");

    // Assess
    expect(key).toBe("aws-github-akm/1.2.3/aws-github-akm.template.yaml");
  });

  it.each(["", "/templates/t.yaml", "s3://bucket/t.yaml", "k".repeat(1025)])(
    "refuses the key '%s'",
    (key) => {
      // Act
      const act = () => validateTemplateKey(key);

      // Assess
      expect(act).toThrow(UsageError);
    },
  );
});

describe("stack names", () => {
  it("accepts letters, digits and hyphens starting with a letter", () => {
    // Act
    const name = validateStackName("akm-ci-2");

    // Assess
    expect(name).toBe("akm-ci-2");
  });

  it.each(["2akm", "akm_ci", "akm ci", `a${"b".repeat(128)}`])("refuses '%s'", (name) => {
    // Act
    const act = () => validateStackName(name);

    // Assess
    expect(act).toThrow(/--stack-name '.*' is not a valid stack name/);
  });
});

describe("NAME=VALUE arguments", () => {
  it("splits at the first '=' so values may contain '='", () => {
    // Act
    const pairs = parseKeyValues(["pA=x=y", "pB="], "--param");

    // Assess
    expect(pairs).toEqual([
      { key: "pA", value: "x=y" },
      { key: "pB", value: "" },
    ]);
  });

  it("refuses an argument without a name and does not echo it", () => {
    // Prepare
    const secretLooking = `tok${"9".repeat(30)}`;

    // Act
    const error = errorThrownBy(() => parseKeyValues(["pA=1", secretLooking], "--param"));

    // Assess
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toContain("--param number 2 has no '='");
    expect(error.message).not.toContain(secretLooking);
  });
});

describe("organization read grant", () => {
  it("adds the object to the statement of the same organization, keeping what it granted", () => {
    // Prepare
    const first = withOrganizationRead(undefined, "o-a1b2c3d4e5", "arn:aws:s3:::b/v1/t.yaml");

    // Act
    const second = withOrganizationRead(first, "o-a1b2c3d4e5", "arn:aws:s3:::b/v2/t.yaml");

    // Assess
    expect(second.Statement).toHaveLength(1);
    expect(second.Statement?.[0]?.Resource).toEqual(["arn:aws:s3:::b/v1/t.yaml", "arn:aws:s3:::b/v2/t.yaml"]);
  });

  it("grants only the new organization when the organization changes", () => {
    // Prepare
    const first = withOrganizationRead(undefined, "o-a1b2c3d4e5", "arn:aws:s3:::b/v1/t.yaml");

    // Act
    const second = withOrganizationRead(first, "o-zzzzzzzzzz", "arn:aws:s3:::b/v2/t.yaml");

    // Assess
    expect(second.Statement).toEqual([
      expect.objectContaining({
        Resource: ["arn:aws:s3:::b/v2/t.yaml"],
        Condition: { StringEquals: { "aws:PrincipalOrgID": "o-zzzzzzzzzz" } },
      }),
    ]);
  });
});
