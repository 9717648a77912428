/**
 * Least privilege, checked by evaluation: the IAM policies a CloudFormation template grants (role policies,
 * trust policies, key, bucket and topic policies) resolved for one concrete stack; the IAM requests behind
 * recorded AWS calls, including those AWS authorizes on the caller's behalf; the requests AWS services make
 * for the stack (assuming its roles, the schedule, the alerts, log encryption); their evaluation by a real IAM
 * policy evaluator (@cloud-copilot/iam-simulate); and which grants no request used.
 *
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type EvaluationResult,
  type RequestAnalysis,
  runSimulation,
  type Simulation,
} from "@cloud-copilot/iam-simulate";
import { type CfnTemplate, REPO_ROOT } from "../../scripts/local-stack/lambda-runner.ts";
import {
  type AutomationExecution,
  IntrinsicResolver,
  type StackContext,
  templateRunbooks,
} from "../../scripts/local-stack/runbook-simulator.ts";
import type { RecordedAwsCall } from "./aws-call-recorder.ts";

// ---------------------------------------------------------------------------------------------------------
// Policies of a template

export type ConditionBlock = Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;

export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: "Allow" | "Deny";
  readonly Principal?: unknown;
  readonly Action: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly Condition?: ConditionBlock;
}

export interface PolicyDocument {
  readonly Version: string;
  readonly Statement: readonly PolicyStatement[];
}

/** A policy document and where it is in the template, e.g. `rAkmFunctionRole policy rotate-one-users-keys`. */
export interface NamedPolicy {
  readonly name: string;
  readonly document: PolicyDocument;
}

export interface TemplateRole {
  readonly logicalId: string;
  readonly arn: string;
  readonly trust: NamedPolicy;
  /** Its inline policies: everything the role may do (the template attaches no managed policy). */
  readonly policies: readonly NamedPolicy[];
}

/** A resource-based policy and the ARNs it guards (a bucket policy guards the bucket and its objects). */
export interface ResourcePolicy {
  readonly policy: NamedPolicy;
  readonly guards: (resourceArn: string) => boolean;
}

export interface TemplatePolicies {
  readonly roles: Readonly<Record<string, TemplateRole>>;
  /** Key, bucket and topic policies, and each role's trust policy (which guards the role). */
  readonly resourcePolicies: readonly ResourcePolicy[];
  /** Every policy above, for coverage and lint. */
  readonly all: readonly NamedPolicy[];
  /** The customer managed key of each encrypted resource, by the resource's `Ref` (secret ARN, topic ARN). */
  readonly encryptionKeys: ReadonlyMap<string, string>;
  /** Resolves any other value of the template for the same stack. */
  readonly resolver: IntrinsicResolver;
  readonly context: Required<Pick<StackContext, "region" | "accountId" | "stackName">> & StackContext;
}

/**
 * The name CloudFormation generates for a resource the template does not name: the stack name, the logical
 * ID and a random suffix of 12 capitals and digits, e.g. `lambda-error-processor-primer-14ROR2T3JKU66`
 * (CloudFormation user guide, "Name type"; Lambda developer guide, "Using AWS Lambda with CloudFormation").
 * How CloudFormation shortens a name that would outgrow the resource's limit is not documented; here the
 * stack name and logical ID are cut so that the whole fits `maxLength`, so nothing may rely on a pattern of
 * the stack name for such a resource.
 */
export function generatedName(stackName: string, logicalId: string, maxLength: number): string {
  const suffix = "-1AB2CD3EF4GH";
  return `${`${stackName}-${logicalId}`.slice(0, maxLength - suffix.length)}${suffix}`;
}

/**
 * Adds to `base` what CloudFormation's `Ref` and `Fn::GetAtt ... Arn` return for the template's resources
 * that `base` does not name (a stack fixture names what it created: secrets, bucket, KMS key, function).
 * Named resources resolve from their name property; unnamed ones from the name CloudFormation generates
 * (`generatedName`).
 */
export function deployedContext(template: CfnTemplate, base: StackContext): TemplatePolicies["context"] {
  const region = base.region ?? "us-east-1";
  const accountId = base.accountId ?? "123456789012";
  const stackName = base.stackName ?? "aws-github-akm";
  const names = new IntrinsicResolver(template, base);
  const nameOf = (id: string, property: string, fallback: string): string => {
    const value = template.Resources[id]?.Properties?.[property];
    return value === undefined ? fallback : String(names.resolve(value));
  };
  const regional = `${region}:${accountId}`;
  const resources: Record<string, { ref?: string; arn?: string }> = {};
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (base.resources?.[id] !== undefined) continue;
    switch (resource.Type) {
      case "AWS::Logs::LogGroup": {
        const name = nameOf(id, "LogGroupName", `/aws/${stackName}/${id}`);
        resources[id] = { ref: name, arn: `arn:aws:logs:${regional}:log-group:${name}:*` };
        break;
      }
      case "AWS::SSM::Document":
        resources[id] = { ref: nameOf(id, "Name", `${stackName}-${id}`) };
        break;
      case "AWS::Events::Rule": {
        const name = nameOf(id, "Name", `${stackName}-${id}`);
        resources[id] = { ref: name, arn: `arn:aws:events:${regional}:rule/${name}` };
        break;
      }
      case "AWS::SNS::Topic": {
        // A generated name is the stack name, the logical ID and a random suffix (CloudFormation "Name type").
        const arn = `arn:aws:sns:${regional}:${nameOf(id, "TopicName", generatedName(stackName, id, 256))}`;
        resources[id] = { ref: arn, arn };
        break;
      }
      case "AWS::Lambda::Function": {
        // A function name has at most 64 characters (Lambda API reference, CreateFunction).
        const name = nameOf(id, "FunctionName", generatedName(stackName, id, 64));
        resources[id] = { ref: name, arn: `arn:aws:lambda:${regional}:function:${name}` };
        break;
      }
      case "AWS::IAM::Role": {
        // A role name has at most 64 characters (IAM API reference, CreateRole).
        const name = nameOf(id, "RoleName", generatedName(stackName, id, 64));
        resources[id] = { ref: name, arn: `arn:aws:iam::${accountId}:role/${name}` };
        break;
      }
      case "AWS::S3::Bucket": {
        const name = nameOf(id, "BucketName", `${stackName}-${id}`.toLowerCase());
        resources[id] = { ref: name, arn: `arn:aws:s3:::${name}` };
        break;
      }
      case "AWS::SecretsManager::Secret": {
        // Secrets Manager appends six random characters to the name in the ARN.
        const arn = `arn:aws:secretsmanager:${regional}:secret:${nameOf(id, "Name", `${stackName}-${id}`)}-AbCdEf`;
        resources[id] = { ref: arn, arn };
        break;
      }
      case "AWS::KMS::Key": {
        const keyId = `${stackName}-${id}`.toLowerCase(); // a UUID in AWS; any ID serves here
        resources[id] = { ref: keyId, arn: `arn:aws:kms:${regional}:key/${keyId}` };
        break;
      }
      default:
        break;
    }
  }
  return { ...base, region, accountId, stackName, resources: { ...base.resources, ...resources } };
}

/** Every policy of the template, resolved for the stack `context` describes (see `deployedContext`). */
export function templatePolicies(
  template: CfnTemplate,
  context: TemplatePolicies["context"],
): TemplatePolicies {
  const resolver = new IntrinsicResolver(template, context);
  const roles: Record<string, TemplateRole> = {};
  const resourcePolicies: ResourcePolicy[] = [];
  const encryptionKeys = new Map<string, string>();
  const arnOf = (id: string) => String(resolver.resolve({ "Fn::GetAtt": [id, "Arn"] }));
  for (const [id, resource] of Object.entries(template.Resources)) {
    const props = resource.Properties ?? {};
    const document = (value: unknown) => policyDocument(resolver.resolve(value), id);
    switch (resource.Type) {
      case "AWS::IAM::Role": {
        if (props.ManagedPolicyArns !== undefined || props.PermissionsBoundary !== undefined) {
          throw new Error(
            `iam-policy-eval: ${id} has managed policies or a boundary, which this evaluation does not load.`,
          );
        }
        const inline = (Array.isArray(props.Policies) ? props.Policies : []) as Record<string, unknown>[];
        const role: TemplateRole = {
          logicalId: id,
          arn: arnOf(id),
          trust: { name: `${id} trust policy`, document: document(props.AssumeRolePolicyDocument) },
          policies: inline.map((policy) => ({
            name: `${id} policy ${String(resolver.resolve(policy.PolicyName))}`,
            document: document(policy.PolicyDocument),
          })),
        };
        roles[id] = role;
        resourcePolicies.push({ policy: role.trust, guards: (arn) => arn === role.arn });
        break;
      }
      case "AWS::KMS::Key": {
        const keyArn = arnOf(id);
        resourcePolicies.push({
          policy: { name: `${id} key policy`, document: document(props.KeyPolicy) },
          guards: (arn) => arn === keyArn,
        });
        break;
      }
      case "AWS::S3::BucketPolicy": {
        const bucketArn = `arn:aws:s3:::${String(resolver.resolve(props.Bucket))}`;
        resourcePolicies.push({
          policy: { name: id, document: document(props.PolicyDocument) },
          guards: (arn) => arn === bucketArn || arn.startsWith(`${bucketArn}/`),
        });
        break;
      }
      case "AWS::SecretsManager::ResourcePolicy": {
        const secretArn = String(resolver.resolve(props.SecretId));
        resourcePolicies.push({
          policy: { name: id, document: document(props.ResourcePolicy) },
          guards: (arn) => arn === secretArn,
        });
        break;
      }
      case "AWS::SNS::TopicPolicy": {
        const topics = (resolver.resolve(props.Topics) as unknown[]).map(String);
        resourcePolicies.push({
          policy: { name: id, document: document(props.PolicyDocument) },
          guards: (arn) => topics.includes(arn),
        });
        break;
      }
      case "AWS::SecretsManager::Secret":
        if (props.KmsKeyId !== undefined) {
          encryptionKeys.set(String(resolver.resolve({ Ref: id })), String(resolver.resolve(props.KmsKeyId)));
        }
        break;
      case "AWS::SNS::Topic":
        if (props.KmsMasterKeyId !== undefined) {
          encryptionKeys.set(
            String(resolver.resolve({ Ref: id })),
            String(resolver.resolve(props.KmsMasterKeyId)),
          );
        }
        break;
      case "AWS::Lambda::Permission": {
        // Lambda keeps each permission as a statement of the function's resource-based policy; a source ARN
        // becomes an ArnLike condition on AWS:SourceArn, a key IAM compares ignoring case (Lambda developer guide, "Viewing resource-based IAM
        // policies in Lambda").
        const functionArn = String(
          resolver.resolve({ "Fn::GetAtt": [String((props.FunctionName as { Ref?: unknown }).Ref), "Arn"] }),
        );
        const principal = String(resolver.resolve(props.Principal));
        resourcePolicies.push({
          policy: {
            name: id,
            document: {
              Version: "2012-10-17",
              Statement: [
                {
                  Sid: id,
                  Effect: "Allow",
                  Principal: principal.endsWith(".amazonaws.com")
                    ? { Service: principal }
                    : { AWS: principal },
                  Action: String(resolver.resolve(props.Action)),
                  Resource: functionArn,
                  ...(props.SourceArn === undefined
                    ? {}
                    : {
                        Condition: {
                          ArnLike: { "aws:SourceArn": String(resolver.resolve(props.SourceArn)) },
                        },
                      }),
                },
              ],
            } as PolicyDocument,
          },
          guards: (arn) => arn === functionArn,
        });
        break;
      }
      default:
        if (/Policy$/.test(resource.Type)) {
          throw new Error(
            `iam-policy-eval: ${id} (${resource.Type}) is a policy this evaluation does not load.`,
          );
        }
    }
  }
  const all = [
    ...Object.values(roles).flatMap((role) => role.policies),
    ...resourcePolicies.map((r) => r.policy),
  ];
  return { roles, resourcePolicies, all, encryptionKeys, resolver, context };
}

function policyDocument(value: unknown, where: string): PolicyDocument {
  if (typeof value !== "object" || value === null || !Array.isArray((value as PolicyDocument).Statement)) {
    throw new Error(`iam-policy-eval: ${where} has a policy without a Statement list.`);
  }
  const document = value as PolicyDocument;
  for (const statement of document.Statement) {
    if ("NotAction" in statement || "NotResource" in statement || "NotPrincipal" in statement) {
      throw new Error(
        `iam-policy-eval: ${where} uses NotAction/NotResource/NotPrincipal, which is not covered.`,
      );
    }
  }
  return document;
}

/** The policies AWS evaluates for a request: the requesting role's, and the resource's own policy. */
export function policiesInForce(policies: TemplatePolicies, request: IamRequest): PoliciesInForce {
  const role = request.role === undefined ? undefined : policies.roles[request.role];
  if (request.role !== undefined && role === undefined) {
    throw new Error(`iam-policy-eval: the template has no role ${request.role}.`);
  }
  return {
    identity: role?.policies ?? request.identity ?? [],
    resource: policies.resourcePolicies.find((candidate) => candidate.guards(request.resource))?.policy,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Requests

/** One IAM authorization request: who asks to do what to which resource, in which request context. */
export interface IamRequest {
  /** The requesting principal: a role session ARN, or a service principal such as `events.amazonaws.com`. */
  readonly principal: string;
  /** The template role (logical ID) whose session makes the request; undefined for a service principal. */
  readonly role?: string;
  readonly action: string;
  readonly resource: string;
  readonly context: Readonly<Record<string, string | readonly string[]>>;
  /** Why this request happens: the recorded call, or what implies it. */
  readonly source: string;
  /** The identity policies of a principal that is not one of the template's roles (see `accountPrincipal`). */
  readonly identity?: readonly NamedPolicy[];
}

/** A session of one of the template's roles. */
export interface RoleSession {
  readonly role: string;
  readonly session: string;
  readonly context: Readonly<Record<string, string>>;
}

/** A session of a template role as AWS names it, and the context every request of it carries (HTTPS). */
export function roleSession(policies: TemplatePolicies, role: string, sessionName: string): RoleSession {
  const arn = policies.roles[role]?.arn;
  if (arn === undefined) throw new Error(`iam-policy-eval: the template has no role ${role}.`);
  const { accountId, region } = policies.context;
  return {
    role,
    session: `arn:aws:sts::${accountId}:assumed-role/${arn.slice(arn.lastIndexOf("/") + 1)}/${sessionName}`,
    context: {
      // The SDK always calls AWS over HTTPS (the local test's http:// endpoint exists only here).
      "aws:SecureTransport": "true",
      "aws:PrincipalArn": arn,
      "aws:PrincipalAccount": accountId,
      "aws:RequestedRegion": region,
    },
  };
}

function sessionRequest(
  caller: RoleSession,
  action: string,
  resource: string,
  source: string,
  extra: Readonly<Record<string, string>> = {},
): IamRequest {
  return {
    principal: caller.session,
    role: caller.role,
    action,
    resource,
    context: { ...caller.context, ...extra },
    source,
  };
}

/**
 * The IAM requests behind one recorded call of a role session: the call's own action on its resource, and
 * what AWS authorizes as the caller on the way:
 * - Secrets Manager decrypts (GetSecretValue) or generates a data key (PutSecretValue) with the secret's
 *   customer managed key as the caller, with `kms:ViaService` set (Secrets Manager user guide, "Secret
 *   encryption and decryption");
 * - S3 answers a missing object with 404 NoSuchKey only if the caller may s3:ListBucket, else 403 (S3 API
 *   reference, GetObject "Permissions"): a NoSuchKey answer used that grant;
 * - S3 reads and writes an SSE-KMS object with the caller's permissions on its key (`sseKmsRequests`).
 * sts:GetCallerIdentity needs no permission (STS API reference) and maps to no request. A call this does
 * not know throws, so a new kind of call cannot go unchecked.
 */
export function iamRequestsForCall(
  call: RecordedAwsCall,
  caller: RoleSession,
  policies: TemplatePolicies,
): IamRequest[] {
  const { accountId, region } = policies.context;
  const source = `${call.service}:${call.operation}`;
  const param = (name: string): string => {
    const value = call.params[name];
    if (value === undefined) throw new Error(`iam-policy-eval: ${source} was recorded without ${name}.`);
    return value;
  };
  const request = (action: string, resource: string, why = source, extra: Record<string, string> = {}) =>
    sessionRequest(caller, action, resource, why, extra);
  switch (source) {
    case "sts:GetCallerIdentity":
      return [];
    case "iam:GetUser":
    case "iam:ListAccessKeys":
    case "iam:CreateAccessKey":
    case "iam:UpdateAccessKey":
    case "iam:DeleteAccessKey":
      // IAM authorizes against the user's ARN; moto's users have the default path "/" (a user with a path
      // has it in its ARN, and so in pIamUserArn).
      return [request(`iam:${call.operation}`, `arn:aws:iam::${accountId}:user/${param("UserName")}`)];
    case "secretsmanager:GetSecretValue":
    case "secretsmanager:PutSecretValue": {
      const secretId = param("SecretId");
      if (!secretId.startsWith("arn:")) {
        throw new Error(
          `iam-policy-eval: ${source} named secret ${secretId} by name; the stack passes ARNs.`,
        );
      }
      const requests = [request(`secretsmanager:${call.operation}`, secretId)];
      const key = policies.encryptionKeys.get(secretId);
      if (key !== undefined && call.status < 400) {
        const kmsAction = call.operation === "GetSecretValue" ? "kms:Decrypt" : "kms:GenerateDataKey";
        requests.push(
          request(kmsAction, key, `${source} (Secrets Manager uses the secret's key as the caller)`, {
            "kms:ViaService": `secretsmanager.${region}.amazonaws.com`,
            "kms:CallerAccount": accountId,
            ...secretsManagerEncryptionContext(secretId),
          }),
        );
      }
      return requests;
    }
    case "s3:GetObject":
    case "s3:HeadObject": {
      const bucket = param("Bucket");
      // Reading one version of an object is s3:GetObjectVersion (S3 API reference, GetObject "Permissions").
      const read = call.params.VersionId === undefined ? "s3:GetObject" : "s3:GetObjectVersion";
      const requests = [request(read, `arn:aws:s3:::${bucket}/${param("Key")}`)];
      if (call.operation === "GetObject") requests.push(...sseKmsRequests(call, request, region, accountId));
      if (call.errorCode === "NoSuchKey" || (call.operation === "HeadObject" && call.status === 404)) {
        requests.push(
          request(
            "s3:ListBucket",
            `arn:aws:s3:::${bucket}`,
            `${source} answered NoSuchKey, not AccessDenied`,
          ),
        );
      }
      return requests;
    }
    case "s3:PutObject":
      return [
        request("s3:PutObject", `arn:aws:s3:::${param("Bucket")}/${param("Key")}`),
        ...sseKmsRequests(call, request, region, accountId),
      ];
    case "s3:DeleteObject":
      return [request(`s3:${call.operation}`, `arn:aws:s3:::${param("Bucket")}/${param("Key")}`)];
    case "s3:ListObjectsV2":
    case "s3:ListObjects":
      return [request("s3:ListBucket", `arn:aws:s3:::${param("Bucket")}`)];
    case "s3:ListObjectVersions":
      // s3:ListBucketVersions on the bucket, with the request's prefix as `s3:prefix` (S3 API reference,
      // ListObjectVersions "Permissions"; Service Authorization Reference: condition keys for Amazon S3).
      return [
        request(
          "s3:ListBucketVersions",
          `arn:aws:s3:::${param("Bucket")}`,
          source,
          call.params.Prefix === undefined ? {} : { "s3:prefix": call.params.Prefix },
        ),
      ];
    case "sns:Publish": {
      // Publishing to a topic encrypted with a customer managed key: SNS asks KMS for a data key (and decrypts
      // it) as the publisher, the topic's ARN as encryption context (SNS developer guide, "Key management").
      const topicArn = param("TopicArn");
      const requests = [request("sns:Publish", topicArn)];
      const key = policies.encryptionKeys.get(topicArn);
      for (const action of key === undefined || call.status >= 400
        ? []
        : ["kms:GenerateDataKey", "kms:Decrypt"]) {
        requests.push(
          request(action, key ?? "", `${source} (SNS uses the topic's key as the publisher)`, {
            "kms:ViaService": `sns.${region}.amazonaws.com`,
            "kms:CallerAccount": accountId,
            "kms:EncryptionContext:aws:sns:topicArn": topicArn,
          }),
        );
      }
      return requests;
    }
    case "ssm:DescribeDocument":
    case "ssm:UpdateDocumentDefaultVersion":
      // Systems Manager authorizes document actions against the document's ARN (Service Authorization
      // Reference, "Actions, resources, and condition keys for AWS Systems Manager": resource type document).
      return [
        request(`ssm:${call.operation}`, `arn:aws:ssm:${region}:${accountId}:document/${param("Name")}`),
      ];
    default:
      throw new Error(
        `iam-policy-eval: no IAM mapping for ${source} yet; add the action(s) it needs to iamRequestsForCall.`,
      );
  }
}

/**
 * The encryption context Secrets Manager gives KMS for a secret's value: the secret's ARN and the version's ID
 * (Secrets Manager user guide, "Secret encryption and decryption": encryption context). The version ID is any
 * real one here; `RequestToValidateKeyAccess` marks Secrets Manager's key-access check instead.
 */
export function secretsManagerEncryptionContext(
  secretArn: string,
  versionId = "c0ffee00-0000-4000-8000-000000000001",
): Record<string, string> {
  return {
    "kms:EncryptionContext:SecretARN": secretArn,
    "kms:EncryptionContext:SecretVersionId": versionId,
  };
}

/**
 * S3 reads or writes an SSE-KMS object with the caller's permissions on its key: kms:Decrypt for GetObject,
 * kms:GenerateDataKey for PutObject, with `kms:ViaService` set to S3 and, without an S3 Bucket Key, the object's
 * ARN as encryption context (S3 user guide, "Using server-side encryption with AWS KMS keys": permissions and
 * encryption context). A successful call only: a refused one never reached KMS.
 */
function sseKmsRequests(
  call: RecordedAwsCall,
  request: (action: string, resource: string, why: string, extra: Record<string, string>) => IamRequest,
  region: string,
  accountId: string,
): IamRequest[] {
  const key = call.params.SSEKMSKeyId;
  if (key === undefined || call.status >= 400) return [];
  const object = `arn:aws:s3:::${call.params.Bucket}/${call.params.Key}`;
  const action = call.operation === "PutObject" ? "kms:GenerateDataKey" : "kms:Decrypt";
  return [
    request(action, key, `s3:${call.operation} (S3 uses the object's KMS key as the caller)`, {
      "kms:ViaService": `s3.${region}.amazonaws.com`,
      "kms:CallerAccount": accountId,
      "kms:EncryptionContext:aws:s3:arn": object,
    }),
  ];
}

/**
 * What the Lambda service does with the function's role at each invocation: it creates a log stream in the
 * function's log group (LoggingConfig.LogGroup) and puts the function's output there (Lambda developer
 * guide, "Sending Lambda function logs to CloudWatch Logs"). The code makes no Logs call itself.
 */
export function lambdaLogRequests(
  template: CfnTemplate,
  policies: TemplatePolicies,
  functionId: string,
  caller: RoleSession,
  invocations: number,
): IamRequest[] {
  const loggingConfig = template.Resources[functionId]?.Properties?.LoggingConfig as
    | { LogGroup?: unknown }
    | undefined;
  const logGroup =
    loggingConfig?.LogGroup === undefined ? "" : String(policies.resolver.resolve(loggingConfig.LogGroup));
  if (logGroup === "") throw new Error(`iam-policy-eval: ${functionId} sets no LoggingConfig.LogGroup.`);
  const { accountId, region } = policies.context;
  const requests: IamRequest[] = [];
  for (let i = 1; i <= invocations; i++) {
    const stream = `2025/01/01/[$LATEST]${i.toString(16).padStart(32, "0")}`;
    const arn = `arn:aws:logs:${region}:${accountId}:log-group:${logGroup}:log-stream:${stream}`;
    for (const action of ["logs:CreateLogStream", "logs:PutLogEvents"]) {
      requests.push(
        sessionRequest(caller, action, arn, `Lambda runtime writes the output of invocation ${i}`),
      );
    }
  }
  return requests;
}

/**
 * What a runbook execution asks AWS for as its assume role: each aws:invokeLambdaFunction step invokes the
 * function (lambda:InvokeFunction); aws:branch and aws:sleep need nothing, nor does aws:executeScript when
 * its script makes no AWS call (`scriptCallsAws`).
 */
export function runbookStepRequests(
  execution: AutomationExecution,
  caller: RoleSession,
  policies: TemplatePolicies,
  runbook: string,
): IamRequest[] {
  const { accountId, region } = policies.context;
  return execution.steps
    .filter((step) => step.action === "aws:invokeLambdaFunction")
    .map((step) => {
      const name = String((step.inputs as { FunctionName?: unknown }).FunctionName);
      const arn = name.startsWith("arn:") ? name : `arn:aws:lambda:${region}:${accountId}:function:${name}`;
      return sessionRequest(caller, "lambda:InvokeFunction", arn, `${runbook} step ${step.stepName}`);
    });
}

/** Whether an aws:executeScript Python script can call AWS (it would need boto3 or botocore to). */
export function scriptCallsAws(script: string): boolean {
  return /\b(?:import|from)\s+(?:boto3|botocore)\b/.test(script);
}

/**
 * The requests AWS services make for the stack, derived from the template:
 * - each role is assumed by the service its trust policy is for: the function's role by Lambda, the
 *   runbooks' assume role by Systems Manager (from an automation execution of this account), a rule
 *   target's role by EventBridge (from that rule);
 * - a rule target that is a runbook (`automation-definition/NAME:VERSION`) is started as the target's role,
 *   which also passes the runbook's assume role (the document's `assumeRole`) to Systems Manager (SSM user
 *   guide, "Run an automation with EventBridge"; IAM user guide, "Granting a user permissions to pass a
 *   role");
 * - a rule target that is an SNS topic is published to by EventBridge (topic policy, `aws:SourceArn` = the
 *   rule); with a customer managed key on the topic EventBridge also needs kms:GenerateDataKey and
 *   kms:Decrypt on it (SNS developer guide, "Enable compatibility between event sources from AWS services
 *   and encrypted topics");
 * - a log group with a KMS key is encrypted by CloudWatch Logs with the log group's ARN as encryption
 *   context (CloudWatch Logs user guide, "Encrypt log data in CloudWatch Logs using AWS KMS").
 */
export function serviceRequests(template: CfnTemplate, policies: TemplatePolicies): IamRequest[] {
  const { resolver } = policies;
  const { accountId, region } = policies.context;
  const requests: IamRequest[] = [];
  const roleIdByArn = new Map(Object.values(policies.roles).map((role) => [role.arn, role.logicalId]));
  const roleIdOf = (arn: string): string => {
    const id = roleIdByArn.get(arn);
    if (id === undefined) throw new Error(`iam-policy-eval: ${arn} is not a role of the template.`);
    return id;
  };
  const assume = (service: string, roleArn: string, source: string, context: Record<string, string>) =>
    requests.push({ principal: service, action: "sts:AssumeRole", resource: roleArn, context, source });

  for (const [id, resource] of Object.entries(template.Resources)) {
    const props = resource.Properties ?? {};
    if (resource.Type === "AWS::Lambda::Function") {
      assume("lambda.amazonaws.com", String(resolver.resolve(props.Role)), `Lambda runs ${id}`, {
        "aws:SourceAccount": accountId,
      });
    }
    if (resource.Type === "AWS::Logs::LogGroup" && props.KmsKeyId !== undefined) {
      const key = String(resolver.resolve(props.KmsKeyId));
      const logGroupArn = `arn:aws:logs:${region}:${accountId}:log-group:${String(resolver.resolve(props.LogGroupName))}`;
      for (const action of ["kms:GenerateDataKey", "kms:Decrypt"]) {
        requests.push({
          principal: `logs.${region}.amazonaws.com`,
          action,
          resource: key,
          context: { "kms:EncryptionContext:aws:logs:arn": logGroupArn, "kms:CallerAccount": accountId },
          source: `CloudWatch Logs encrypts and reads ${id}`,
        });
      }
    }
    if (resource.Type !== "AWS::Events::Rule") continue;
    const ruleArn = String(resolver.resolve({ "Fn::GetAtt": [id, "Arn"] }));
    // Field by field: a target's InputTemplate may use functions that do not matter here.
    const targets = (Array.isArray(props.Targets) ? props.Targets : []) as Record<string, unknown>[];
    for (const raw of targets) {
      const target = Object.fromEntries(
        ["Id", "Arn", "RoleArn", "Input"].flatMap((field) =>
          raw[field] === undefined ? [] : [[field, resolver.resolve(raw[field])]],
        ),
      ) as Record<string, unknown>;
      const targetArn = String(target.Arn);
      const fromRule = { "aws:SourceArn": ruleArn, "aws:SourceAccount": accountId };
      if (target.RoleArn !== undefined) {
        const roleArn = String(target.RoleArn);
        assume("events.amazonaws.com", roleArn, `${id} target ${String(target.Id)}`, fromRule);
        const caller = roleSession(policies, roleIdOf(roleArn), `${id}-${String(target.Id)}`);
        if (!/:automation-definition\//.test(targetArn)) {
          throw new Error(`iam-policy-eval: ${id} targets ${targetArn}, a target type not modelled here.`);
        }
        requests.push(
          sessionRequest(caller, "ssm:StartAutomationExecution", targetArn, `${id} starts its runbook`),
        );
        // The target names the document by its Ref (the name, or the logical ID where no name is known).
        const started = templateRunbooks(template, policies.context).find((runbook) =>
          [runbook.name, runbook.logicalId].some((name) =>
            targetArn.includes(`:automation-definition/${name}:`),
          ),
        );
        const passed = started?.document.assumeRole;
        if (passed !== undefined) {
          requests.push(
            sessionRequest(
              caller,
              "iam:PassRole",
              passed,
              `${id} passes the runbook's role to Systems Manager`,
              {
                "iam:PassedToService": "ssm.amazonaws.com",
              },
            ),
          );
        }
        continue;
      }
      if (/^arn:aws:lambda:[^:]+:\d{12}:function:/.test(targetArn)) {
        // EventBridge invokes a Lambda target as events.amazonaws.com, allowed by the function's resource-based
        // policy (EventBridge user guide, "Using resource-based policies for Amazon EventBridge": Lambda).
        requests.push({
          principal: "events.amazonaws.com",
          action: "lambda:InvokeFunction",
          resource: targetArn,
          context: { ...fromRule, "aws:SecureTransport": "true" },
          source: `${id} passes a matching event to its function`,
        });
        continue;
      }
      if (!targetArn.startsWith("arn:aws:sns:")) {
        throw new Error(`iam-policy-eval: ${id} targets ${targetArn} without a role, not modelled here.`);
      }
      requests.push({
        principal: "events.amazonaws.com",
        action: "sns:Publish",
        resource: targetArn,
        context: { ...fromRule, "aws:SecureTransport": "true" },
        source: `${id} forwards a matching event`,
      });
      const key = policies.encryptionKeys.get(targetArn);
      for (const action of key === undefined ? [] : ["kms:GenerateDataKey", "kms:Decrypt"]) {
        requests.push({
          principal: "events.amazonaws.com",
          action,
          resource: key ?? "",
          // SNS names the topic in the encryption context; the source is the rule (SNS developer guide, "Key
          // management": compatibility between event sources from AWS services and encrypted topics).
          context: {
            ...fromRule,
            "kms:CallerAccount": accountId,
            "kms:EncryptionContext:aws:sns:topicArn": targetArn,
          },
          source: `${id} publishes to the encrypted topic`,
        });
      }
    }
  }

  // Systems Manager assumes each runbook's assume role (the document's assumeRole) for an execution.
  const assumeRoles = new Set(
    templateRunbooks(template, policies.context).map((runbook) => String(runbook.document.assumeRole ?? "")),
  );
  for (const roleArn of assumeRoles) {
    if (roleArn === "") continue;
    assume("ssm.amazonaws.com", roleArn, "an automation execution of a runbook", {
      "aws:SourceAccount": accountId,
      "aws:SourceArn": `arn:aws:ssm:${region}:${accountId}:automation-execution/00000000-0000-4000-8000-000000000000`,
    });
  }
  return requests;
}

// ---------------------------------------------------------------------------------------------------------
// Principals of the account

/**
 * A principal of the stack's account that is none of the stack's roles: a role (or user) with its own identity
 * policies, e.g. an AWS managed policy such as PowerUserAccess, an administrator named in pAdministratorArns, or
 * the principal that deploys the stack.
 */
export interface AccountPrincipal {
  readonly arn: string;
  readonly session: string;
  readonly identity: readonly NamedPolicy[];
}

/** A role of the stack's account named `roleName`, holding `identity` (AWS managed or inline policies). */
export function accountPrincipal(
  policies: TemplatePolicies,
  roleName: string,
  identity: readonly NamedPolicy[],
): AccountPrincipal {
  const { accountId } = policies.context;
  return {
    arn: `arn:aws:iam::${accountId}:role/${roleName}`,
    session: `arn:aws:sts::${accountId}:assumed-role/${roleName}/someone`,
    identity,
  };
}

/**
 * How a request reaches AWS: made directly by the principal, or by CloudFormation with the principal's
 * credentials while it creates, updates or deletes a stack the principal deploys. Then `aws:CalledVia` names
 * CloudFormation and `aws:ViaAWSService` is true (IAM user guide, "AWS global condition context keys":
 * aws:CalledVia, aws:ViaAWSService).
 */
export type RequestPath = "direct" | "cloudformation";

/** One request of an account principal, with the context every signed request over HTTPS carries. */
export function principalRequest(
  policies: TemplatePolicies,
  principal: AccountPrincipal,
  action: string,
  resource: string,
  options: {
    readonly path?: RequestPath;
    readonly context?: Readonly<Record<string, string | readonly string[]>>;
    readonly source?: string;
  } = {},
): IamRequest {
  const { accountId, region } = policies.context;
  const viaCloudFormation = options.path === "cloudformation";
  return {
    principal: principal.session,
    action,
    resource,
    identity: principal.identity,
    context: {
      "aws:SecureTransport": "true",
      "aws:PrincipalArn": principal.arn,
      "aws:PrincipalAccount": accountId,
      "aws:RequestedRegion": region,
      "aws:ViaAWSService": viaCloudFormation ? "true" : "false",
      ...(viaCloudFormation
        ? {
            "aws:CalledVia": ["cloudformation.amazonaws.com"],
            "aws:CalledViaFirst": "cloudformation.amazonaws.com",
            "aws:CalledViaLast": "cloudformation.amazonaws.com",
          }
        : {}),
      ...options.context,
    },
    source:
      options.source ?? `${principal.arn} ${action}${viaCloudFormation ? " through CloudFormation" : ""}`,
  };
}

/**
 * The context of a KMS request Secrets Manager makes with the caller's credentials for one of the stack's
 * secrets (`kms:ViaService`, and the secret named in the encryption context).
 */
export function throughSecretsManager(
  policies: TemplatePolicies,
  secretArn: string,
  versionId?: string,
): Record<string, string> {
  const { accountId, region } = policies.context;
  return {
    "kms:ViaService": `secretsmanager.${region}.amazonaws.com`,
    "kms:CallerAccount": accountId,
    ...secretsManagerEncryptionContext(secretArn, versionId),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Evaluation

/** A statement that applied to a request, with the action and resource patterns of it that matched. */
export interface MatchedStatement {
  readonly policy: string;
  /** The Sid, or `#<1-based index>`. */
  readonly statement: string;
  readonly effect: "Allow" | "Deny";
  readonly actions: readonly string[];
  readonly resources: readonly string[];
}

export interface Evaluation {
  readonly request: IamRequest;
  readonly decision: EvaluationResult;
  readonly matched: readonly MatchedStatement[];
}

export interface PoliciesInForce {
  /** The principal's identity policies (none for a service principal). */
  readonly identity: readonly NamedPolicy[];
  /** The resource's own policy (key, bucket, topic or trust policy), if it has one. */
  readonly resource?: NamedPolicy | undefined;
  /** Service control policies of the account's organization, beside AWS's default FullAWSAccess. */
  readonly scps?: readonly NamedPolicy[];
}

/** The SCP AWS Organizations attaches by default; SCPs only restrict what it allows. */
const FULL_AWS_ACCESS: PolicyDocument = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }],
};

type StatementAnalysis = NonNullable<RequestAnalysis["identityAnalysis"]>["allowStatements"][number];

/**
 * Evaluates one request as AWS would: identity policies, the resource's policy and their interplay (all in
 * one account). iam-simulate validates the action, the resource ARN and the context keys against the service
 * authorization reference; a request it rejects is modelled wrongly, so this throws.
 */
export async function evaluateRequest(request: IamRequest, policies: PoliciesInForce): Promise<Evaluation> {
  const result = await runSimulation(simulationOf(request, policies), {});
  if (result.resultType === "error") {
    throw new Error(
      `iam-policy-eval: iam-simulate rejected ${request.action} on ${request.resource}: ${JSON.stringify(result.errors)}`,
    );
  }
  if (result.resultType !== "single") {
    throw new Error(`iam-policy-eval: ${request.resource} is a wildcard; a request names one resource.`);
  }
  const ignored = result.result.ignoredContextKeys ?? [];
  if (ignored.length > 0) {
    throw new Error(
      `iam-policy-eval: ${ignored.join(", ")} do not apply to ${request.action} on ${request.resource}; the request is modelled wrongly.`,
    );
  }
  const { analysis } = result.result;
  const matched: MatchedStatement[] = [];
  const collect = (
    list: readonly StatementAnalysis[] | undefined,
    policyName: (a: StatementAnalysis) => string,
  ) => {
    for (const analysed of list ?? []) {
      const { explain, statement } = analysed;
      matched.push({
        policy: policyName(analysed),
        statement: statement.sid() ?? `#${statement.index()}`,
        effect: statement.isAllow() ? "Allow" : "Deny",
        actions: [explain.actions ?? []]
          .flat()
          .filter((a) => a.matches)
          .map((a) => a.action),
        resources: [explain.resources ?? []]
          .flat()
          .filter((r) => r.matches)
          .map((r) => r.resource),
      });
    }
  };
  collect(analysis.identityAnalysis?.allowStatements, (a) => a.policyId);
  collect(analysis.identityAnalysis?.denyStatements, (a) => a.policyId);
  const resourcePolicyName = () => policies.resource?.name ?? "(resource policy)";
  collect(analysis.resourceAnalysis?.allowStatements, resourcePolicyName);
  collect(analysis.resourceAnalysis?.denyStatements, resourcePolicyName);
  return { request, decision: result.overallResult, matched };
}

/**
 * iam-simulate drops request context keys whose variable part follows a colon — KMS's
 * `kms:EncryptionContext:<key>` — because it matches variable keys only after a slash (`aws:RequestTag/<key>`).
 * Such a key is renamed the same way in the request and in every policy condition, to a slash-variable key
 * of the same type (String), so the evaluator still decides on the real values with the real operators.
 */
function evaluableKey(key: string): string {
  const match = /^kms:EncryptionContext:(.+)$/i.exec(key);
  return match ? `aws:RequestTag/kms:EncryptionContext:${match[1]}` : key;
}

function evaluablePolicy(document: PolicyDocument): PolicyDocument {
  return {
    ...document,
    Statement: document.Statement.map((statement) =>
      statement.Condition === undefined
        ? statement
        : {
            ...statement,
            Condition: Object.fromEntries(
              Object.entries(statement.Condition).map(([operator, keys]) => [
                operator,
                Object.fromEntries(Object.entries(keys).map(([key, value]) => [evaluableKey(key), value])),
              ]),
            ),
          },
    ),
  };
}

function simulationOf(request: IamRequest, policies: PoliciesInForce): Simulation {
  const arnAccount = /^arn:aws[a-z-]*:[^:]*:[^:]*:(\d{12}):/.exec(request.resource)?.[1];
  // S3 ARNs carry no account: the stack's bucket is in its own account.
  const accountId =
    arnAccount ?? String(request.context["aws:PrincipalAccount"] ?? request.context["aws:SourceAccount"]);
  return {
    request: {
      principal: request.principal,
      action: request.action,
      resource: { resource: request.resource, accountId },
      contextVariables: Object.fromEntries(
        Object.entries(request.context).map(([key, value]) => [
          evaluableKey(key),
          typeof value === "string" ? value : [...value],
        ]),
      ),
    },
    identityPolicies: policies.identity.map((policy) => ({
      name: policy.name,
      policy: evaluablePolicy(policy.document),
    })),
    serviceControlPolicies:
      policies.scps === undefined
        ? []
        : [
            {
              orgIdentifier: "r-root",
              policies: [{ name: "FullAWSAccess", policy: FULL_AWS_ACCESS }, ...policies.scps].map(
                (policy) => ("document" in policy ? { name: policy.name, policy: policy.document } : policy),
              ),
            },
          ],
    resourceControlPolicies: [],
    ...(policies.resource === undefined
      ? {}
      : { resourcePolicy: evaluablePolicy(policies.resource.document) }),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Coverage

/**
 * The grants `evaluations` used, keyed by policy, statement and the position of each action and resource
 * pattern, so that evaluations against several stacks (other names, same template) add up. An Allow
 * statement is used by a request it allowed as part of an Allowed decision; a Deny statement by a request it
 * denied. A wildcard pattern (`kms:GenerateDataKey*`) counts as used when one action it covers is.
 */
export function usedGrants(
  policies: readonly NamedPolicy[],
  evaluations: readonly Evaluation[],
): Set<string> {
  const byName = new Map(policies.map((policy) => [policy.name, policy]));
  const used = new Set<string>();
  for (const { decision, matched } of evaluations) {
    for (const match of matched) {
      const counts = match.effect === "Allow" ? decision === "Allowed" : decision === "ExplicitlyDenied";
      const policy = byName.get(match.policy);
      if (!counts || policy === undefined) continue;
      const index = policy.document.Statement.findIndex(
        (statement, i) => (statement.Sid ?? `#${i + 1}`) === match.statement,
      );
      const statement = policy.document.Statement[index];
      if (statement === undefined) continue;
      const key = `${match.policy}|${match.statement}`;
      used.add(key);
      const actions = list(statement.Action);
      const resources = list(statement.Resource);
      for (const action of match.actions) used.add(`${key}|action|${actions.indexOf(action)}`);
      for (const resource of match.resources) used.add(`${key}|resource|${resources.indexOf(resource)}`);
    }
  }
  return used;
}

/** Every statement, action pattern and resource pattern of `policies` not in `used`, as sentences. */
export function unusedGrants(policies: readonly NamedPolicy[], used: ReadonlySet<string>): string[] {
  const unused: string[] = [];
  for (const policy of policies) {
    policy.document.Statement.forEach((statement, index) => {
      const label = statement.Sid ?? `#${index + 1}`;
      const key = `${policy.name}|${label}`;
      if (!used.has(key)) {
        unused.push(`${policy.name} ${label}: no request used this ${statement.Effect} statement`);
        return;
      }
      list(statement.Action).forEach((action, i) => {
        if (!used.has(`${key}|action|${i}`))
          unused.push(`${policy.name} ${label}: action ${action} never used`);
      });
      list(statement.Resource).forEach((resource, i) => {
        if (!used.has(`${key}|resource|${i}`))
          unused.push(`${policy.name} ${label}: resource ${resource} never matched`);
      });
    });
  }
  return unused;
}

/** Statement and action-pattern counts of policies, for reports. */
export function grantCounts(policies: readonly NamedPolicy[]): { statements: number; actions: number } {
  const statements = policies.flatMap((policy) => policy.document.Statement);
  return {
    statements: statements.length,
    actions: statements.reduce((sum, statement) => sum + list(statement.Action).length, 0),
  };
}

function list(value: string | readonly string[] | undefined): string[] {
  if (value === undefined) return [];
  return typeof value === "string" ? [value] : [...value];
}

// ---------------------------------------------------------------------------------------------------------
// Lint

/** A parliament finding (https://github.com/duo-labs/parliament), attributed to its policy and statement. */
export interface ParliamentFinding {
  readonly policy: string;
  /** The statement (Sid or `#<index>`) the finding points at; undefined for findings on the whole policy. */
  readonly statement: string | undefined;
  readonly issue: string;
  readonly severity: string;
  readonly detail: unknown;
}

const PARLIAMENT = join(REPO_ROOT, ".venv", "bin", "parliament");

/**
 * Lints policies with parliament, community auditors included, in one run. Each policy is written with one
 * statement per line, so a finding's line names its statement.
 */
export function parliamentFindings(policies: readonly NamedPolicy[]): ParliamentFinding[] {
  const dir = mkdtempSync(join(tmpdir(), "akm-parliament-"));
  try {
    const files = policies.map((policy, index) => {
      const file = join(dir, `policy-${index}.json`);
      const lines = policy.document.Statement.map((statement) => JSON.stringify(statement));
      writeFileSync(
        file,
        `{"Version":${JSON.stringify(policy.document.Version)},"Statement":[\n${lines.join(",\n")}\n]}\n`,
      );
      return file;
    });
    const run = spawnSync(
      PARLIAMENT,
      ["--json", "--include-community-auditors", "--files", files.join(",")],
      {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    if (run.error) {
      throw new Error(
        `iam-policy-eval: could not run ${PARLIAMENT} (${run.error.message}); run scripts/setup-python.sh to create .venv.`,
      );
    }
    if (run.stderr.trim() !== "") throw new Error(`iam-policy-eval: parliament failed: ${run.stderr.trim()}`);
    return run.stdout
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => {
        const raw = JSON.parse(line) as {
          issue: string;
          severity: string;
          detail: unknown;
          location: { filepath?: string; line?: number };
        };
        const index = files.indexOf(String(raw.location.filepath));
        const policy = policies[index];
        if (policy === undefined) throw new Error(`iam-policy-eval: parliament reported on unknown ${line}`);
        const statementIndex = raw.location.line === undefined ? -1 : raw.location.line - 2;
        const statement = policy.document.Statement[statementIndex];
        return {
          policy: policy.name,
          statement: statement === undefined ? undefined : (statement.Sid ?? `#${statementIndex + 1}`),
          issue: raw.issue,
          severity: raw.severity,
          detail: raw.detail,
        };
      });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
