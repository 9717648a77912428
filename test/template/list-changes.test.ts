/**
 * Every change of the repository list is announced: the bucket sends its events to EventBridge, one rule passes the
 * list's own changes to the function, which may read the list's versions and publish to the stack's topic — and
 * nothing more.
 */
import { describe, expect, it } from "vitest";
import {
  asArray,
  type Json,
  loadTemplate,
  policyStatements,
  resolveIntrinsics,
  resource,
  type Statement,
} from "./dist.ts";

const { template } = loadTemplate();

function functionStatement(sid: string): Statement {
  const found = policyStatements(template).find(
    (entry) => entry.where.startsWith("rAkmFunctionRole policy ") && entry.statement.Sid === sid,
  );
  if (!found) throw new Error(`the function's role has no statement ${sid}`);
  expect(found.condition).toBeUndefined();
  return found.statement;
}

describe("the repository list's changes", () => {
  it("reach EventBridge: the bucket sends its events there", () => {
    expect(resource(template, "rRepoConfigBucket").Properties.NotificationConfiguration).toEqual({
      EventBridgeConfiguration: { EventBridgeEnabled: true },
    });
  });

  it("are picked by a rule matching only the list's Object Created and Object Deleted events", () => {
    const rule = resource(template, "rEventsRuleListChanged");
    expect(rule.Type).toBe("AWS::Events::Rule");
    expect(resolveIntrinsics(rule.Properties.Name as Json)).toBe("GHS-AKM-List-ci-deployer");
    expect(rule.Properties.EventPattern).toEqual({
      source: ["aws.s3"],
      "detail-type": ["Object Created", "Object Deleted"],
      detail: {
        bucket: { name: [{ Ref: "rRepoConfigBucket" }] },
        object: { key: [{ Ref: "pRepoConfigKey" }] },
      },
    });
  });

  it("go to the function unchanged (no input transformation), which only that rule may invoke that way", () => {
    const targets = asArray(resource(template, "rEventsRuleListChanged").Properties.Targets as Json) as {
      Arn: Json;
      Input?: Json;
      InputTransformer?: Json;
    }[];
    expect(targets).toHaveLength(1);
    expect(targets[0]?.Arn).toEqual({ "Fn::GetAtt": ["rAkmFunction", "Arn"] });
    expect(targets[0]?.Input).toBeUndefined();
    expect(targets[0]?.InputTransformer).toBeUndefined();
    const permission = resource(template, "rListChangedInvokesFunction");
    expect(permission.Type).toBe("AWS::Lambda::Permission");
    expect(permission.Properties).toEqual({
      Action: "lambda:InvokeFunction",
      FunctionName: { Ref: "rAkmFunction" },
      Principal: "events.amazonaws.com",
      SourceArn: { "Fn::GetAtt": ["rEventsRuleListChanged", "Arn"] },
    });
  });
});

describe("the function's permissions for announcing", () => {
  it("reads versions of the list object only", () => {
    const statement = functionStatement("ReadRepoListVersions");
    expect(statement.Action).toBe("s3:GetObjectVersion");
    // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax.
    expect(statement.Resource).toEqual({ "Fn::Sub": "${rRepoConfigBucket.Arn}/${pRepoConfigKey}" });
  });

  it("lists versions only under the list's key", () => {
    const statement = functionStatement("ListRepoListVersions");
    expect(statement.Action).toBe("s3:ListBucketVersions");
    expect(statement.Resource).toEqual({ "Fn::GetAtt": ["rRepoConfigBucket", "Arn"] });
    expect(statement.Condition).toEqual({ StringEquals: { "s3:prefix": { Ref: "pRepoConfigKey" } } });
  });

  it("publishes to the stack's topic only, using the key only through SNS for that topic", () => {
    const publish = functionStatement("PublishAlerts");
    expect(publish.Action).toBe("sns:Publish");
    expect(publish.Resource).toEqual({ Ref: "rSnsTopic" });
    const key = functionStatement("UseKeyThroughSnsForAlerts");
    expect([...asArray(key.Action)].sort()).toEqual(["kms:Decrypt", "kms:GenerateDataKey"]);
    expect(key.Resource).toEqual({ "Fn::GetAtt": ["rKmsKey", "Arn"] });
    expect(key.Condition).toEqual({
      StringEquals: {
        // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax.
        "kms:ViaService": { "Fn::Sub": "sns.${AWS::Region}.${AWS::URLSuffix}" },
        "kms:EncryptionContext:aws:sns:topicArn": { Ref: "rSnsTopic" },
      },
    });
  });
});
