/**
 * Every IAM user name deploys: for each user name IAM allows (1 to 64 letters, digits and + = , . @ _ -,
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateUser.html), every name, description and tag
 * value of every resource of the rendered template, resolved as CloudFormation would (names computed by the
 * stack's function as it computes them, src/cfn/resource-names.ts), is within the limits its AWS API documents.
 * cfn-lint checks the same for the names it can resolve (test/template/scanners.test.ts); it cannot resolve
 * the names the function computes.
 */
import { describe, expect, it } from "vitest";
import { type Json, loadTemplate, resolveIntrinsics, SAMPLE_PARAMETERS } from "./dist.ts";
import { IAM_NAME_SPECIALS, MAX_USER_NAME, userNameOf } from "./form-values.ts";

const { template } = loadTemplate();

/** What AWS allows in one property: at most `max` characters, all matching `pattern`. */
interface Limit {
  readonly max: number;
  readonly min?: number;
  readonly pattern: RegExp;
  readonly source: string;
}

const IAM_ROLE_NAME: Limit = {
  min: 1,
  max: 64,
  pattern: /^[\w+=,.@-]+$/,
  source: "https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html",
};
const IAM_ROLE_DESCRIPTION: Limit = {
  max: 1000,
  // IAM's pattern [\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*: tab, line feed, carriage return, printable.
  pattern: new RegExp(`^[${["\t", "\n", "\r", " -~", "\u00A1-\u00FF"].join("")}]*$`),
  source: "https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html",
};
const EVENTBRIDGE_RULE_NAME: Limit = {
  min: 1,
  max: 64,
  pattern: /^[.\-_A-Za-z0-9]+$/,
  source: "https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html",
};
const ANY_TEXT = /^[\s\S]*$/;

/** The limit of each property that names or describes a resource, by resource type. */
const LIMITS: Readonly<Record<string, Readonly<Record<string, Limit>>>> = {
  "AWS::IAM::Role": { RoleName: IAM_ROLE_NAME, Description: IAM_ROLE_DESCRIPTION },
  "AWS::Events::Rule": {
    Name: EVENTBRIDGE_RULE_NAME,
    Description: { ...EVENTBRIDGE_RULE_NAME, min: 0, max: 512, pattern: ANY_TEXT },
  },
  "AWS::SSM::Document": {
    Name: {
      min: 3,
      max: 128,
      pattern: /^[a-zA-Z0-9_.-]+$/,
      source: "https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_CreateDocument.html",
    },
  },
  "AWS::SecretsManager::Secret": {
    Name: {
      min: 1,
      max: 512,
      // "ASCII letters, numbers, and the following characters: /_+=.@-"
      pattern: /^[A-Za-z0-9/_+=.@-]+$/,
      source: "https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html",
    },
    Description: {
      max: 2048,
      pattern: ANY_TEXT,
      source: "https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html",
    },
  },
  "AWS::Logs::LogGroup": {
    LogGroupName: {
      min: 1,
      max: 512,
      pattern: /^[.\-_/#A-Za-z0-9]+$/,
      source: "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html",
    },
  },
  "AWS::KMS::Alias": {
    AliasName: {
      min: 1,
      max: 256,
      pattern: /^alias\/[a-zA-Z0-9:/_-]+$/,
      source: "https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html",
    },
  },
  "AWS::KMS::Key": {
    Description: {
      max: 8192,
      pattern: ANY_TEXT,
      source: "https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateKey.html",
    },
  },
  "AWS::Lambda::Function": {
    Description: {
      max: 256,
      pattern: ANY_TEXT,
      source: "https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html",
    },
  },
  "AWS::S3::Bucket": {
    BucketName: {
      min: 3,
      max: 63,
      pattern: /^[a-z0-9][a-z0-9.-]*[a-z0-9]$/,
      source: "https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html",
    },
  },
  "AWS::SNS::Topic": {
    DisplayName: {
      max: 100,
      pattern: ANY_TEXT,
      source: "https://docs.aws.amazon.com/sns/latest/api/API_SetTopicAttributes.html",
    },
  },
};

/** Tag values: IAM's rule, the narrowest of the services here. */
const TAG_VALUE: Limit = {
  max: 256,
  pattern: /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u,
  source: "https://docs.aws.amazon.com/IAM/latest/APIReference/API_Tag.html",
};

/** A property that names or describes a resource. */
const NAMING = /(?:Name|Description)$/;

/** The longest stack name CloudFormation allows (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStack.html). */
const LONGEST_STACK_NAME = `s${"-x".repeat(63)}y`;

/** The form's other values at their longest, so only the user name varies. */
function stackValues(userName: string): Record<string, string> {
  return {
    ...SAMPLE_PARAMETERS,
    pIamUserName: userName,
    pIamUserArn: `arn:aws:iam::123456789012:user/${userName}`,
    pGitHubMachineUserName: "m".repeat(39),
    // With a GitHub App (the longest App ID the form takes), the token secret's description is the longer one.
    pGitHubAppId: "9".repeat(20),
    pSolutionName: `S${" x".repeat(31)}y`,
    pRepoConfigBucketName: "b".repeat(63),
    "AWS::StackName": LONGEST_STACK_NAME,
    "AWS::StackId": `arn:aws:cloudformation:eu-west-1:123456789012:stack/${LONGEST_STACK_NAME}/51af3dc0-da77-11e4-872e-1234567db123`,
  };
}

/** Every value the template gives a naming property or a tag, resolved for `values`, with where it is. */
function namedValues(values: Record<string, string>): { where: string; value: string; limit: Limit }[] {
  const found: { where: string; value: string; limit: Limit }[] = [];
  for (const [id, resource] of Object.entries(template.Resources)) {
    for (const [property, raw] of Object.entries(resource.Properties ?? {})) {
      if (property === "Tags" && Array.isArray(raw)) {
        for (const tag of raw as { Key: string; Value: Json }[]) {
          const value = String(resolveIntrinsics(tag.Value, values));
          found.push({ where: `${id} tag ${tag.Key}`, value, limit: TAG_VALUE });
        }
        continue;
      }
      const limit = LIMITS[resource.Type]?.[property];
      if (limit === undefined) continue;
      found.push({ where: `${id}.${property}`, value: String(resolveIntrinsics(raw, values)), limit });
    }
  }
  return found;
}

/** Why `value` breaks `limit`, or undefined. */
function breach(value: string, limit: Limit): string | undefined {
  if (value.length > limit.max) return `${value.length} characters, more than ${limit.max}`;
  if (value.length < (limit.min ?? 0)) return `${value.length} characters, fewer than ${limit.min}`;
  if (!limit.pattern.test(value)) return `characters outside ${limit.pattern}`;
  return undefined;
}

/** Every length IAM allows, spelled with all its special characters, and names of one special character. */
const USER_NAMES = [
  ...Array.from({ length: MAX_USER_NAME }, (_, index) => userNameOf(index + 1)),
  ...IAM_NAME_SPECIALS.map((special) => `c${special.repeat(MAX_USER_NAME - 1)}`),
  "x".repeat(MAX_USER_NAME),
];

describe("the names of the stack's resources", () => {
  it("have a documented limit for every property that names or describes a resource", () => {
    // Act
    const unknown = Object.entries(template.Resources).flatMap(([id, resource]) =>
      Object.keys(resource.Properties ?? {})
        .filter((property) => NAMING.test(property) && LIMITS[resource.Type]?.[property] === undefined)
        // The permission names its function by Ref: the function's own (generated) name.
        .filter((property) => !(resource.Type === "AWS::Lambda::Permission" && property === "FunctionName"))
        .map((property) => `${id}.${property} (${resource.Type})`),
    );

    // Assess
    expect(unknown).toEqual([]);
  });

  it.each(USER_NAMES)("stay within every AWS limit for the IAM user %s", (userName) => {
    // Act
    const breaches = namedValues(stackValues(userName)).flatMap(({ where, value, limit }) => {
      const why = breach(value, limit);
      return why === undefined ? [] : [`${where} = ${value}: ${why} (${limit.source})`];
    });

    // Assess
    expect(breaches).toEqual([]);
  });

  it.each([
    ["rSsmRole", "RoleName", "GHS-AKM-SSM-"],
    ["rEventsRuleRotate", "Name", "GHS-AKM-Rotate-"],
    ["rEventsRuleListChanged", "Name", "GHS-AKM-List-"],
  ])(
    "keep %s's %s as %s<user> while it fits, and its beginning with a digest when not",
    (id, property, prefix) => {
      for (const userName of USER_NAMES) {
        // Act
        const name = String(
          resolveIntrinsics(template.Resources[id]?.Properties[property] ?? null, stackValues(userName)),
        );

        // Assess
        const whole = `${prefix}${property === "RoleName" ? userName : userName.replace(/[+=,@]/g, "_")}`;
        if (whole.length <= 64) expect(name).toBe(whole);
        else {
          expect(name).toHaveLength(64);
          expect(name).toMatch(/-[0-9a-f]{8}$/);
          expect(whole.startsWith(name.slice(0, 55))).toBe(true);
        }
      }
    },
  );

  it("differ for two long user names that differ only in their last character", () => {
    // Prepare
    const [first, second] = [`${"a".repeat(MAX_USER_NAME - 1)}1`, `${"a".repeat(MAX_USER_NAME - 1)}2`];

    // Act
    const names = [first, second].map((userName) =>
      ["rSsmRole", "rEventsRuleRotate", "rEventsRuleListChanged"].map((id) => {
        const properties = template.Resources[id]?.Properties ?? {};
        return resolveIntrinsics(properties.RoleName ?? properties.Name ?? null, stackValues(userName));
      }),
    );

    // Assess
    for (const [index, name] of (names[0] ?? []).entries()) expect(name).not.toBe(names[1]?.[index]);
  });

  it("of the function's role, the schedule's role and the alert rule carry the stack's UUID, whatever the user name", () => {
    // Act
    const [role, scheduleRole, rule] = ["rAkmFunctionRole", "rEventsRuleRotateRole", "rEventsRuleAlert"].map(
      (id) => {
        const properties = template.Resources[id]?.Properties ?? {};
        return resolveIntrinsics(
          properties.RoleName ?? properties.Name ?? null,
          stackValues(userNameOf(MAX_USER_NAME)),
        );
      },
    );

    // Assess
    expect(role).toBe("GHS-AKM-Lambda-51af3dc0-da77-11e4-872e-1234567db123");
    expect(scheduleRole).toBe("GHS-AKM-Schedule-51af3dc0-da77-11e4-872e-1234567db123");
    expect(rule).toBe("GHS-AKM-Alert-51af3dc0-da77-11e4-872e-1234567db123");
  });
});
