import { describe, expect, it } from "vitest";
import { OWNER_PATTERN } from "../../src/config/github-login.ts";
import { SECRET_NAME_PATTERN } from "../../src/config/secret-name.ts";
import { isObject, type Json, loadTemplate } from "./dist.ts";
import {
  BOUNDARY_VALUES,
  IAM_NAME_SPECIALS,
  MAX_USER_NAME,
  USER_NAME_EDGES,
  userNameOf,
} from "./form-values.ts";

const { template } = loadTemplate();

// The original stack's parameters (shared/reference/original-stack.md): existing stacks must update in
// place with their saved values, so IDs and defaults may not change. pHoursToRotate is a String now: the
// original's Number also took decimals such as 2.5, which then failed in the schedule rate(2.5 hours), so no
// stack holds one; every whole number it deployed with is still accepted.
const ORIGINAL_PARAMETERS = [
  { id: "pSnsEmailAddress", type: "String", default: undefined, label: "SNS Email Address" },
  { id: "pRepoConfigBucketName", type: "String", default: undefined, label: "Repo Config Bucket Name" },
  { id: "pRepoConfigKey", type: "String", default: "repos.json", label: "Repo Config Key" },
  { id: "pGitHubToken", type: "String", default: undefined, label: "GitHub Personal Access Token" },
  { id: "pGitHubMachineUserName", type: "String", default: undefined, label: "GitHub Machine User Name" },
  { id: "pIamUserArn", type: "String", default: undefined, label: "IAM User ARN" },
  { id: "pIamUserName", type: "String", default: undefined, label: "IAM User Name" },
  { id: "pHoursToRotate", type: "String", default: "6", label: "Hours To Rotate" },
  { id: "pGitHubSecretNameAwsKeyId", type: "String", default: "AWS_ACCESS_KEY_ID", label: undefined },
  { id: "pGitHubSecretNameAwsKey", type: "String", default: "AWS_SECRET_ACCESS_KEY", label: undefined },
] as const;

// The one new parameter without a default: updating an original stack asks for it (README "Upgrading"), because
// which GitHub accounts may receive the key is not something a default can decide.
const REQUIRED_NEW_PARAMETERS = [{ id: "pAllowedGitHubOwners", type: "CommaDelimitedList" }] as const;

// Every other new parameter has a default, so updating an existing stack asks for nothing else.
const NEW_PARAMETERS = [
  { id: "pSolutionName", type: "String", default: "github-akm" },
  { id: "pGraceMinutes", type: "String", default: "60" },
  { id: "pGitHubApiUrl", type: "String", default: "https://api.github.com" },
  { id: "pGitHubCaBundleKey", type: "String", default: "" },
  { id: "pGitHubAppId", type: "String", default: "" },
  { id: "pVpcSubnetIds", type: "String", default: "" },
  { id: "pVpcSecurityGroupIds", type: "String", default: "" },
  { id: "pAdministratorArns", type: "String", default: "" },
  { id: "pRepoListEditorArns", type: "String", default: "" },
] as const;

function parameter(id: string) {
  const found = template.Parameters[id];
  if (!found) throw new Error(`the template has no parameter ${id}`);
  return found;
}

/** CloudFormation checks AllowedPattern against the whole value (Java regex); these patterns are also valid JS. */
function matches(pattern: string, value: string): boolean {
  return new RegExp(`^(?:${pattern})$`).test(value);
}

describe("template parameters", () => {
  it.each(ORIGINAL_PARAMETERS)("keeps the original parameter $id with its type and default", (p) => {
    expect(parameter(p.id).Type).toBe(p.type);
    expect(parameter(p.id).Default).toBe(p.default);
  });

  it.each(NEW_PARAMETERS)("adds $id with a default so existing stacks update without new input", (p) => {
    expect(parameter(p.id).Type).toBe(p.type);
    expect(parameter(p.id).Default).toBe(p.default);
  });

  it.each(REQUIRED_NEW_PARAMETERS)("adds $id without a default, so an upgrade asks for it", (p) => {
    expect(parameter(p.id).Type).toBe(p.type);
    expect(parameter(p.id).Default).toBeUndefined();
  });

  it("declares no other parameters", () => {
    expect(Object.keys(template.Parameters).sort()).toEqual(
      [...ORIGINAL_PARAMETERS, ...NEW_PARAMETERS, ...REQUIRED_NEW_PARAMETERS].map((p) => p.id).sort(),
    );
  });

  it.each([
    ["pHoursToRotate", 2, 2190],
    ["pGraceMinutes", 0, 1440],
  ] as const)("%s accepts exactly the whole numbers from %d to %d", (id, min, max) => {
    // Prepare
    const pattern = String(parameter(id).AllowedPattern);
    const candidates = Array.from({ length: max + 200 }, (_, n) => n);

    // Act
    const accepted = candidates.filter((n) => matches(pattern, String(n)));

    // Assess
    expect(accepted).toEqual(candidates.filter((n) => n >= min && n <= max));
  });

  it.each(["pHoursToRotate", "pGraceMinutes"])(
    "%s refuses decimals, signs, exponents, spaces and leading zeros (the schedule and the function read whole numbers)",
    (id) => {
      // Prepare
      const pattern = String(parameter(id).AllowedPattern);

      // Act
      const accepted = ["2.5", "30.5", "6.0", "6.", "1e3", "+6", "-2", " 6", "6 ", "06", "", "six"].filter(
        (value) => matches(pattern, value),
      );

      // Assess
      expect(accepted).toEqual([]);
    },
  );

  it.each(IAM_NAME_SPECIALS)("pIamUserName accepts IAM's character %j", (special) => {
    // Act
    const accepted = matches(String(parameter("pIamUserName").AllowedPattern), `ci${special}deployer`);

    // Assess
    expect(accepted).toBe(true);
  });

  it.each<[string, boolean]>([
    ...USER_NAME_EDGES.map((length): [string, boolean] => [userNameOf(length), true]),
    ["x".repeat(MAX_USER_NAME), true],
    ["x".repeat(MAX_USER_NAME + 1), false],
    ["", false],
    ["ci deployer", false],
    ["ci/deployer", false],
    ["ci!deployer", false],
    ["çi-deployer", false],
  ])("pIamUserName %j accepted = %s", (value, accepted) => {
    // Act
    const result = matches(String(parameter("pIamUserName").AllowedPattern), value);

    // Assess
    expect(result).toBe(accepted);
  });

  it.each(BOUNDARY_VALUES.flatMap((form) => Object.entries(form)))(
    "the boundary value of %s %j (deployed by cfn-lint in scanners.test.ts) passes the form",
    (id, value) => {
      // Act
      const pattern = parameter(id).AllowedPattern;

      // Assess
      if (typeof pattern === "string") expect(matches(pattern, value)).toBe(true);
    },
  );

  it("never echoes the GitHub token", () => {
    expect(parameter("pGitHubToken").NoEcho).toBe(true);
  });

  it.each(Object.keys(template.Parameters))("documents %s and says how to fix a rejected value", (id) => {
    const p = parameter(id);
    expect(typeof p.Description === "string" && p.Description.length > 20).toBe(true);
    if (p.Type === "Number") {
      expect(typeof p.MinValue).toBe("number");
      expect(typeof p.MaxValue).toBe("number");
    } else {
      expect(typeof p.AllowedPattern).toBe("string");
    }
    // CloudFormation prints it after the parameter name when a value is rejected.
    expect(p.ConstraintDescription).toMatch(/^must be .{20,}/);
  });

  it.each(Object.keys(template.Parameters))("accepts its own default for %s", (id) => {
    const p = parameter(id);
    if (p.Default === undefined) return;
    if (typeof p.AllowedPattern === "string") expect(matches(p.AllowedPattern, String(p.Default))).toBe(true);
    if (typeof p.MinValue === "number") expect(Number(p.Default)).toBeGreaterThanOrEqual(p.MinValue);
    if (typeof p.MaxValue === "number") expect(Number(p.Default)).toBeLessThanOrEqual(p.MaxValue);
  });

  it.each([
    ["pIamUserArn", "arn:aws:iam::123456789012:user/ci-deployer", true],
    ["pIamUserArn", "arn:aws-us-gov:iam::123456789012:user/path/to/ci.deployer@corp", true],
    ["pIamUserArn", "arn:aws:iam::123456789012:role/ci-deployer", false],
    ["pIamUserName", "first.last", true],
    ["pIamUserName", "ci@corp", true],
    ["pIamUserName", "x".repeat(50), true],
    ["pIamUserName", "ci+=,.@_-".repeat(7).slice(0, 64), true],
    ["pIamUserName", "x".repeat(65), false],
    ["pRepoConfigKey", "config/repos.json", true],
    ["pRepoConfigKey", "repos*.json", false],
    ["pRepoConfigKey", "k".repeat(1019), true],
    ["pRepoConfigKey", "k".repeat(1020), false],
    ["pRepoConfigBucketName", "My_Bucket", false],
    ["pGitHubSecretNameAwsKeyId", "GITHUB_TOKEN", false],
    ["pGitHubSecretNameAwsKeyId", "1KEY", false],
    ["pGitHubApiUrl", "https://github.example.com/api/v3", true],
    ["pGitHubApiUrl", "http://api.github.com", false],
    ["pGitHubMachineUserName", "ci-bot", true],
    ["pGitHubMachineUserName", "alice_acme", true],
    ["pGitHubMachineUserName", "acme_admin", true],
    ["pGitHubMachineUserName", "alice_ab", false],
    ["pGitHubMachineUserName", "-bot", false],
    ["pGitHubToken", "fake_token_abcdefghijklmnopqrstuvwxyz0123", true],
    ["pGitHubToken", "ghp_abc def", false],
    // A GitHub App's private key, with its line breaks or without them (the console's password field drops them).
    [
      "pGitHubToken",
      `-----BEGIN RSA PRIVATE KEY-----\n${"MIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7Mhg\n".repeat(25)}-----END RSA PRIVATE KEY-----\n`,
      true,
    ],
    [
      "pGitHubToken",
      `-----BEGIN RSA PRIVATE KEY-----${"MIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7Mhg".repeat(25)}-----END RSA PRIVATE KEY-----`,
      true,
    ],
    [
      "pGitHubToken",
      `-----BEGIN PRIVATE KEY-----\n${"MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQ\n".repeat(25)}-----END PRIVATE KEY-----`,
      true,
    ],
    [
      "pGitHubToken",
      `-----BEGIN OPENSSH PRIVATE KEY-----\n${"b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB\n".repeat(25)}-----END OPENSSH PRIVATE KEY-----`,
      false,
    ],
    ["pGitHubAppId", "", true],
    ["pGitHubAppId", "123456", true],
    ["pGitHubAppId", "Iv23liAbCdEf", false],
    ["pGitHubAppId", "0123", false],
    ["pSnsEmailAddress", "ops@example.com", true],
    ["pSnsEmailAddress", "a@b.com, c@d.com", false],
    ["pGitHubCaBundleKey", "", true],
    ["pGitHubCaBundleKey", "certs/github-ca.pem", true],
    ["pGitHubCaBundleKey", "certs/*.pem", false],
    ["pVpcSubnetIds", "", true],
    ["pVpcSubnetIds", "subnet-0abc1234,subnet-0123456789abcdef0", true],
    ["pVpcSubnetIds", "subnet-0abc1234, subnet-0def5678", false],
    ["pVpcSecurityGroupIds", "sg-0abc1234", true],
    ["pVpcSecurityGroupIds", "vpc-0abc1234", false],
    // CloudFormation applies a CommaDelimitedList's pattern to each value.
    ["pAllowedGitHubOwners", "octo-org", true],
    ["pAllowedGitHubOwners", "alice_acme", true],
    ["pAllowedGitHubOwners", " octo-org", false],
    ["pAllowedGitHubOwners", "", false],
    ["pAllowedGitHubOwners", "octo-org/api", false],
    ["pAdministratorArns", "", true],
    ["pAdministratorArns", "arn:aws:iam::123456789012:role/Admin,arn:aws:iam::123456789012:user/alice", true],
    [
      "pAdministratorArns",
      "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_*",
      true,
    ],
    ["pAdministratorArns", "arn:aws:iam::123456789012:role/Admin, arn:aws:iam::123456789012:role/Ops", false],
    ["pAdministratorArns", "arn:aws:iam::123456789012:root", false],
    ["pAdministratorArns", "Admin", false],
    ["pRepoListEditorArns", "arn:aws:iam::123456789012:role/ListEditor", true],
    ["pRepoListEditorArns", "arn:aws:sts::123456789012:assumed-role/ListEditor/alice", false],
  ] as const)("pattern of %s: %j accepted = %s", (id, value, accepted) => {
    expect(matches(String(parameter(id).AllowedPattern), value)).toBe(accepted);
  });
});

/** Evaluates a rule assertion (Fn::Not, Fn::Equals, Ref) for the given parameter values, as CloudFormation does. */
function evaluate(node: Json, values: Record<string, string>): unknown {
  if (!isObject(node)) return node;
  if ("Ref" in node) return values[String(node.Ref)] ?? parameter(String(node.Ref)).Default;
  if ("Fn::Not" in node) return !evaluate((node["Fn::Not"] as Json[])[0] ?? null, values);
  if ("Fn::Equals" in node) {
    const [a = null, b = null] = node["Fn::Equals"] as Json[];
    return evaluate(a, values) === evaluate(b, values);
  }
  throw new Error(`evaluate: unsupported rule function ${Object.keys(node).join(", ")}`);
}

describe("the machine user's login in the form", () => {
  it("is checked with the login rule repos.json owners follow (Enterprise Managed Users included)", () => {
    expect(parameter("pGitHubMachineUserName").AllowedPattern).toBe(OWNER_PATTERN.source);
  });
});

describe("the allowed owners in the form", () => {
  it("checks each owner with the login rule the function applies to the list", () => {
    expect(parameter("pAllowedGitHubOwners").AllowedPattern).toBe(OWNER_PATTERN.source);
  });
});

describe("GitHub secret names in the form", () => {
  it.each(["pGitHubSecretNameAwsKeyId", "pGitHubSecretNameAwsKey"])(
    "checks %s with GitHub's naming rule, the same pattern the function uses",
    (id) => {
      expect(parameter(id).AllowedPattern).toBe(SECRET_NAME_PATTERN);
    },
  );

  it.each([
    [{}, true],
    [{ pGitHubSecretNameAwsKey: "AWS_ACCESS_KEY_ID" }, false],
    [{ pGitHubSecretNameAwsKeyId: "AWS_KEY", pGitHubSecretNameAwsKey: "AWS_KEY" }, false],
    [{ pGitHubSecretNameAwsKeyId: "KEY_ID", pGitHubSecretNameAwsKey: "SECRET_KEY" }, true],
  ] as const)("a rule refuses two identical names before any change: %j passes = %s", (values, passes) => {
    const assertions = (template.Rules?.SecretNamesDiffer?.Assertions ?? []) as Json[];
    expect(assertions).toHaveLength(1);
    const [assertion] = assertions;
    if (!isObject(assertion)) throw new Error("the rule has no assertion");
    expect(evaluate(assertion.Assert ?? null, values)).toBe(passes);
    expect(String(assertion.AssertDescription)).toMatch(
      /pGitHubSecretNameAwsKeyId and pGitHubSecretNameAwsKey/,
    );
  });
});

describe("console layout (AWS::CloudFormation::Interface)", () => {
  const ui = template.Metadata["AWS::CloudFormation::Interface"];
  if (!isObject(ui)) throw new Error("the template has no AWS::CloudFormation::Interface metadata");
  const groups = (ui.ParameterGroups as { Label: { default: string }; Parameters: string[] }[]) ?? [];
  const labels = ui.ParameterLabels as Record<string, { default: string }>;

  it("keeps the original three parameter groups", () => {
    expect(groups.map((g) => g.Label.default)).toEqual([
      "GitHub Configuration",
      "AWS Configuration",
      "Automation Configurations",
    ]);
  });

  it("shows every parameter in exactly one group", () => {
    const listed = groups.flatMap((g) => g.Parameters);
    expect([...listed].sort()).toEqual(Object.keys(template.Parameters).sort());
  });

  it.each(Object.keys(template.Parameters))("labels %s", (id) => {
    expect(labels[id]?.default).toMatch(/\w/);
  });

  it.each(ORIGINAL_PARAMETERS.filter((p) => p.label))("keeps the original label of $id", (p) => {
    expect(labels[p.id]?.default).toBe(p.label);
  });
});
