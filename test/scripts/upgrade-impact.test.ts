import { readFile } from "node:fs/promises";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import {
  compareTemplates,
  renderTemplateDiff,
  renderUpgradeImpact,
  resolveParameters,
  type UpgradeImpact,
  upgradeImpact,
} from "../../scripts/lib/diff.ts";
import { type CfnTemplate, parseCfnYaml, section } from "../../scripts/lib/shared/template.ts";
import { DIST_TEMPLATE_PATH, ORIGINAL_STACK_FIXTURE } from "./cli-harness.ts";

// Tiny builders, in the style of @aws-cdk/cloudformation-diff's own tests.
type Resource = { Type: string; Properties?: Record<string, unknown>; [attribute: string]: unknown };

function template(
  resources: Record<string, Resource>,
  parameters: Record<string, unknown> = {},
): CfnTemplate {
  return { Parameters: parameters, Resources: resources };
}

function resource(type: string, properties: Record<string, unknown> = {}, attributes = {}): Resource {
  return { Type: type, Properties: properties, ...attributes };
}

function impactOf(
  before: CfnTemplate,
  after: CfnTemplate,
  values: Readonly<Record<string, string>> = {},
): UpgradeImpact {
  return upgradeImpact(compareTemplates(before, after, values));
}

// A stack of the original tool, as DescribeStacks shows its parameters (the token is NoEcho, so absent).
const ORIGINAL_STACK_VALUES = {
  pSnsEmailAddress: "ops@example.com",
  pRepoConfigBucketName: "example-akm-config",
  pRepoConfigKey: "repos.json",
  pGitHubMachineUserName: "akm-bot",
  pIamUserArn: "arn:aws:iam::123456789012:user/ci-deployer",
  pIamUserName: "ci-deployer",
  pHoursToRotate: "6",
  pGitHubSecretNameAwsKeyId: "AWS_ACCESS_KEY_ID",
  pGitHubSecretNameAwsKey: "AWS_SECRET_ACCESS_KEY",
};

const ids = (changes: readonly { logicalId: string }[]) => changes.map((change) => change.logicalId).sort();

async function readTemplate(path: string): Promise<CfnTemplate> {
  return parseCfnYaml(await readFile(path, "utf8"), path);
}

describe("upgrading the original stack to dist/", () => {
  let original: CfnTemplate;
  let dist: CfnTemplate;

  beforeAll(async () => {
    [original, dist] = await Promise.all([
      readTemplate(ORIGINAL_STACK_FIXTURE),
      readTemplate(DIST_TEMPLATE_PATH),
    ]);
  });

  it("removes no parameter, and asks for one new value only: the GitHub owners allowed to receive the key", () => {
    // Act
    const impact = impactOf(original, dist);

    // Assess
    expect(impact.parametersRemoved).toEqual([]);
    expect(impact.parametersAdded.filter((parameter) => parameter.needsValue)).toEqual([
      { name: "pAllowedGitHubOwners", needsValue: true },
    ]);
    expect(renderUpgradeImpact(impact)).toContain(
      "  - pAllowedGitHubOwners (no default: give a value when updating)",
    );
  });

  it("replaces none of the original resources but the schedule's role, which gains a name, and removes none", () => {
    // Act
    const impact = impactOf(original, dist, ORIGINAL_STACK_VALUES);

    // Assess: the original left the role's name to CloudFormation; it is GHS-AKM-Schedule-<stack UUID> now, so
    // that every role of the stack starts with GHS-AKM- (README, "What else is as good as holding the key").
    // Nothing names a generated role, and the schedule rule's RoleArn follows the new role.
    expect(impact.replaced.map((change) => [change.logicalId, change.causes])).toEqual([
      ["rEventsRuleRotateRole", ["RoleName"]],
    ]);
    expect(ids(impact.removed)).toEqual([]);
    expect(ids(impact.orphaned)).toEqual([]);
  });

  it("lists as added exactly the resources the original stack did not have", () => {
    // Prepare
    const originalIds = new Set(Object.keys(section(original, "Resources")));
    const newIds = Object.keys(section(dist, "Resources")).filter((id) => !originalIds.has(id));

    // Act
    const impact = impactOf(original, dist);

    // Assess
    expect(ids(impact.added)).toEqual(newIds.sort());
    expect(impact.added.flatMap((change) => change.notes)).toEqual([]);
  });

  it.each(["ci-deployer", "first.last_2", "x".repeat(49)])(
    "renames nothing the original named, for the user name %s",
    (userName) => {
      // Act
      const impact = impactOf(original, dist, { ...ORIGINAL_STACK_VALUES, pIamUserName: userName });

      // Assess: a name the original left to CloudFormation (the schedule's role) is not one it named.
      const named = (id: string, property: string) =>
        (section(original, "Resources")[id] as Resource | undefined)?.Properties?.[property] !== undefined;
      const renamed = [...impact.replaced, ...impact.mayBeReplaced].filter((change) =>
        change.causes.some(
          (cause) => ["Name", "RoleName", "BucketName"].includes(cause) && named(change.logicalId, cause),
        ),
      );
      expect(renamed).toEqual([]);
    },
  );

  it("may only replace the runbooks, and each one updates by adding a document version", () => {
    // Prepare
    const runbooks = [
      "rAkmSsmAutomation",
      "rAkmSsmGetRepoList",
      "rAkmSsmAddRepoConfig",
      "rAkmSsmDeleteRepoConfig",
    ];

    // Act
    const impact = impactOf(original, dist, ORIGINAL_STACK_VALUES);

    // Assess
    for (const change of impact.mayBeReplaced) {
      expect(runbooks).toContain(change.logicalId);
      expect(change.notes.join(" ")).toContain("UpdateMethod is NewVersion");
    }
  });

  it("keeps the four runbook names GHS-AKM-<IamUserName>-<action>", () => {
    // Prepare
    const nameOf = (t: CfnTemplate, id: string) =>
      (section(resolveParameters(t, ORIGINAL_STACK_VALUES), "Resources")[id] as Resource | undefined)
        ?.Properties?.Name;

    // Act
    const names = [
      "rAkmSsmAutomation",
      "rAkmSsmGetRepoList",
      "rAkmSsmAddRepoConfig",
      "rAkmSsmDeleteRepoConfig",
    ].map((id) => [nameOf(original, id), nameOf(dist, id)]);

    // Assess
    for (const [before, after] of names) expect(after).toEqual(before);
  });
});

describe("upgradeImpact", () => {
  it("reports a replaced resource with the property that forces it", () => {
    // Prepare
    const before = template({ rBucket: resource("AWS::S3::Bucket", { BucketName: "old-name" }) });
    const after = template({ rBucket: resource("AWS::S3::Bucket", { BucketName: "new-name" }) });

    // Act
    const impact = impactOf(before, after);

    // Assess
    expect(impact.replaced).toEqual([
      { logicalId: "rBucket", type: "AWS::S3::Bucket", causes: ["BucketName"], notes: [] },
    ]);
  });

  it("warns that a custom-named resource cannot be replaced under the same name", () => {
    // Prepare
    const before = template({ rQueue: resource("AWS::SQS::Queue", { QueueName: "jobs", FifoQueue: false }) });
    const after = template({ rQueue: resource("AWS::SQS::Queue", { QueueName: "jobs", FifoQueue: true }) });

    // Act
    const impact = impactOf(before, after);

    // Assess
    expect(ids(impact.replaced)).toEqual(["rQueue"]);
    expect(impact.replaced[0]?.causes).toEqual(["FifoQueue"]);
    expect(impact.replaced[0]?.notes.join(" ")).toContain("its QueueName stays the same");
  });

  it("tells removed resources from retained ones", () => {
    // Prepare
    const before = template({
      rTopic: resource("AWS::SNS::Topic"),
      rBucket: resource("AWS::S3::Bucket", {}, { DeletionPolicy: "Retain" }),
      rKept: resource("AWS::SNS::Topic"),
    });
    const after = template({ rKept: resource("AWS::SNS::Topic") });

    // Act
    const impact = impactOf(before, after);

    // Assess
    expect(ids(impact.removed)).toEqual(["rTopic"]);
    expect(ids(impact.orphaned)).toEqual(["rBucket"]);
    expect(ids(impact.updated)).toEqual([]);
  });

  it("warns when a renamed logical ID would create a resource whose name the removed one still holds", () => {
    // Prepare
    const before = template({ rOldRule: resource("AWS::Events::Rule", { Name: "GHS-AKM-Rotate-ci" }) });
    const after = template({ rNewRule: resource("AWS::Events::Rule", { Name: "GHS-AKM-Rotate-ci" }) });

    // Act
    const impact = impactOf(before, after);

    // Assess
    expect(ids(impact.removed)).toEqual(["rOldRule"]);
    expect(ids(impact.added)).toEqual(["rNewRule"]);
    expect(impact.added[0]?.notes.join(" ")).toContain("same Name as rOldRule");
  });

  it("reports added parameters, and which of them need a value", () => {
    // Prepare
    const resources = { rTopic: resource("AWS::SNS::Topic") };
    const before = template(resources, { pKept: { Type: "String" }, pGone: { Type: "String" } });
    const after = template(resources, {
      pKept: { Type: "String" },
      pWithDefault: { Type: "String", Default: "x" },
      pRequired: { Type: "String" },
    });

    // Act
    const impact = impactOf(before, after);

    // Assess
    expect(impact.parametersAdded).toEqual([
      { name: "pWithDefault", needsValue: false },
      { name: "pRequired", needsValue: true },
    ]);
    expect(impact.parametersRemoved).toEqual(["pGone"]);
  });

  it("reports constraint changes of a parameter but not description changes", () => {
    // Prepare
    const resources = { rTopic: resource("AWS::SNS::Topic") };
    const before = template(resources, {
      pName: { Type: "String", Description: "old" },
      pHours: { Type: "Number", Description: "old" },
    });
    const after = template(resources, {
      pName: { Type: "String", Description: "new", AllowedPattern: "^[a-z]+$" },
      pHours: { Type: "Number", Description: "new", ConstraintDescription: "whole hours" },
    });

    // Act
    const impact = impactOf(before, after);

    // Assess
    expect(impact.parametersChanged).toEqual([{ name: "pName", fields: ["AllowedPattern"] }]);
  });

  it("compares inline code by fingerprint, so a code change is an in-place update", () => {
    // Prepare
    const code = (version: number) => `exports.handler = async () => ${version};\n`.repeat(200);
    const fn = (version: number) =>
      resource("AWS::Lambda::Function", { Runtime: "nodejs24.x", Code: { ZipFile: code(version) } });

    // Act
    const diff = compareTemplates(template({ rFn: fn(1) }), template({ rFn: fn(2) }));

    // Assess
    expect(ids(upgradeImpact(diff).updated)).toEqual(["rFn"]);
    expect(renderTemplateDiff(diff)).not.toContain("exports.handler");
  });
});

describe("diffing generated templates", () => {
  const logicalId = fc.constantFrom("rA", "rB", "rC", "rD");
  const resourceType = fc.constantFrom(
    "AWS::S3::Bucket",
    "AWS::SNS::Topic",
    "AWS::SQS::Queue",
    "AWS::IAM::Role",
    "AWS::SSM::Document",
    "Custom::Unknown",
  );
  const propertyValue = fc.oneof(
    fc.string({ maxLength: 8 }),
    fc.integer(),
    fc.boolean(),
    fc.array(fc.string({ maxLength: 4 }), { maxLength: 3 }),
    fc.record({ Ref: fc.constantFrom("pA", "pB", "AWS::Region") }),
  );
  const properties = fc.dictionary(
    fc.constantFrom("Name", "BucketName", "QueueName", "FifoQueue", "Description", "Tags", "Content"),
    propertyValue,
    { maxKeys: 3 },
  );
  const generatedResource = fc.record(
    { Type: resourceType, Properties: properties, DeletionPolicy: fc.constantFrom("Delete", "Retain") },
    { requiredKeys: ["Type"] },
  );
  const generatedTemplate = fc.record({
    Parameters: fc.dictionary(
      fc.constantFrom("pA", "pB", "pC"),
      fc.record(
        { Type: fc.constantFrom("String", "Number"), Default: fc.string({ maxLength: 4 }) },
        {
          requiredKeys: ["Type"],
        },
      ),
      { maxKeys: 3 },
    ),
    Resources: fc.dictionary(logicalId, generatedResource, { maxKeys: 4 }),
  });

  it("never crashes, and puts every changed resource in exactly one category that matches where it exists", () => {
    fc.assert(
      fc.property(generatedTemplate, generatedTemplate, (before, after) => {
        // Act
        const diff = compareTemplates(before, after);
        const impact = upgradeImpact(diff);
        renderUpgradeImpact(impact);
        renderTemplateDiff(diff);

        // Assess
        const categories = [
          impact.replaced,
          impact.mayBeReplaced,
          impact.removed,
          impact.orphaned,
          impact.added,
          impact.updated,
        ].flatMap(ids);
        expect(new Set(categories).size).toBe(categories.length);
        for (const id of Object.keys(after.Resources)) {
          if (!(id in before.Resources)) expect(ids(impact.added)).toContain(id);
        }
        for (const id of Object.keys(before.Resources)) {
          if (!(id in after.Resources))
            expect([...ids(impact.removed), ...ids(impact.orphaned)]).toContain(id);
        }
      }),
    );
  });
});
