import { describe, expect, it } from "vitest";
import { UsageError } from "../../scripts/lib/shared/cli.ts";
import { parseCfnYaml, templateParameters } from "../../scripts/lib/shared/template.ts";
import { errorThrownBy } from "./cli-harness.ts";

describe("parseCfnYaml", () => {
  it("turns CloudFormation short-form tags into their long form", () => {
    // Prepare
    const text = [
      "Resources:",
      "  rTopic:",
      "    Type: AWS::SNS::Topic",
      "    Properties:",
      "      TopicName: !Sub alerts-topic",
      "      DisplayName: !Join ['-', [!Ref pName, !GetAtt rKey.Arn]]",
      "      KmsMasterKeyId: !If [cUseKey, !GetAtt [rKey, Arn], !Ref AWS::NoValue]",
      "      Tags:",
      "        - Key: Name",
      "          Value: !Select [0, !Split [',', !ImportValue shared-names]]",
    ].join("\n");

    // Act
    const template = parseCfnYaml(text, "t.yaml");

    // Assess
    expect(template).toEqual({
      Resources: {
        rTopic: {
          Type: "AWS::SNS::Topic",
          Properties: {
            TopicName: { "Fn::Sub": "alerts-topic" },
            DisplayName: { "Fn::Join": ["-", [{ Ref: "pName" }, { "Fn::GetAtt": ["rKey", "Arn"] }]] },
            KmsMasterKeyId: {
              "Fn::If": ["cUseKey", { "Fn::GetAtt": ["rKey", "Arn"] }, { Ref: "AWS::NoValue" }],
            },
            Tags: [
              {
                Key: "Name",
                Value: { "Fn::Select": [0, { "Fn::Split": [",", { "Fn::ImportValue": "shared-names" }] }] },
              },
            ],
          },
        },
      },
    });
  });

  it("splits !GetAtt at the first dot only, since attribute names may contain dots", () => {
    // Act
    const template = parseCfnYaml(
      "Resources: {}\nOutputs:\n  o:\n    Value: !GetAtt rDb.Endpoint.Address\n",
      "t",
    );

    // Assess
    expect(template.Outputs).toEqual({ o: { Value: { "Fn::GetAtt": ["rDb", "Endpoint.Address"] } } });
  });

  it("reads JSON templates", () => {
    // Act
    const template = parseCfnYaml('{"Resources": {"r": {"Type": "AWS::SNS::Topic"}}}', "t.json");

    // Assess
    expect(template).toEqual({ Resources: { r: { Type: "AWS::SNS::Topic" } } });
  });

  it("reports YAML errors with file, line and column", () => {
    // Act
    const error = errorThrownBy(() => parseCfnYaml("Resources:\n  r:\n    Type: [unclosed\n", "stack.yaml"));

    // Assess
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toMatch(/stack\.yaml:\d+:\d+ /);
  });

  it("refuses a document that is not a template", () => {
    // Act
    const error = errorThrownBy(() => parseCfnYaml("Repos: []\n", "repos.json"));

    // Assess
    expect(error.message).toContain(
      "repos.json is not a CloudFormation template: it has no Resources section",
    );
  });
});

describe("templateParameters", () => {
  it("lists the parameters in order and marks NoEcho ones, in boolean or string form", () => {
    // Prepare
    const template = parseCfnYaml(
      [
        "Parameters:",
        "  pA: { Type: String }",
        "  pToken: { Type: String, NoEcho: true }",
        "  pOther: { Type: String, NoEcho: 'true' }",
        "  pN: { Type: Number, NoEcho: false }",
        "Resources: {}",
      ].join("\n"),
      "t",
    );

    // Act
    const parameters = templateParameters(template, "t");

    // Assess
    expect(parameters.map(({ name, type, noEcho }) => ({ name, type, noEcho }))).toEqual([
      { name: "pA", type: "String", noEcho: false },
      { name: "pToken", type: "String", noEcho: true },
      { name: "pOther", type: "String", noEcho: true },
      { name: "pN", type: "Number", noEcho: false },
    ]);
  });

  it("reads the value constraints, numbers given as strings included", () => {
    // Prepare
    const template = parseCfnYaml(
      [
        "Parameters:",
        "  pHours:",
        "    Type: Number",
        "    MinValue: '2'",
        "    MaxValue: 2190",
        "  pMode:",
        "    Type: String",
        "    AllowedValues: [on, off, 3]",
        "    AllowedPattern: '[a-z0-9]+'",
        "    MaxLength: 3",
        "    ConstraintDescription: on or off",
        "Resources: {}",
      ].join("\n"),
      "t",
    );

    // Act
    const [hours, mode] = templateParameters(template, "t");

    // Assess
    expect(hours?.constraints).toEqual({ minValue: 2, maxValue: 2190 });
    expect(mode?.constraints).toEqual({
      allowedValues: ["on", "off", "3"],
      allowedPattern: "[a-z0-9]+",
      maxLength: 3,
      constraintDescription: "on or off",
    });
  });

  it("names a malformed parameter", () => {
    // Prepare
    const template = parseCfnYaml("Parameters:\n  pA: { Default: x }\nResources: {}\n", "t.yaml");

    // Act
    const error = errorThrownBy(() => templateParameters(template, "t.yaml"));

    // Assess
    expect(error.message).toContain("t.yaml: parameter pA");
  });
});
