// biome-ignore-all lint/suspicious/noTemplateCurlyInString: "${...}" here is CloudFormation Fn::Sub syntax.
import { describe, expect, it } from "vitest";
import { lockKey, progressKey } from "../../src/config/settings.ts";
import {
  asArray,
  type Json,
  type JsonObject,
  loadTemplate,
  policyStatements,
  resolveIntrinsics,
  resource,
  resourcesOfType,
  SAMPLE_PARAMETERS,
  SAMPLE_STACK_UUID,
  type Statement,
  walk,
} from "./dist.ts";

const { template } = loadTemplate();
const statements = policyStatements(template);

/** The statements of one inline policy of a role, by Sid. */
function roleStatements(roleId: string): Record<string, Statement> {
  const out: Record<string, Statement> = {};
  for (const { where, statement } of statements) {
    if (where.startsWith(`${roleId} policy `)) out[statement.Sid ?? "(no Sid)"] = statement;
  }
  return out;
}

function actions(statement: Statement): string[] {
  return [...asArray(statement.Action)].sort();
}

// Where a policy may say Resource "*", and why. Anything else must name its resources.
const STAR_RESOURCE_ALLOWED: Record<string, string> = {
  "rKmsKey key policy": 'in a key policy, "*" means the key itself',
  rGitHubTokenSecretPolicy: 'in a secret\'s resource policy, "*" means the secret itself',
  rRotationStateSecretPolicy: 'in a secret\'s resource policy, "*" means the secret itself',
  "rAkmFunctionRole policy rotate-one-users-keys":
    'with fixed egress only: ec2:DescribeNetworkInterfaces and ec2:DescribeSubnets work only on "*" (Lambda VPC docs)',
};

// Wildcard actions, and why each is acceptable.
const WILDCARD_ACTIONS_ALLOWED: Record<string, string> = {
  "rKmsKey key policy EventBridgePublishesToEncryptedTopic kms:GenerateDataKey*":
    "the documented grant for EventBridge publishing to an encrypted topic",
  "rKmsKey key policy LogsEncryptsFunctionLogGroup kms:Encrypt*": "the documented CloudWatch Logs key policy",
  "rKmsKey key policy LogsEncryptsFunctionLogGroup kms:Decrypt*": "the documented CloudWatch Logs key policy",
  "rKmsKey key policy LogsEncryptsFunctionLogGroup kms:ReEncrypt*":
    "the documented CloudWatch Logs key policy",
  "rKmsKey key policy LogsEncryptsFunctionLogGroup kms:GenerateDataKey*":
    "the documented CloudWatch Logs key policy",
  "rRepoConfigBucketPolicy DenyRequestsWithoutTls s3:*": "a Deny: every S3 action over plain HTTP is refused",
};

describe("partitions", () => {
  it("builds every ARN with ${AWS::Partition}: no literal arn:aws: in resources or outputs", () => {
    const offenders: string[] = [];
    const tree = { Resources: template.Resources, Outputs: template.Outputs } as unknown as Json;
    for (const { node, path } of walk(tree)) {
      // The Lambda code is JavaScript, not template data.
      if (path.includes("ZipFile")) continue;
      if (typeof node === "string" && node.includes("arn:aws:")) offenders.push(path.join("."));
    }
    expect(offenders).toEqual([]);
  });

  it("uses ${AWS::URLSuffix} for service endpoints and principals that differ in China", () => {
    const text = JSON.stringify(template.Resources);
    expect(text).not.toMatch(/secretsmanager\.\$\{AWS::Region\}\.amazonaws\.com/);
    expect(text).not.toMatch(/logs\.\$\{AWS::Region\}\.amazonaws\.com/);
  });
});

describe("policies grant least privilege", () => {
  it("has no '*' action and no service-wide wildcard except the listed ones", () => {
    const found: string[] = [];
    for (const { where, statement } of statements) {
      for (const action of actions(statement)) {
        if (action.includes("*")) found.push(`${where} ${statement.Sid} ${action}`);
      }
    }
    expect(found.sort()).toEqual(Object.keys(WILDCARD_ACTIONS_ALLOWED).sort());
    expect(found.some((a) => a.endsWith(" logs:*"))).toBe(false);
  });

  it("names its resources: Resource '*' only where AWS requires it", () => {
    const found = new Set<string>();
    for (const { where, statement } of statements) {
      if (asArray(statement.Resource as Json).includes("*")) found.add(where);
    }
    expect([...found].sort()).toEqual(Object.keys(STAR_RESOURCE_ALLOWED).sort());
  });

  it("gives every permission statement a Sid saying what it is for", () => {
    for (const { where, statement } of statements) {
      expect(statement.Sid, where).toMatch(/^[A-Za-z0-9]{6,}$/);
    }
  });
});

describe("the function's role", () => {
  const s = roleStatements("rAkmFunctionRole");

  it("allows exactly these statements", () => {
    expect(Object.keys(s).sort()).toEqual(
      [
        "HoldRunLock",
        "KeepRotationProgress",
        "KeepRotationState",
        "ListRepoListVersions",
        "ManageKeysOfOneUser",
        "PublishAlerts",
        "ReadGitHubToken",
        "ReadRepoListVersions",
        "ReadWriteRepoList",
        "SetRunbookDefaultVersions",
        "TellMissingRepoListFromDenied",
        "UseKeyThroughS3ForProgress",
        "UseKeyThroughSecretsManager",
        "UseKeyThroughSnsForAlerts",
        "WriteOwnLogs",
        // Only under a condition (an optional parameter set):
        "ReadGitHubCaBundle",
        "DescribeVpcNetworking",
        "ManageOwnNetworkInterfaces",
      ].sort(),
    );
    for (const statement of Object.values(s)) expect(statement.Effect).toBe("Allow");
  });

  it("reads a GitHub CA bundle only when one is configured, and only that object", () => {
    const found = statements.find((entry) => entry.statement.Sid === "ReadGitHubCaBundle");
    expect(found?.condition).toBe("HasGitHubCaBundle");
    expect(actions(s.ReadGitHubCaBundle as Statement)).toEqual(["s3:GetObject"]);
    expect(s.ReadGitHubCaBundle?.Resource).toEqual({
      "Fn::Sub": "${rRepoConfigBucket.Arn}/${pGitHubCaBundleKey}",
    });
    expect(template.Conditions?.HasGitHubCaBundle).toEqual({
      "Fn::Not": [{ "Fn::Equals": [{ Ref: "pGitHubCaBundleKey" }, ""] }],
    });
  });

  it("may manage network interfaces only with fixed egress, in its own account and region", () => {
    for (const sid of ["DescribeVpcNetworking", "ManageOwnNetworkInterfaces"]) {
      expect(statements.find((entry) => entry.statement.Sid === sid)?.condition).toBe("HasFixedEgress");
    }
    expect(actions(s.DescribeVpcNetworking as Statement)).toEqual([
      "ec2:DescribeNetworkInterfaces",
      "ec2:DescribeSubnets",
    ]);
    expect(actions(s.ManageOwnNetworkInterfaces as Statement)).toEqual([
      "ec2:AssignPrivateIpAddresses",
      "ec2:CreateNetworkInterface",
      "ec2:DeleteNetworkInterface",
      "ec2:UnassignPrivateIpAddresses",
    ]);
    expect(s.ManageOwnNetworkInterfaces?.Resource).toEqual({
      "Fn::Sub": "arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:*/*",
    });
    const unconditional = statements.filter((entry) => entry.condition === undefined);
    expect(unconditional.some((entry) => JSON.stringify(entry.statement.Action).includes("ec2:"))).toBe(
      false,
    );
  });

  it("writes only its own log group (no logs:CreateLogGroup, no logs:*)", () => {
    expect(actions(s.WriteOwnLogs as Statement)).toEqual(["logs:CreateLogStream", "logs:PutLogEvents"]);
    expect(s.WriteOwnLogs?.Resource).toEqual({ "Fn::GetAtt": ["rAkmFunctionLogGroup", "Arn"] });
  });

  it("manages the access keys of the one configured user", () => {
    expect(actions(s.ManageKeysOfOneUser as Statement)).toEqual(
      [
        "iam:CreateAccessKey",
        "iam:DeleteAccessKey",
        "iam:GetUser",
        "iam:ListAccessKeys",
        "iam:UpdateAccessKey",
      ].sort(),
    );
    expect(s.ManageKeysOfOneUser?.Resource).toEqual({ Ref: "pIamUserArn" });
  });

  it("reads the token and reads/writes the state, each on its own secret", () => {
    expect(actions(s.ReadGitHubToken as Statement)).toEqual(["secretsmanager:GetSecretValue"]);
    expect(s.ReadGitHubToken?.Resource).toEqual({ Ref: "rGitHubTokenSecret" });
    expect(actions(s.KeepRotationState as Statement)).toEqual([
      "secretsmanager:GetSecretValue",
      "secretsmanager:PutSecretValue",
    ]);
    expect(s.KeepRotationState?.Resource).toEqual({ Ref: "rRotationStateSecret" });
  });

  it("uses the KMS key through Secrets Manager for the secrets", () => {
    expect(actions(s.UseKeyThroughSecretsManager as Statement)).toEqual([
      "kms:Decrypt",
      "kms:GenerateDataKey",
    ]);
    expect(s.UseKeyThroughSecretsManager?.Resource).toEqual({ "Fn::GetAtt": ["rKmsKey", "Arn"] });
    expect(s.UseKeyThroughSecretsManager?.Condition).toEqual({
      StringEquals: { "kms:ViaService": { "Fn::Sub": "secretsmanager.${AWS::Region}.${AWS::URLSuffix}" } },
    });
  });

  it("reads and writes the repository list object, and may list its bucket to see it is missing", () => {
    expect(actions(s.ReadWriteRepoList as Statement)).toEqual(["s3:GetObject", "s3:PutObject"]);
    expect(s.ReadWriteRepoList?.Resource).toEqual({
      "Fn::Sub": "${rRepoConfigBucket.Arn}/${pRepoConfigKey}",
    });
    expect(actions(s.TellMissingRepoListFromDenied as Statement)).toEqual(["s3:ListBucket"]);
    expect(s.TellMissingRepoListFromDenied?.Resource).toEqual({ "Fn::GetAtt": ["rRepoConfigBucket", "Arn"] });
  });

  it("keeps its progress in one object beside the list, and uses the KMS key through S3 for that object only", () => {
    expect(actions(s.KeepRotationProgress as Statement)).toEqual(["s3:GetObject", "s3:PutObject"]);
    const progressArn = resolveIntrinsics(s.KeepRotationProgress?.Resource as Json);
    const listArn = resolveIntrinsics(s.ReadWriteRepoList?.Resource as Json);
    const key = SAMPLE_PARAMETERS.pRepoConfigKey as string;
    expect(progressArn).toBe(String(listArn).replace(new RegExp(`${key}$`), progressKey(key)));
    expect(actions(s.UseKeyThroughS3ForProgress as Statement)).toEqual([
      "kms:Decrypt",
      "kms:GenerateDataKey",
    ]);
    expect(s.UseKeyThroughS3ForProgress?.Resource).toEqual({ "Fn::GetAtt": ["rKmsKey", "Arn"] });
    const condition = s.UseKeyThroughS3ForProgress?.Condition as JsonObject;
    expect(Object.keys(condition)).toEqual(["StringEquals"]);
    const equals = condition.StringEquals as JsonObject;
    expect(equals["kms:ViaService"]).toEqual({ "Fn::Sub": "s3.${AWS::Region}.${AWS::URLSuffix}" });
    expect(resolveIntrinsics(equals["kms:EncryptionContext:aws:s3:arn"] as Json)).toBe(progressArn);
  });

  it("holds the run lock the function takes, and nothing else of the bucket", () => {
    expect(actions(s.HoldRunLock as Statement)).toEqual(["s3:DeleteObject", "s3:GetObject", "s3:PutObject"]);
    const lockArn = resolveIntrinsics(s.HoldRunLock?.Resource as Json);
    const listArn = resolveIntrinsics(s.ReadWriteRepoList?.Resource as Json);
    const key = SAMPLE_PARAMETERS.pRepoConfigKey as string;
    expect(lockArn).toBe(String(listArn).replace(new RegExp(`${key}$`), lockKey(key)));
  });

  it("reads and sets the default versions of the stack's four runbooks, and of no other document", () => {
    expect(actions(s.SetRunbookDefaultVersions as Statement)).toEqual([
      "ssm:DescribeDocument",
      "ssm:UpdateDocumentDefaultVersion",
    ]);
    // The runbooks' own Name, as an ARN; Fn::Sub of names rather than Refs (a Ref would be a cycle).
    const documentArns = resourcesOfType(template, "AWS::SSM::Document").map(([, document]) => {
      const [name, variables] = (document.Properties.Name as { "Fn::Sub": [string, JsonObject] })["Fn::Sub"];
      return {
        "Fn::Sub": [
          `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:document/${name}`,
          variables,
        ],
      };
    });
    expect(documentArns).toHaveLength(4);
    expect(s.SetRunbookDefaultVersions?.Resource).toEqual(documentArns);
  });

  it("is assumable by Lambda only, for this account", () => {
    const trust = resource(template, "rAkmFunctionRole").Properties.AssumeRolePolicyDocument as JsonObject;
    expect(trust.Statement).toEqual([
      {
        Effect: "Allow",
        Principal: { Service: "lambda.amazonaws.com" },
        Action: "sts:AssumeRole",
        Condition: { StringEquals: { "aws:SourceAccount": { Ref: "AWS::AccountId" } } },
      },
    ]);
  });

  it("is named after the stack's UUID, as the key policy names it (a 64-character user name would not fit)", () => {
    const name = resolveIntrinsics(resource(template, "rAkmFunctionRole").Properties.RoleName as Json);
    const keyPolicy = statements
      .filter(
        (s) => s.where === "rKmsKey key policy" && JSON.stringify(s.statement).includes("GHS-AKM-Lambda"),
      )
      .map((s) => JSON.stringify(resolveIntrinsics(s.statement as unknown as Json)));
    expect(name).toBe(`GHS-AKM-Lambda-${SAMPLE_STACK_UUID}`);
    expect(keyPolicy).toHaveLength(3);
    for (const statement of keyPolicy) expect(statement).toContain(`:role/${String(name)}"`);
  });
});

describe("the runbooks' role (rSsmRole)", () => {
  it("can only invoke the function, and pass itself to Systems Manager as AWS's setup guide has it", () => {
    expect(Object.values(roleStatements("rSsmRole"))).toEqual([
      {
        Sid: "InvokeTheFunction",
        Effect: "Allow",
        Action: "lambda:InvokeFunction",
        Resource: { "Fn::GetAtt": ["rAkmFunction", "Arn"] },
      },
      {
        Sid: "PassOwnRoleToSystemsManager",
        Effect: "Allow",
        Action: "iam:PassRole",
        Resource: {
          "Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${rResourceNames.SsmRoleName}",
        },
        Condition: { StringEquals: { "iam:PassedToService": "ssm.amazonaws.com" } },
      },
    ]);
    const roleName = resource(template, "rSsmRole").Properties.RoleName;
    expect(roleName).toEqual({ "Fn::GetAtt": ["rResourceNames", "SsmRoleName"] });
    expect(resolveIntrinsics(roleName as Json)).toBe("GHS-AKM-SSM-ci-deployer");
  });

  it("is assumable only by Systems Manager automations of this account", () => {
    const trust = resource(template, "rSsmRole").Properties.AssumeRolePolicyDocument as JsonObject;
    expect(trust.Statement).toEqual([
      {
        Effect: "Allow",
        Principal: { Service: "ssm.amazonaws.com" },
        Action: "sts:AssumeRole",
        Condition: {
          StringEquals: { "aws:SourceAccount": { Ref: "AWS::AccountId" } },
          ArnLike: {
            "aws:SourceArn": {
              "Fn::Sub": "arn:${AWS::Partition}:ssm:*:${AWS::AccountId}:automation-execution/*",
            },
          },
        },
      },
    ]);
  });
});

describe("the schedule's role (rEventsRuleRotateRole)", () => {
  const s = roleStatements("rEventsRuleRotateRole");

  it("starts only the Rotate runbook", () => {
    expect(s.StartRotateRunbook).toMatchObject({
      Effect: "Allow",
      Action: "ssm:StartAutomationExecution",
      Resource: {
        "Fn::Sub":
          "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:automation-definition/${rAkmSsmAutomation}:*",
      },
    });
  });

  it("may pass the runbook role to Systems Manager, which the original stack forgot", () => {
    expect(s.PassRunbookRoleToSsm).toEqual({
      Sid: "PassRunbookRoleToSsm",
      Effect: "Allow",
      Action: "iam:PassRole",
      Resource: { "Fn::GetAtt": ["rSsmRole", "Arn"] },
      Condition: { StringEquals: { "iam:PassedToService": "ssm.amazonaws.com" } },
    });
  });

  it("has nothing else", () => {
    expect(Object.keys(s).sort()).toEqual(["PassRunbookRoleToSsm", "StartRotateRunbook"]);
  });
});

describe("the repository list bucket", () => {
  const bucket = resource(template, "rRepoConfigBucket");

  it("keeps every version of the list", () => {
    expect(bucket.Properties.VersioningConfiguration).toEqual({ Status: "Enabled" });
  });

  it("is private, encrypted and owned by the account", () => {
    expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket.Properties.OwnershipControls).toEqual({
      Rules: [{ ObjectOwnership: "BucketOwnerEnforced" }],
    });
    expect(bucket.Properties.BucketEncryption).toBeDefined();
  });

  it("survives the stack's deletion (the list is the user's data), but not a failed first create", () => {
    // RetainExceptOnCreate: a rolled-back creation deletes the new bucket, so a retry can use its name.
    expect(bucket.DeletionPolicy).toBe("RetainExceptOnCreate");
    expect(bucket.UpdateReplacePolicy).toBe("Retain");
  });

  it("refuses requests without TLS", () => {
    const policy = resource(template, "rRepoConfigBucketPolicy").Properties;
    expect(policy.Bucket).toEqual({ Ref: "rRepoConfigBucket" });
    expect((policy.PolicyDocument as JsonObject).Statement).toContainEqual({
      Sid: "DenyRequestsWithoutTls",
      Effect: "Deny",
      Principal: "*",
      Action: "s3:*",
      Resource: [{ "Fn::GetAtt": ["rRepoConfigBucket", "Arn"] }, { "Fn::Sub": "${rRepoConfigBucket.Arn}/*" }],
      Condition: { Bool: { "aws:SecureTransport": "false" } },
    });
  });
});

describe("encrypted alerts", () => {
  const keyStatements = statements.filter((s) => s.where === "rKmsKey key policy").map((s) => s.statement);

  it("encrypts the topic with the stack's customer managed key", () => {
    expect(resource(template, "rSnsTopic").Properties.KmsMasterKeyId).toEqual({
      "Fn::GetAtt": ["rKmsKey", "Arn"],
    });
  });

  it("lets EventBridge use that key, which an AWS managed key cannot allow", () => {
    expect(keyStatements).toContainEqual(
      expect.objectContaining({
        Effect: "Allow",
        Principal: { Service: "events.amazonaws.com" },
        Action: expect.arrayContaining(["kms:Decrypt", "kms:GenerateDataKey*"]),
      }),
    );
  });

  it("lets only the failure rule publish to the topic", () => {
    const policy = resource(template, "rSnsTopicPolicy").Properties;
    expect(policy.Topics).toEqual([{ Ref: "rSnsTopic" }]);
    expect((policy.PolicyDocument as JsonObject).Statement).toEqual([
      {
        Sid: "FailureRulePublishesAlerts",
        Effect: "Allow",
        Principal: { Service: "events.amazonaws.com" },
        Action: "sns:Publish",
        Resource: { Ref: "rSnsTopic" },
        Condition: { ArnEquals: { "aws:SourceArn": { "Fn::GetAtt": ["rEventsRuleAlert", "Arn"] } } },
      },
    ]);
  });

  it.each(["ci-deployer", "ci@example.com"])(
    "lets CloudWatch Logs use the key for the function's log group only (user %s)",
    (user) => {
      // Prepare
      const logs = keyStatements.find((s) => s.Sid === "LogsEncryptsFunctionLogGroup");
      const values = { ...SAMPLE_PARAMETERS, pIamUserName: user };
      const groupName = resolveIntrinsics(
        resource(template, "rAkmFunctionLogGroup").Properties.LogGroupName ?? null,
        values,
      );

      // Act
      const condition = resolveIntrinsics(logs?.Condition ?? null, values);

      // Assess
      expect(condition).toEqual({
        ArnEquals: {
          "kms:EncryptionContext:aws:logs:arn": `arn:aws:logs:eu-west-1:123456789012:log-group:${String(groupName)}`,
        },
      });
    },
  );
});

describe("who may read the key and the token", () => {
  const key: Record<string, Statement> = Object.fromEntries(
    statements
      .filter((s) => s.where === "rKmsKey key policy")
      .map(({ statement }) => [statement.Sid, statement]),
  );

  it("delegates no use of the KMS key to IAM policies: every use by the account names its service", () => {
    const uses = [
      "kms:Decrypt",
      "kms:Encrypt",
      "kms:GenerateDataKey",
      "kms:ReEncryptFrom",
      "kms:CreateGrant",
    ];
    const loose = Object.values(key).filter((statement) => {
      const granted = actions(statement);
      return (
        JSON.stringify(statement.Principal).includes(":root") &&
        granted.some((a) => a === "kms:*" || uses.includes(a)) &&
        !JSON.stringify(statement.Condition ?? {}).includes("kms:ViaService")
      );
    });
    expect(loose).toEqual([]);
  });

  it("lets the function's role alone decrypt, through Secrets Manager, for the stack's two secrets", () => {
    const decrypt = resolveIntrinsics(key.FunctionDecryptsStackSecrets as unknown as Json) as JsonObject;
    expect(decrypt.Action).toBe("kms:Decrypt");
    expect(decrypt.Condition).toEqual({
      ArnEquals: { "aws:PrincipalArn": `arn:aws:iam::123456789012:role/GHS-AKM-Lambda-${SAMPLE_STACK_UUID}` },
      StringEquals: { "kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com" },
      StringLike: {
        "kms:EncryptionContext:SecretARN": [
          "arn:aws:secretsmanager:eu-west-1:123456789012:secret:GHS-AKM-ci-deployer-GitHubToken-akm-bot-??????",
          "arn:aws:secretsmanager:eu-west-1:123456789012:secret:GHS-AKM-ci-deployer-RotationState-??????",
        ],
      },
    });
  });

  it("names the secrets in the key policy exactly as the secrets are named", () => {
    const decrypt = resolveIntrinsics(key.FunctionDecryptsStackSecrets as unknown as Json) as JsonObject;
    const like = (decrypt.Condition as JsonObject).StringLike as JsonObject;
    const arns = like["kms:EncryptionContext:SecretARN"] as string[];
    const names = ["rGitHubTokenSecret", "rRotationStateSecret"].map((id) =>
      String(resolveIntrinsics(resource(template, id).Properties.Name as Json)),
    );
    expect(arns.map((arn) => arn.replace(/^.*:secret:/, "").replace(/-\?{6}$/, ""))).toEqual(names);
  });

  it("gives administration without use: no Decrypt, Encrypt, GenerateDataKey, ReEncrypt or CreateGrant", () => {
    const admin = actions(key.AdministratorsManageKey as Statement);
    expect(admin.filter((a) => /Decrypt|Encrypt|GenerateDataKey|CreateGrant|\*/.test(a))).toEqual([]);
    expect(admin).toContain("kms:PutKeyPolicy");
    expect(key.AdministratorsManageKey?.Condition).toEqual({
      "Fn::If": [
        "HasAdministrators",
        { ArnLike: { "aws:PrincipalArn": { "Fn::Split": [",", { Ref: "pAdministratorArns" }] } } },
        { "ForAnyValue:StringEquals": { "aws:CalledVia": "cloudformation.amazonaws.com" } },
      ],
    });
  });

  it.each(["rGitHubTokenSecret", "rRotationStateSecret"])(
    "puts a resource policy with BlockPublicPolicy on %s that denies reading to all but the function's role",
    (secret) => {
      const found = resourcesOfType(template, "AWS::SecretsManager::ResourcePolicy").filter(
        ([, r]) => JSON.stringify(r.Properties.SecretId) === JSON.stringify({ Ref: secret }),
      );
      expect(found).toHaveLength(1);
      const properties = found[0]?.[1].Properties as JsonObject;
      expect(properties.BlockPublicPolicy).toBe(true);
      const policyStatementsOf = (properties.ResourcePolicy as JsonObject).Statement as JsonObject[];
      expect(policyStatementsOf.find((s) => s.Action === "secretsmanager:GetSecretValue")).toMatchObject({
        Effect: "Deny",
        Principal: "*",
        Condition: { ArnNotEquals: { "aws:PrincipalArn": { "Fn::GetAtt": ["rAkmFunctionRole", "Arn"] } } },
      });
      expect(policyStatementsOf.every((s) => s.Effect === "Deny")).toBe(true);
    },
  );
});

describe("the rest of the review", () => {
  it("scopes EventBridge's use of the key to the alert rule and the stack's topic", () => {
    const events = statements.find(
      (s) => s.where === "rKmsKey key policy" && s.statement.Sid === "EventBridgePublishesToEncryptedTopic",
    )?.statement;
    const ruleName = resolveIntrinsics(resource(template, "rEventsRuleAlert").Properties.Name as Json);
    expect(resolveIntrinsics(events?.Condition as Json)).toEqual({
      StringEquals: { "aws:SourceAccount": "123456789012" },
      ArnEquals: { "aws:SourceArn": `arn:aws:events:eu-west-1:123456789012:rule/${String(ruleName)}` },
      StringLike: {
        "kms:EncryptionContext:aws:sns:topicArn":
          "arn:aws:sns:eu-west-1:123456789012:aws-github-akm-rSnsTopic-*",
      },
    });
  });

  it("lets only the schedule rule of this stack assume the schedule's role", () => {
    const trust = resource(template, "rEventsRuleRotateRole").Properties
      .AssumeRolePolicyDocument as JsonObject;
    const [statement] = trust.Statement as JsonObject[];
    const ruleName = resolveIntrinsics(resource(template, "rEventsRuleRotate").Properties.Name as Json);
    expect(resolveIntrinsics(statement?.Condition as Json)).toEqual({
      StringEquals: { "aws:SourceAccount": "123456789012" },
      ArnEquals: { "aws:SourceArn": `arn:aws:events:eu-west-1:123456789012:rule/${String(ruleName)}` },
    });
  });

  it("denies writing the list, the lock and the CA bundle to all but the function and the editors", () => {
    const sids = statements.filter((s) => s.where === "rRepoConfigBucketPolicy").map((s) => s.statement.Sid);
    expect(sids).toEqual([
      "DenyRequestsWithoutTls",
      "OnlyTheFunctionAndEditorsWriteTheList",
      "OnlyTheFunctionWritesItsObjects",
      "OnlyEditorsWriteTheCaBundle",
      "OnlyAdministratorsChangeTheBucketGuards",
    ]);
  });
});
