/**
 * The boundary around a stack inside its account, as requests to evaluate: what principals that are none of
 * the stack's roles (holders of PowerUserAccess or ReadOnlyAccess, administrators, list editors, the principal
 * that deploys the stack) and the function's own role may and may not do to the stack's secrets, KMS key and
 * bucket, and the decision each request must get. Used by test/reliability/least-privilege-account.test.ts
 * (the claims) and least-privilege.test.ts (coverage: every statement of the key, secret and bucket policies
 * is used by one of these requests or by a recorded call).
 */

import type { CfnTemplate } from "../../scripts/local-stack/lambda-runner.ts";
import { POWER_USER_ACCESS, READ_ONLY_ACCESS } from "../fixtures/aws-managed-policies.ts";
import {
  type AccountPrincipal,
  accountPrincipal,
  deployedContext,
  type IamRequest,
  type NamedPolicy,
  principalRequest,
  type RequestPath,
  roleSession,
  type TemplatePolicies,
  templatePolicies,
  throughSecretsManager,
} from "./iam-policy-eval.ts";

export const ACCOUNT = "123456789012";
const USER = "ci-deployer";
const ADMIN_ROLE = "StackAdmin";
const EDITOR_ROLE = "ListEditor";
const CA_BUNDLE_KEY = "github-ca.pem";

export type Decision = "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied";
export type Who = "powerUser" | "readOnly" | "administrator" | "deployer" | "function" | "editor";

/** One request and the decision it must get. */
export interface BoundaryCheck {
  readonly who: Who;
  readonly what: string;
  readonly request: IamRequest;
  readonly expected: Decision;
}

/**
 * The template's policies for one stack: with `named`, administrators (role StackAdmin) and list editors
 * (role ListEditor) are named and a CA bundle is configured; without, none of them. The stack is
 * `aws-github-akm` for IAM user `ci-deployer` unless `stackName` and `userName` say otherwise.
 */
export function accountStack(
  template: CfnTemplate,
  { named, stackName, userName = USER }: { named: boolean; stackName?: string; userName?: string },
): TemplatePolicies {
  return templatePolicies(
    template,
    deployedContext(template, {
      ...(stackName === undefined ? {} : { stackName }),
      parameters: {
        pIamUserName: userName,
        pIamUserArn: `arn:aws:iam::${ACCOUNT}:user/${userName}`,
        pRepoConfigBucketName: "example-akm-config",
        pGitHubMachineUserName: "akm-bot",
        pSnsEmailAddress: "ops@example.com",
        ...(named
          ? {
              pAdministratorArns: `arn:aws:iam::${ACCOUNT}:role/${ADMIN_ROLE}`,
              pRepoListEditorArns: `arn:aws:iam::${ACCOUNT}:role/${EDITOR_ROLE}`,
              pGitHubCaBundleKey: CA_BUNDLE_KEY,
            }
          : {}),
      },
      region: "us-east-1",
      accountId: ACCOUNT,
    }),
  );
}

/** The ARNs of what the stack guards. */
export interface StackTargets {
  readonly tokenSecret: string;
  readonly stateSecret: string;
  readonly key: string;
  readonly bucket: string;
  readonly list: string;
  readonly lock: string;
  readonly progress: string;
  readonly caBundle: string;
  /** The context of a KMS request Secrets Manager makes for `secret` (a real version unless given). */
  readonly throughSecretsManager: (secret: string, versionId?: string) => Record<string, string>;
  /** The context of a KMS request S3 makes with the caller's credentials for an SSE-KMS object. */
  readonly throughS3: (object: string) => Record<string, string>;
}

export function stackTargets(policies: TemplatePolicies): StackTargets {
  const arn = (id: string): string => {
    const found = policies.context.resources?.[id]?.arn;
    if (found === undefined) throw new Error(`account-boundary: the stack has no ${id}`);
    return found;
  };
  const bucket = arn("rRepoConfigBucket");
  const configKey = String(policies.resolver.resolve({ Ref: "pRepoConfigKey" }));
  return {
    tokenSecret: arn("rGitHubTokenSecret"),
    stateSecret: arn("rRotationStateSecret"),
    key: arn("rKmsKey"),
    bucket,
    list: `${bucket}/${configKey}`,
    lock: `${bucket}/${configKey}.lock`,
    progress: `${bucket}/${configKey}.progress.json`,
    caBundle: `${bucket}/${CA_BUNDLE_KEY}`,
    throughSecretsManager: (secret, versionId) => throughSecretsManager(policies, secret, versionId),
    throughS3: (object) => ({
      "kms:ViaService": `s3.${policies.context.region}.amazonaws.com`,
      "kms:CallerAccount": policies.context.accountId,
      "kms:EncryptionContext:aws:s3:arn": object,
    }),
  };
}

/** Every way to change a secret, its value or its policy (the secrets' policies deny them all). */
const SECRET_CHANGES = [
  "secretsmanager:PutSecretValue",
  "secretsmanager:UpdateSecret",
  "secretsmanager:UpdateSecretVersionStage",
  "secretsmanager:DeleteSecret",
  "secretsmanager:RestoreSecret",
  "secretsmanager:RotateSecret",
  "secretsmanager:CancelRotateSecret",
  "secretsmanager:PutResourcePolicy",
  "secretsmanager:DeleteResourcePolicy",
  "secretsmanager:TagResource",
  "secretsmanager:UntagResource",
  "secretsmanager:ReplicateSecretToRegions",
  "secretsmanager:RemoveRegionsFromReplication",
  "secretsmanager:StopReplicationToReplica",
] as const;

/** What guards the bucket or announces its changes. */
const BUCKET_GUARD_CHANGES = [
  "s3:PutBucketPolicy",
  "s3:DeleteBucketPolicy",
  "s3:PutBucketVersioning",
  "s3:PutLifecycleConfiguration",
  "s3:PutReplicationConfiguration",
  "s3:PutBucketNotification",
  "s3:PutBucketOwnershipControls",
  "s3:PutBucketPublicAccessBlock",
  "s3:PutEncryptionConfiguration",
] as const;

const OBJECT_WRITES = ["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"] as const;

/** Administration of the key, without use (CloudFormation's Key and Alias handlers need these). */
const KEY_ADMINISTRATION = [
  "kms:CreateAlias",
  "kms:UpdateAlias",
  "kms:DeleteAlias",
  "kms:EnableKey",
  "kms:DisableKey",
  "kms:EnableKeyRotation",
  "kms:DisableKeyRotation",
  "kms:PutKeyPolicy",
  "kms:UpdateKeyDescription",
  "kms:TagResource",
  "kms:UntagResource",
  "kms:ScheduleKeyDeletion",
  "kms:CancelKeyDeletion",
] as const;

const KEY_METADATA = [
  "kms:DescribeKey",
  "kms:GetKeyPolicy",
  "kms:GetKeyRotationStatus",
  "kms:ListResourceTags",
];

const everything = (name: string): NamedPolicy => ({
  name,
  document: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] },
});

/**
 * Every check of the boundary for one stack. Expected decisions follow README "Security model": nobody but
 * the function reads a secret or decrypts; the list, the lock and the CA bundle are written only by the function
 * and the editors; the policies, the key and the token are changed only by administrators (or, when none are
 * named, through CloudFormation).
 */
export function boundaryRequests(
  policies: TemplatePolicies,
  t: StackTargets,
  { named }: { named: boolean },
): BoundaryCheck[] {
  const checks: BoundaryCheck[] = [];
  const as =
    (who: Who, principal: AccountPrincipal) =>
    (
      what: string,
      expected: Decision,
      action: string,
      resource: string,
      options: { path?: RequestPath; context?: Record<string, string> } = {},
    ) =>
      checks.push({
        who,
        what,
        expected,
        request: principalRequest(policies, principal, action, resource, { ...options, source: what }),
      });
  const realVersion = (secret: string) => ({ context: t.throughSecretsManager(secret) });
  const viaStack = { path: "cloudformation" as const };

  // Holders of AWS managed policies: the same answers, whatever their identity policy allows.
  for (const [who, principal] of [
    [
      "powerUser",
      accountPrincipal(policies, "PowerUser", [{ name: "PowerUserAccess", document: POWER_USER_ACCESS }]),
    ],
    [
      "readOnly",
      accountPrincipal(policies, "Auditor", [{ name: "ReadOnlyAccess", document: READ_ONLY_ACCESS }]),
    ],
  ] as const) {
    const check = as(who, principal);
    check("read the token", "ExplicitlyDenied", "secretsmanager:GetSecretValue", t.tokenSecret);
    check(
      "read the state (the access keys)",
      "ExplicitlyDenied",
      "secretsmanager:GetSecretValue",
      t.stateSecret,
    );
    check(
      "decrypt the token through Secrets Manager",
      "ImplicitlyDenied",
      "kms:Decrypt",
      t.key,
      realVersion(t.tokenSecret),
    );
    check(
      "decrypt the state through Secrets Manager",
      "ImplicitlyDenied",
      "kms:Decrypt",
      t.key,
      realVersion(t.stateSecret),
    );
    check("decrypt with the key directly", "ImplicitlyDenied", "kms:Decrypt", t.key);
    check("decrypt the progress object through S3", "ImplicitlyDenied", "kms:Decrypt", t.key, {
      context: t.throughS3(t.progress),
    });
    check("re-encrypt from the key", "ImplicitlyDenied", "kms:ReEncryptFrom", t.key);
    check("grant itself the key", "ImplicitlyDenied", "kms:CreateGrant", t.key);
    check("rewrite the key policy", "ImplicitlyDenied", "kms:PutKeyPolicy", t.key);
    check("replace the token", "ExplicitlyDenied", "secretsmanager:PutSecretValue", t.tokenSecret);
    check("rewrite the state", "ExplicitlyDenied", "secretsmanager:PutSecretValue", t.stateSecret);
    check(
      "rewrite the token's policy",
      "ExplicitlyDenied",
      "secretsmanager:PutResourcePolicy",
      t.tokenSecret,
    );
    check(
      "remove the state's policy",
      "ExplicitlyDenied",
      "secretsmanager:DeleteResourcePolicy",
      t.stateSecret,
    );
    check(
      "replicate the state to its own key elsewhere",
      "ExplicitlyDenied",
      "secretsmanager:ReplicateSecretToRegions",
      t.stateSecret,
    );
    check("write the list", "ExplicitlyDenied", "s3:PutObject", t.list);
    check("delete the list", "ExplicitlyDenied", "s3:DeleteObject", t.list);
    check(
      "restore an older list by deleting the newest version",
      "ExplicitlyDenied",
      "s3:DeleteObjectVersion",
      t.list,
    );
    check("take the lock", "ExplicitlyDenied", "s3:PutObject", t.lock);
    check("release the lock", "ExplicitlyDenied", "s3:DeleteObject", t.lock);
    check("rewrite the bucket policy", "ExplicitlyDenied", "s3:PutBucketPolicy", t.bucket);
    check("remove the bucket policy", "ExplicitlyDenied", "s3:DeleteBucketPolicy", t.bucket);
    check("silence the bucket's notifications", "ExplicitlyDenied", "s3:PutBucketNotification", t.bucket);
    check("suspend the list's versioning", "ExplicitlyDenied", "s3:PutBucketVersioning", t.bucket);
    check("see the token secret's metadata", "Allowed", "secretsmanager:DescribeSecret", t.tokenSecret);
    check("see the key's metadata", "Allowed", "kms:DescribeKey", t.key);
    check("read the list (not secret)", "Allowed", "s3:GetObject", t.list);
    for (const action of SECRET_CHANGES) {
      check(`${action} on the token`, "ExplicitlyDenied", action, t.tokenSecret);
      check(`${action} on the state`, "ExplicitlyDenied", action, t.stateSecret);
    }
    for (const action of BUCKET_GUARD_CHANGES)
      check(`${action} on the bucket`, "ExplicitlyDenied", action, t.bucket);
    for (const action of OBJECT_WRITES) {
      check(`${action} on the list`, "ExplicitlyDenied", action, t.list);
      check(`${action} on the lock`, "ExplicitlyDenied", action, t.lock);
      check(`${action} on the progress object`, "ExplicitlyDenied", action, t.progress);
    }
    for (const action of KEY_ADMINISTRATION) check(`${action} on the key`, "ImplicitlyDenied", action, t.key);
    for (const action of KEY_METADATA) check(`${action} on the key`, "Allowed", action, t.key);
    if (named) {
      check("upload a CA bundle", "ExplicitlyDenied", "s3:PutObject", t.caBundle);
      check(
        "rewrite the token's policy through a stack",
        "ExplicitlyDenied",
        "secretsmanager:PutResourcePolicy",
        t.tokenSecret,
        viaStack,
      );
      check(
        "rewrite the bucket policy through a stack",
        "ExplicitlyDenied",
        "s3:PutBucketPolicy",
        t.bucket,
        viaStack,
      );
    }
  }

  // An administrator: AdministratorAccess-like; named in pAdministratorArns or, in the other stack, not.
  const admin = as(
    "administrator",
    accountPrincipal(policies, named ? ADMIN_ROLE : "Administrator", [everything("AdministratorAccess")]),
  );
  admin("read the token", "ExplicitlyDenied", "secretsmanager:GetSecretValue", t.tokenSecret);
  admin("read the state", "ExplicitlyDenied", "secretsmanager:GetSecretValue", t.stateSecret);
  admin(
    "decrypt the token through Secrets Manager",
    "ImplicitlyDenied",
    "kms:Decrypt",
    t.key,
    realVersion(t.tokenSecret),
  );
  admin("grant itself the key", "ImplicitlyDenied", "kms:CreateGrant", t.key);
  admin("write the list (not an editor)", "ExplicitlyDenied", "s3:PutObject", t.list);
  admin(
    "encrypt a new token value through Secrets Manager",
    "Allowed",
    "kms:GenerateDataKey",
    t.key,
    realVersion(t.tokenSecret),
  );
  admin(
    "replace the token through a stack update",
    "Allowed",
    "secretsmanager:UpdateSecret",
    t.tokenSecret,
    viaStack,
  );
  const directly = named ? "Allowed" : "ExplicitlyDenied";
  admin("replace the token directly", directly, "secretsmanager:PutSecretValue", t.tokenSecret);
  admin("rewrite the bucket policy directly", directly, "s3:PutBucketPolicy", t.bucket);
  admin("rewrite the key policy directly", named ? "Allowed" : "ImplicitlyDenied", "kms:PutKeyPolicy", t.key);
  admin(
    "schedule the key's deletion directly",
    named ? "Allowed" : "ImplicitlyDenied",
    "kms:ScheduleKeyDeletion",
    t.key,
  );
  for (const action of KEY_ADMINISTRATION) {
    admin(`${action} on the key directly`, named ? "Allowed" : "ImplicitlyDenied", action, t.key);
  }

  // The principal that deploys the stack: CloudFormation calls with its credentials. When administrators are
  // named, it is one of them.
  const deployer = as(
    "deployer",
    accountPrincipal(policies, named ? ADMIN_ROLE : "Deployer", [everything("AdministratorAccess")]),
  );
  const cfn = (context?: Record<string, string>) => ({
    path: "cloudformation" as const,
    ...(context ? { context } : {}),
  });
  deployer(
    "have a data key for the token's value",
    "Allowed",
    "kms:GenerateDataKey",
    t.key,
    cfn(t.throughSecretsManager(t.tokenSecret)),
  );
  deployer(
    "have a data key for the state's value",
    "Allowed",
    "kms:GenerateDataKey",
    t.key,
    cfn(t.throughSecretsManager(t.stateSecret)),
  );
  deployer(
    "pass Secrets Manager's key-access check",
    "Allowed",
    "kms:Decrypt",
    t.key,
    cfn(t.throughSecretsManager(t.tokenSecret, "RequestToValidateKeyAccess")),
  );
  deployer(
    "decrypt a stored token version",
    "ImplicitlyDenied",
    "kms:Decrypt",
    t.key,
    cfn(t.throughSecretsManager(t.tokenSecret)),
  );
  deployer("read the token", "ExplicitlyDenied", "secretsmanager:GetSecretValue", t.tokenSecret, cfn());
  deployer(
    "replace the token (parameter change)",
    "Allowed",
    "secretsmanager:UpdateSecret",
    t.tokenSecret,
    cfn(),
  );
  deployer("update the state's description", "Allowed", "secretsmanager:UpdateSecret", t.stateSecret, cfn());
  deployer("tag the state", "Allowed", "secretsmanager:TagResource", t.stateSecret, cfn());
  deployer("delete the token with the stack", "Allowed", "secretsmanager:DeleteSecret", t.tokenSecret, cfn());
  deployer("attach the token's policy", "Allowed", "secretsmanager:PutResourcePolicy", t.tokenSecret, cfn());
  deployer(
    "remove the state's policy with the stack",
    "Allowed",
    "secretsmanager:DeleteResourcePolicy",
    t.stateSecret,
    cfn(),
  );
  deployer("update the key policy", "Allowed", "kms:PutKeyPolicy", t.key, cfn());
  deployer("read the key for its handler", "Allowed", "kms:DescribeKey", t.key, cfn());
  deployer("turn on key rotation", "Allowed", "kms:EnableKeyRotation", t.key, cfn());
  deployer("tag the key", "Allowed", "kms:TagResource", t.key, cfn());
  deployer("update the key description", "Allowed", "kms:UpdateKeyDescription", t.key, cfn());
  deployer("alias the key", "Allowed", "kms:CreateAlias", t.key, cfn());
  deployer("schedule the key's deletion with the stack", "Allowed", "kms:ScheduleKeyDeletion", t.key, cfn());
  deployer("update the bucket policy", "Allowed", "s3:PutBucketPolicy", t.bucket, cfn());
  deployer("remove the bucket policy with the stack", "Allowed", "s3:DeleteBucketPolicy", t.bucket, cfn());
  deployer("update the bucket's lifecycle rules", "Allowed", "s3:PutLifecycleConfiguration", t.bucket, cfn());
  deployer("update the bucket's notifications", "Allowed", "s3:PutBucketNotification", t.bucket, cfn());
  deployer("write the list (CloudFormation never does)", "ExplicitlyDenied", "s3:PutObject", t.list, cfn());
  for (const action of KEY_ADMINISTRATION) deployer(`${action} on the key`, "Allowed", action, t.key, cfn());
  for (const action of BUCKET_GUARD_CHANGES)
    deployer(`${action} on the bucket`, "Allowed", action, t.bucket, cfn());
  if (named) {
    const other = as("deployer", accountPrincipal(policies, "Deployer", [everything("AdministratorAccess")]));
    other(
      "update the key policy when not an administrator",
      "ImplicitlyDenied",
      "kms:PutKeyPolicy",
      t.key,
      cfn(),
    );
    other(
      "replace the token when not an administrator",
      "ExplicitlyDenied",
      "secretsmanager:UpdateSecret",
      t.tokenSecret,
      cfn(),
    );
    other(
      "update the bucket policy when not an administrator",
      "ExplicitlyDenied",
      "s3:PutBucketPolicy",
      t.bucket,
      cfn(),
    );
  }

  // The function's role, with its own policies (what it does is proven by execution in least-privilege.test.ts).
  const session = roleSession(policies, "rAkmFunctionRole", "rAkmFunction");
  const fn = (
    what: string,
    expected: Decision,
    action: string,
    resource: string,
    context: Record<string, string> = {},
  ) =>
    checks.push({
      who: "function",
      what,
      expected,
      request: {
        principal: session.session,
        role: session.role,
        action,
        resource,
        context: { ...session.context, ...context },
        source: what,
      },
    });
  fn("read the token", "Allowed", "secretsmanager:GetSecretValue", t.tokenSecret);
  fn("read the state", "Allowed", "secretsmanager:GetSecretValue", t.stateSecret);
  fn("save the state", "Allowed", "secretsmanager:PutSecretValue", t.stateSecret);
  fn(
    "decrypt the token through Secrets Manager",
    "Allowed",
    "kms:Decrypt",
    t.key,
    t.throughSecretsManager(t.tokenSecret),
  );
  fn(
    "decrypt the state through Secrets Manager",
    "Allowed",
    "kms:Decrypt",
    t.key,
    t.throughSecretsManager(t.stateSecret),
  );
  fn(
    "encrypt the state through Secrets Manager",
    "Allowed",
    "kms:GenerateDataKey",
    t.key,
    t.throughSecretsManager(t.stateSecret),
  );
  fn("write the list", "Allowed", "s3:PutObject", t.list);
  fn("take the lock", "Allowed", "s3:PutObject", t.lock);
  fn("save its progress", "Allowed", "s3:PutObject", t.progress);
  fn("encrypt its progress through S3", "Allowed", "kms:GenerateDataKey", t.key, t.throughS3(t.progress));
  fn("decrypt its progress through S3", "Allowed", "kms:Decrypt", t.key, t.throughS3(t.progress));
  fn("decrypt another object through S3", "ImplicitlyDenied", "kms:Decrypt", t.key, t.throughS3(t.list));
  fn("release the lock", "Allowed", "s3:DeleteObject", t.lock);
  fn("replace the token", "ExplicitlyDenied", "secretsmanager:PutSecretValue", t.tokenSecret);
  fn("decrypt with the key directly", "ImplicitlyDenied", "kms:Decrypt", t.key);
  fn(
    "decrypt another stack's secret through Secrets Manager",
    "ImplicitlyDenied",
    "kms:Decrypt",
    t.key,
    t.throughSecretsManager(t.tokenSecret.replace("GitHubToken", "OtherToken")),
  );
  fn("rewrite the bucket policy", "ExplicitlyDenied", "s3:PutBucketPolicy", t.bucket);

  // A list editor: may use all of S3 by its identity policy.
  const s3Everything: NamedPolicy = {
    name: "AmazonS3FullAccess",
    document: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "*" }] },
  };
  const editor = as("editor", accountPrincipal(policies, EDITOR_ROLE, [s3Everything]));
  editor("upload the list", named ? "Allowed" : "ExplicitlyDenied", "s3:PutObject", t.list);
  editor("delete the list", named ? "Allowed" : "ExplicitlyDenied", "s3:DeleteObject", t.list);
  editor("take the lock", "ExplicitlyDenied", "s3:PutObject", t.lock);
  editor("rewrite the progress object", "ExplicitlyDenied", "s3:PutObject", t.progress);
  editor("rewrite the bucket policy", "ExplicitlyDenied", "s3:PutBucketPolicy", t.bucket);
  if (named) editor("upload the CA bundle", "Allowed", "s3:PutObject", t.caBundle);
  return checks;
}
