// biome-ignore-all lint/suspicious/noTemplateCurlyInString: "${...}" here is CloudFormation Fn::Sub syntax.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { safeIamUserName } from "../../scripts/build/cfn-yaml.mjs";
import { refusedCurrentValues, resolveParameters } from "../../scripts/lib/diff.ts";
import { PROJECT_ROOT } from "../../scripts/lib/shared/cli.ts";
import {
  parameterSetProblems,
  readDistTemplate,
  templateParameters,
} from "../../scripts/lib/shared/template.ts";

function nameOf(name: unknown, values: Record<string, string>): unknown {
  return resolveParameters({ Resources: { r: { Type: "T", Properties: { Name: name } } } }, values).Resources;
}

describe("resolveParameters", () => {
  it("resolves a Sub of parameters and the Join/Split spelling of the same name to the same string", () => {
    // Prepare
    const values = { pIamUserName: "ci-deployer" };

    // Act
    const original = nameOf({ "Fn::Sub": "GHS-AKM-${pIamUserName}-Rotate" }, values);
    const derived = nameOf({ "Fn::Sub": ["GHS-AKM-${User}-Rotate", { User: safeIamUserName() }] }, values);

    // Assess
    expect(derived).toEqual(original);
    expect(original).toEqual({ r: { Type: "T", Properties: { Name: "GHS-AKM-ci-deployer-Rotate" } } });
  });

  it("computes the template's safe user name as written: + = , @ become _, any other name is unchanged", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[\w+=,.@-]{1,64}$/), (userName) => {
        // Act
        const resolved = nameOf(safeIamUserName(), { pIamUserName: userName });

        // Assess
        expect(resolved).toEqual({
          r: { Type: "T", Properties: { Name: userName.replace(/[+=,@]/g, "_") } },
        });
      }),
    );
  });

  it("leaves resources, pseudo parameters, escapes and unknown parameters as written", () => {
    // Act
    const resolved = nameOf(
      { "Fn::Sub": "arn:${AWS::Partition}:s3:::${pBucket}/${rThing.Arn}/${!Literal}" },
      { pBucket: "b" },
    );

    // Assess
    expect(resolved).toEqual({
      r: {
        Type: "T",
        Properties: { Name: { "Fn::Sub": "arn:${AWS::Partition}:s3:::b/${rThing.Arn}/${!Literal}" } },
      },
    });
  });
});

describe("resolveParameters with the names the stack's function computes", () => {
  const names = {
    Type: "Custom::ResourceNames",
    Properties: { MaxLength: "64", Names: { RoleName: { "Fn::Sub": "GHS-AKM-SSM-${pIamUserName}" } } },
  };
  const role = (userName?: string) =>
    resolveParameters(
      {
        Resources: {
          rNames: names,
          rRole: {
            Type: "AWS::IAM::Role",
            Properties: { RoleName: { "Fn::GetAtt": ["rNames", "RoleName"] } },
          },
          rRef: {
            Type: "T",
            Properties: { Arn: { "Fn::Sub": "arn:aws:iam::123456789012:role/${rNames.RoleName}" } },
          },
        },
      },
      userName === undefined ? {} : { pIamUserName: userName },
    ).Resources as Record<string, { Properties: Record<string, unknown> }>;

  it("gives the original stack's name while it fits, so a kept name compares equal", () => {
    // Act
    const resources = role("ci-deployer");

    // Assess
    expect(resources.rRole?.Properties.RoleName).toBe("GHS-AKM-SSM-ci-deployer");
    expect(resources.rRef?.Properties.Arn).toBe("arn:aws:iam::123456789012:role/GHS-AKM-SSM-ci-deployer");
  });

  it("gives the function's shortened name for a name beyond the limit", () => {
    // Act
    const resources = role("x".repeat(64));

    // Assess
    expect(resources.rRole?.Properties.RoleName).toMatch(/^GHS-AKM-SSM-x{43}-[0-9a-f]{8}$/);
  });

  it("keeps the attribute as written when a value it needs is not known", () => {
    // Act
    const resources = role();

    // Assess
    expect(resources.rRole?.Properties.RoleName).toEqual({ "Fn::GetAtt": ["rNames", "RoleName"] });
  });
});

describe("refusedCurrentValues", () => {
  it("names each current value the new template refuses, and an ARN of another user than the name", async () => {
    // Prepare
    const dist = await readDistTemplate(PROJECT_ROOT);
    const parameters = templateParameters(dist.template, dist.path);

    // Act
    const refused = refusedCurrentValues(parameters, {
      pHoursToRotate: "2.5",
      pGraceMinutes: "30",
      pIamUserName: "ci-deployer",
      pIamUserArn: "arn:aws:iam::123456789012:user/ci-other",
      pRemovedParameter: "anything",
    });

    // Assess
    expect(refused).toHaveLength(2);
    expect(refused[0]).toMatch(/^pHoursToRotate = "2\.5": must be a whole number of hours/);
    expect(refused[1]).toContain("pIamUserArn arn:aws:iam::123456789012:user/ci-other is user ci-other");
  });
});

describe("parameterSetProblems", () => {
  it.each([
    ["ci@example.com", "arn:aws:iam::123456789012:user/ci@example.com", 0],
    ["ci-deployer", "arn:aws:iam::123456789012:user/team/ci-deployer", 0],
    ["ci-deployer", "arn:aws:iam::123456789012:user/ci-deployer2", 1],
  ])("for %s and %s finds %d problem(s)", (name, arn, count) => {
    // Act
    const problems = parameterSetProblems({ pIamUserName: name, pIamUserArn: arn });

    // Assess
    expect(problems).toHaveLength(count);
  });
});
