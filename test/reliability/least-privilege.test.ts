/**
 * Least privilege, proven by execution. Representative flows run through the runbooks against moto and the
 * GitHub emulator, with every AWS call of the template's Lambda recorded by a proxy in front of moto. Each
 * call — and what AWS authorizes as the caller on its way (KMS use by Secrets Manager, S3's 404-or-403, the
 * Lambda runtime's log writes) — becomes an IAM request; so does every step the runbooks' role performs,
 * what the schedule's role does, and what AWS services do for the stack (assume its roles, publish alerts,
 * encrypt logs). Each request is evaluated by iam-simulate against exactly the policies the rendered template
 * grants — role, trust, key, bucket and topic policies, resolved for that stack — and:
 * - every request the stack makes must be allowed;
 * - every statement, action and resource granted must be used by one (or be listed below with its reason);
 * - the guards must deny what they exist to deny (plain HTTP, KMS outside Secrets Manager or the progress
 *   object's S3 encryption, another user,
 *   another rule, another service or account assuming a role, ...);
 * - parliament must find nothing in any policy that is not justified below.
 * Figures go to .tmp/reliability/least-privilege.json.
 *
 * moto's own IAM enforcement (INITIAL_NO_AUTH_ACTION_COUNT) cannot complement this: it authorizes IAM and
 * Secrets Manager actions against the resource "*", so every resource-scoped grant reads as a denial, and it
 * loads no resource-based policy (moto/iam/access_control.py).
 */
import { DescribeSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  awsClientConfig,
  MOTO_ACCOUNT_ID,
  MOTO_REGION,
  putObjectText,
} from "../../scripts/local-stack/aws-fixtures.ts";
import {
  invokeLambda,
  loadRenderedTemplate,
  templateLambda,
} from "../../scripts/local-stack/lambda-runner.ts";
import {
  createStack,
  type RunbookName,
  type RunbookRun,
  type Stack,
  type StackOptions,
} from "../../scripts/local-stack/stack-fixture.ts";
import { accountStack, boundaryRequests, stackTargets } from "../support/account-boundary.ts";
import {
  type AwsCallRecorder,
  type RecordedAwsCall,
  startAwsCallRecorder,
} from "../support/aws-call-recorder.ts";
import { startCfnResponseServer } from "../support/cfn-response-server.ts";
import {
  deployedContext,
  type Evaluation,
  evaluateRequest,
  grantCounts,
  type IamRequest,
  iamRequestsForCall,
  lambdaLogRequests,
  type ParliamentFinding,
  parliamentFindings,
  policiesInForce,
  roleSession,
  runbookStepRequests,
  scriptCallsAws,
  serviceRequests,
  type TemplatePolicies,
  templatePolicies,
  unusedGrants,
  usedGrants,
} from "../support/iam-policy-eval.ts";
import {
  createDocuments,
  customResourceEvent,
  runbookDocuments,
  runbookStackContext,
  updateDocuments,
} from "../support/runbook-documents.ts";
import { printTable, writeFigures } from "./figures.ts";

const endpoint = inject("motoEndpoint");
const template = loadRenderedTemplate();
const FUNCTION_ID = templateLambda(template).logicalId;
const OTHER_ACCOUNT = "210987654321";

/**
 * Grants no request here can use, and why they stay. Each must really be unused: the test fails when one is
 * used, so the list cannot go stale.
 */
const UNUSED_BY_DESIGN: Readonly<Record<string, string>> = {
  "rSsmRole policy invoke-akm-function PassOwnRoleToSystemsManager: no request used this Allow statement":
    "AWS's Automation setup guide gives the service role iam:PassRole on itself for Systems Manager capabilities an execution hands it to; the stack's runbooks start none, so no flow here uses it",
  "rKmsKey key policy LogsEncryptsFunctionLogGroup: action kms:Encrypt* never used":
    "AWS's documented key policy for an encrypted log group; which KMS operations CloudWatch Logs runs inside AWS cannot be observed locally (GenerateDataKey and Decrypt are modelled)",
  "rKmsKey key policy LogsEncryptsFunctionLogGroup: action kms:ReEncrypt* never used":
    "AWS's documented key policy for an encrypted log group; CloudWatch Logs re-encrypts inside AWS, which cannot be observed locally",
};

const TRUST_NOT_IDENTITY =
  "parliament reads every document as an identity policy; a role's trust policy has no Resource by definition (its resource is the role)";
const KEY_POLICY_STAR =
  'in a key policy, Resource "*" means the key itself (KMS developer guide, "Key policies")';

/** parliament findings (`<policy> [<statement>] <issue>`), each with the reason it stays. */
const JUSTIFIED_FINDINGS: Readonly<Record<string, string>> = {
  "rAkmFunctionRole policy rotate-one-users-keys CREDENTIALS_EXPOSURE":
    "creating (and deactivating) the managed user's access key is what the function is for; the secret goes to Secrets Manager and GitHub only, and the grant names that one user",
  "rAkmFunctionRole policy rotate-one-users-keys PERMISSIONS_MANAGEMENT_ACTIONS":
    "parliament files Create/Update/DeleteAccessKey under permissions management; they are the rotation itself, on one user",
  "rAkmFunctionRole policy rotate-one-users-keys PRIVILEGE_ESCALATION":
    "iam:CreateAccessKey escalates when it reaches other users; Resource is the one managed user, and a key for anyone else is denied (guard check)",
  "rAkmFunctionRole trust policy #1 MALFORMED": TRUST_NOT_IDENTITY,
  "rSsmRole trust policy #1 MALFORMED": TRUST_NOT_IDENTITY,
  "rEventsRuleRotateRole trust policy #1 MALFORMED": TRUST_NOT_IDENTITY,
  "rEventsRuleRotateRole policy start-rotate-runbook PERMISSIONS_MANAGEMENT_ACTIONS":
    "starting a runbook that has an assume role requires iam:PassRole on it; limited to the runbooks' role and to ssm.amazonaws.com (guard checks)",
  "rKmsKey key policy PERMISSIONS_MANAGEMENT_ACTIONS":
    "kms:PutKeyPolicy for the administrators named in pAdministratorArns (or CloudFormation when none are): someone must be able to change the key policy, and only they can (least-privilege-account.test.ts)",
  "rKmsKey key policy AccountReadsKeyMetadata RESOURCE_STAR": KEY_POLICY_STAR,
  "rKmsKey key policy AdministratorsManageKey RESOURCE_STAR": KEY_POLICY_STAR,
  "rKmsKey key policy FunctionDecryptsStackSecrets RESOURCE_STAR": KEY_POLICY_STAR,
  "rKmsKey key policy FunctionUsesKeyForProgress RESOURCE_STAR": KEY_POLICY_STAR,
  "rKmsKey key policy AccountEncryptsStackSecrets RESOURCE_STAR": KEY_POLICY_STAR,
  "rKmsKey key policy SecretsManagerChecksKeyAccess RESOURCE_STAR": KEY_POLICY_STAR,
  "rKmsKey key policy FunctionPublishesAlerts RESOURCE_STAR": KEY_POLICY_STAR,
  "rSsmRole policy invoke-akm-function PERMISSIONS_MANAGEMENT_ACTIONS":
    "iam:PassRole on the runbooks' own role, to Systems Manager only, as AWS's Automation setup guide gives an Automation service role",
  "rKmsKey key policy EventBridgePublishesToEncryptedTopic RESOURCE_STAR": KEY_POLICY_STAR,
  "rKmsKey key policy LogsEncryptsFunctionLogGroup RESOURCE_STAR": KEY_POLICY_STAR,
  "rKmsKey key policy LogsEncryptsFunctionLogGroup MISMATCHED_TYPE":
    "an ARN operator on kms:EncryptionContext:aws:logs:arn (a String key holding an ARN) is how the CloudWatch Logs user guide scopes this grant; the evaluator applies it as AWS does (guard check: another log group is denied)",
};

// ---------------------------------------------------------------------------------------------------------
// The flows, and what they asked AWS for

interface StackEvidence {
  readonly flow: string;
  readonly policies: TemplatePolicies;
  /** The Lambda's calls signed with its role's credentials. */
  readonly roleCalls: readonly RecordedAwsCall[];
  /** The Lambda's calls signed with another key (the new access key, verified with STS). */
  readonly otherCalls: readonly RecordedAwsCall[];
  /** Each execution, with the role its runbook runs as (the document's assumeRole). */
  readonly runs: readonly {
    readonly runbook: RunbookName;
    readonly run: RunbookRun;
    readonly assumeRole: string;
  }[];
}

type RunRunbook = (name: RunbookName, parameters?: Readonly<Record<string, unknown>>) => Promise<RunbookRun>;

/** The stack's policies with its concrete names: user, bucket, secrets and KMS key as moto created them. */
async function stackPolicies(stack: Stack): Promise<TemplatePolicies> {
  const secrets = new SecretsManagerClient(awsClientConfig(endpoint));
  try {
    const { KmsKeyId } = await secrets.send(new DescribeSecretCommand({ SecretId: stack.tokenSecretArn }));
    if (KmsKeyId === undefined) throw new Error("least-privilege: the stack's token secret has no KMS key");
    const context = deployedContext(template, {
      parameters: {
        pIamUserName: stack.user.userName,
        pIamUserArn: stack.user.userArn,
        pRepoConfigBucketName: stack.bucket,
        // The machine user names the token secret (GHS-AKM-<user>-GitHubToken-<login>, then Secrets Manager's
        // six-character suffix); the key policy names the secret the same way.
        pGitHubMachineUserName: stack.tokenSecretArn.replace(/^.*-GitHubToken-/, "").replace(/-[^-]{6}$/, ""),
        pSnsEmailAddress: "alerts@example.com",
      },
      stackName: `akm-${stack.user.userName}`,
      region: MOTO_REGION,
      accountId: MOTO_ACCOUNT_ID,
      resources: {
        rGitHubTokenSecret: { ref: stack.tokenSecretArn, arn: stack.tokenSecretArn },
        rRotationStateSecret: { ref: stack.stateSecretArn, arn: stack.stateSecretArn },
        rRepoConfigBucket: { ref: stack.bucket, arn: `arn:aws:s3:::${stack.bucket}` },
        rKmsKey: { ref: KmsKeyId.slice(KmsKeyId.lastIndexOf("/") + 1), arn: KmsKeyId },
        rSnsTopic: { ref: stack.alertTopicArn, arn: stack.alertTopicArn },
        // The stack fixture names the function by its logical ID, and its runbooks invoke it by that name.
        [FUNCTION_ID]: {
          ref: FUNCTION_ID,
          arn: `arn:aws:lambda:${MOTO_REGION}:${MOTO_ACCOUNT_ID}:function:${FUNCTION_ID}`,
        },
      },
    });
    return templatePolicies(template, context);
  } finally {
    secrets.destroy();
  }
}

/** Runs one flow on a fresh stack whose function calls AWS through the recorder; keeps what it did. */
async function exercise(
  recorder: AwsCallRecorder,
  flow: string,
  options: StackOptions,
  steps: (stack: Stack, run: RunRunbook) => Promise<void>,
): Promise<StackEvidence> {
  const stack = await createStack(recorder.endpoint, { repos: [`lp-${flow}/app`], ...options });
  try {
    const from = recorder.calls.length;
    const runs: { runbook: RunbookName; run: RunbookRun; assumeRole: string }[] = [];
    await steps(stack, async (runbook, parameters = {}) => {
      const run = await stack.runRunbook(runbook, parameters);
      runs.push({ runbook, run, assumeRole: String(stack.runbookDocument(runbook).document.assumeRole) });
      return run;
    });
    // The stack fixture's own checks reach moto through the recorder too; the function's calls carry the
    // Lambda runtime's execution environment (AWS_EXECUTION_ENV) in their user agent.
    const lambdaCalls = recorder.calls
      .slice(from)
      .filter((call) => call.userAgent.includes("exec-env/AWS_Lambda_"));
    const roleKey = stack.env.AWS_ACCESS_KEY_ID;
    return {
      flow,
      policies: await stackPolicies(stack),
      roleCalls: lambdaCalls.filter((call) => call.accessKeyId === roleKey),
      otherCalls: lambdaCalls.filter((call) => call.accessKeyId !== roleKey),
      runs,
    };
  } finally {
    await stack.close();
  }
}

/**
 * What CloudFormation does for the stack's runbooks on an update: a new version of each (moto's documents,
 * created directly), then the custom resource rRunbookDefaultVersions, answered by the function through the
 * recorder, which makes each latest version the default (test/e2e/runbook-default-versions.test.ts).
 */
async function setRunbookDefaultVersions(stack: Stack): Promise<void> {
  const context = runbookStackContext(template, stack.user.userName);
  const documents = runbookDocuments(template, context);
  await createDocuments(endpoint, documents);
  await updateDocuments(
    endpoint,
    documents.map((d) => ({ ...d, content: `${d.content}\n# next version\n` })),
  );
  const responses = await startCfnResponseServer();
  try {
    const requestId = "least-privilege-update";
    const event = customResourceEvent(template, context, {
      requestType: "Update",
      responseUrl: responses.responseUrl(requestId),
      requestId,
      physicalResourceId: "runbook-default-versions",
    });
    await invokeLambda(event, { env: stack.env });
    const answer = JSON.parse(responses.received[0]?.body ?? "{}") as { Status?: string; Reason?: string };
    if (answer.Status !== "SUCCESS") {
      throw new Error(`least-privilege: the custom resource answered ${answer.Status}: ${answer.Reason}`);
    }
  } finally {
    await responses.close();
  }
}

async function runFlows(recorder: AwsCallRecorder): Promise<StackEvidence[]> {
  const one = (repo: string) => ({ GITHUBOWNER: "lp-repo-config", GITHUBREPO: repo });
  return [
    await exercise(recorder, "first-rotation", {}, async (stack, run) => {
      await setRunbookDefaultVersions(stack); // the stack update's custom resource
      await run("Rotate");
      await run("Rotate", { DryRun: true });
      await run("Get-RepoList");
    }),
    await exercise(
      recorder,
      "adopt-retire-delete",
      { existingKeys: 1, seedReposWithExistingKey: true },
      async (_stack, run) => {
        await run("Rotate"); // adopts the key, rotates, deactivates it after the grace period
        await run("Rotate"); // deletes the deactivated key to make room, rotates again
      },
    ),
    await exercise(recorder, "repo-config", { reposJson: null }, async (_stack, run) => {
      await run("Add-RepoConfig", one("first")); // creates repos.json
      await run("Add-RepoConfig", one("first")); // already listed: nothing changes
      await run("Add-RepoConfig", one("second"));
      await run("Delete-RepoConfig", one("first"));
      await run("Get-RepoList");
    }),
    await exercise(recorder, "list-changes", {}, async (stack, run) => {
      // A repository of an owner the stack does not allow: refused and alerted (sns:Publish, KMS through SNS).
      await run("Add-RepoConfig", { GITHUBOWNER: "lp-not-allowed", GITHUBREPO: "app" });
      // An allowed one, and S3's event for the change through the list rule: the function reads the list's
      // versions and announces the change.
      await run("Add-RepoConfig", { GITHUBOWNER: "lp-list-changes", GITHUBREPO: "docs" });
      const invocation = await stack.deliverListChange();
      if (invocation === undefined)
        throw new Error("least-privilege: the list rule did not match S3's event");
    }),
    await exercise(recorder, "lock-contention", {}, async (stack, run) => {
      const now = Date.now();
      // Held for a day, not a lease's 10 minutes: still held when the run gets to it on however loaded a machine.
      const lease = {
        owner: "another-execution",
        acquiredAt: new Date(now).toISOString(),
        expiresAt: new Date(now + 24 * 60 * 60_000).toISOString(),
      };
      await putObjectText(endpoint, stack.bucket, `${stack.configKey}.lock`, JSON.stringify(lease));
      await run("Rotate"); // stops at once: another rotation holds the lock
    }),
  ];
}

// ---------------------------------------------------------------------------------------------------------
// Requests by who makes them

interface StackRequests {
  readonly lambda: IamRequest[];
  readonly automation: IamRequest[];
  /** The schedule's role and AWS services acting for the stack (derived from the template). */
  readonly services: IamRequest[];
}

function roleIdFor(policies: TemplatePolicies, arn: string): string {
  const role = Object.values(policies.roles).find((candidate) => candidate.arn === arn);
  if (!role) throw new Error(`least-privilege: ${arn} is not a role of the template`);
  return role.logicalId;
}

function lambdaRoleId(policies: TemplatePolicies): string {
  const role = template.Resources[FUNCTION_ID]?.Properties?.Role;
  return roleIdFor(policies, String(policies.resolver.resolve(role)));
}

function requestsOf(stack: StackEvidence): StackRequests {
  const { policies } = stack;
  const lambdaSession = roleSession(policies, lambdaRoleId(policies), FUNCTION_ID);
  const invocations = stack.runs.reduce((sum, { run }) => sum + run.invocations.length, 0);
  return {
    lambda: [
      ...stack.roleCalls.flatMap((call) => iamRequestsForCall(call, lambdaSession, policies)),
      ...lambdaLogRequests(template, policies, FUNCTION_ID, lambdaSession, invocations),
    ],
    automation: stack.runs.flatMap(({ runbook, run, assumeRole }) => {
      const role = roleIdFor(policies, assumeRole);
      const session = roleSession(policies, role, run.execution.executionId);
      return runbookStepRequests(run.execution, session, policies, runbook);
    }),
    services: serviceRequests(template, policies),
  };
}

/** A variant of a request the stack makes, which a guard must deny. */
interface GuardCheck {
  readonly guard: string;
  readonly request: IamRequest;
  readonly expected: "ExplicitlyDenied" | "ImplicitlyDenied";
}

function pick(
  requests: readonly IamRequest[],
  what: string,
  test: (request: IamRequest) => boolean,
): IamRequest {
  const found = requests.find(test);
  if (!found) throw new Error(`least-privilege: the flows made no ${what} request`);
  return found;
}

function withContext(request: IamRequest, changes: Readonly<Record<string, string | undefined>>): IamRequest {
  const context: Record<string, string | readonly string[]> = { ...request.context };
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) delete context[key];
    else context[key] = value;
  }
  return { ...request, context };
}

function guardChecks(stack: StackEvidence, requests: StackRequests): GuardCheck[] {
  const { lambda, automation, services } = requests;
  const getList = pick(
    lambda,
    "s3:GetObject repos.json",
    (r) => r.action === "s3:GetObject" && r.resource.endsWith("/repos.json"),
  );
  const listBucket = {
    ...getList,
    action: "s3:ListBucket",
    resource: getList.resource.replace(/\/[^/]*$/, ""),
  };
  const decrypt = pick(
    lambda,
    "kms:Decrypt through Secrets Manager",
    (r) => r.action === "kms:Decrypt" && String(r.context["kms:ViaService"]).startsWith("secretsmanager."),
  );
  const progressDecrypt = pick(
    lambda,
    "kms:Decrypt of the progress object through S3",
    (r) => r.action === "kms:Decrypt" && String(r.context["kms:ViaService"]).startsWith("s3."),
  );
  const progressWrite = pick(
    lambda,
    "kms:GenerateDataKey of the progress object through S3",
    (r) => r.action === "kms:GenerateDataKey" && String(r.context["kms:ViaService"]).startsWith("s3."),
  );
  const setDefault = pick(
    lambda,
    "ssm:UpdateDocumentDefaultVersion",
    (r) => r.action === "ssm:UpdateDocumentDefaultVersion",
  );
  const createKey = pick(lambda, "iam:CreateAccessKey", (r) => r.action === "iam:CreateAccessKey");
  const readToken = pick(
    lambda,
    "secretsmanager:GetSecretValue of the token",
    (r) =>
      r.action === "secretsmanager:GetSecretValue" &&
      r.resource === stack.policies.context.resources?.rGitHubTokenSecret?.arn,
  );
  const invoke = pick(automation, "lambda:InvokeFunction", (r) => r.action === "lambda:InvokeFunction");
  const publish = pick(services, "sns:Publish", (r) => r.action === "sns:Publish");
  const start = pick(
    services,
    "ssm:StartAutomationExecution",
    (r) => r.action === "ssm:StartAutomationExecution",
  );
  const pass = pick(services, "iam:PassRole", (r) => r.action === "iam:PassRole");
  const logsKey = pick(
    services,
    "CloudWatch Logs KMS",
    (r) => r.principal.startsWith("logs.") && r.action === "kms:GenerateDataKey",
  );
  const assumedBy = (service: string) =>
    pick(
      services,
      `sts:AssumeRole by ${service}`,
      (r) => r.action === "sts:AssumeRole" && r.principal === service,
    );
  const lambdaAssume = assumedBy("lambda.amazonaws.com");
  const ssmAssume = assumedBy("ssm.amazonaws.com");
  const eventsAssume = assumedBy("events.amazonaws.com");
  const functionRoleArn = stack.policies.roles[lambdaRoleId(stack.policies)]?.arn ?? "";
  return [
    {
      guard: "bucket policy: no object request over plain HTTP, not even the function's",
      request: withContext(getList, { "aws:SecureTransport": "false" }),
      expected: "ExplicitlyDenied",
    },
    {
      guard: "bucket policy: no bucket request over plain HTTP, not even the function's",
      request: withContext(listBucket, { "aws:SecureTransport": "false" }),
      expected: "ExplicitlyDenied",
    },
    {
      guard: "function role: the KMS key only through Secrets Manager (a direct Decrypt)",
      request: withContext(decrypt, { "kms:ViaService": undefined }),
      expected: "ImplicitlyDenied",
    },
    {
      guard:
        "function role: the KMS key through S3 only for an object that names itself (no encryption context)",
      request: withContext(decrypt, { "kms:ViaService": `s3.${MOTO_REGION}.amazonaws.com` }),
      expected: "ImplicitlyDenied",
    },
    {
      guard: "function role: the KMS key through S3 for the progress object only (reading another object)",
      request: withContext(progressDecrypt, {
        "kms:EncryptionContext:aws:s3:arn": String(
          progressDecrypt.context["kms:EncryptionContext:aws:s3:arn"],
        ).replace(/[^/]*$/, "other.json"),
      }),
      expected: "ImplicitlyDenied",
    },
    {
      guard: "function role: the KMS key through S3 for the progress object only (writing another bucket's)",
      request: withContext(progressWrite, {
        "kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::another-bucket/repos.json.progress.json",
      }),
      expected: "ImplicitlyDenied",
    },
    {
      guard: "function role: the KMS key for the progress object only through S3 (a direct Decrypt)",
      request: withContext(progressDecrypt, { "kms:ViaService": undefined }),
      expected: "ImplicitlyDenied",
    },
    {
      guard: "function role: the access keys of its one user only",
      request: { ...createKey, resource: `arn:aws:iam::${MOTO_ACCOUNT_ID}:user/someone-else` },
      expected: "ImplicitlyDenied",
    },
    {
      guard: "function role: sets the default version of the stack's runbooks, no other document's",
      request: {
        ...setDefault,
        resource: setDefault.resource.replace(/document\/.*$/, "document/AWS-RunPatchBaseline"),
      },
      expected: "ImplicitlyDenied",
    },
    {
      guard: "function role: reads the runbooks' versions, never changes their content",
      request: { ...setDefault, action: "ssm:UpdateDocument" },
      expected: "ImplicitlyDenied",
    },
    {
      guard: "function role: reads the GitHub token, never writes it (the token's own policy says so too)",
      request: { ...readToken, action: "secretsmanager:PutSecretValue" },
      expected: "ExplicitlyDenied",
    },
    {
      guard: "function role: writes the list, its lock and its progress, no other object",
      request: {
        ...getList,
        action: "s3:PutObject",
        resource: getList.resource.replace(/repos\.json$/, "other.json"),
      },
      expected: "ImplicitlyDenied",
    },
    {
      guard: "function role: never deletes the list",
      request: { ...getList, action: "s3:DeleteObject" },
      expected: "ImplicitlyDenied",
    },
    {
      guard: "topic policy: only the failure rule publishes, not the schedule's rule",
      request: withContext(publish, { "aws:SourceArn": String(eventsAssume.context["aws:SourceArn"]) }),
      expected: "ImplicitlyDenied",
    },
    {
      guard: "topic policy: only the failure rule publishes, not a rule of another account",
      request: withContext(publish, {
        "aws:SourceArn": String(publish.context["aws:SourceArn"]).replace(MOTO_ACCOUNT_ID, OTHER_ACCOUNT),
        "aws:SourceAccount": OTHER_ACCOUNT,
      }),
      expected: "ImplicitlyDenied",
    },
    {
      guard: "key policy: CloudWatch Logs uses the key for the function's log group only",
      request: withContext(logsKey, {
        "kms:EncryptionContext:aws:logs:arn": `arn:aws:logs:${MOTO_REGION}:${MOTO_ACCOUNT_ID}:log-group:/aws/lambda/another-function`,
      }),
      expected: "ImplicitlyDenied",
    },
    {
      guard: "function role trust: only Lambda assumes it",
      request: { ...lambdaAssume, principal: "events.amazonaws.com" },
      expected: "ImplicitlyDenied",
    },
    {
      guard: "runbooks' role trust: only Systems Manager assumes it",
      request: { ...ssmAssume, principal: "lambda.amazonaws.com" },
      expected: "ImplicitlyDenied",
    },
    {
      guard: "runbooks' role trust: only for automations of this account",
      request: withContext(ssmAssume, {
        "aws:SourceAccount": OTHER_ACCOUNT,
        "aws:SourceArn": `arn:aws:ssm:${MOTO_REGION}:${OTHER_ACCOUNT}:automation-execution/x`,
      }),
      expected: "ImplicitlyDenied",
    },
    {
      guard: "schedule role trust: only EventBridge of this account",
      request: withContext(eventsAssume, { "aws:SourceAccount": OTHER_ACCOUNT }),
      expected: "ImplicitlyDenied",
    },
    {
      guard: "schedule role: starts the Rotate runbook, no other",
      request: { ...start, resource: start.resource.replace(/-Rotate:/, "-Delete-RepoConfig:") },
      expected: "ImplicitlyDenied",
    },
    {
      guard: "schedule role: passes the runbooks' role, no other",
      request: { ...pass, resource: functionRoleArn },
      expected: "ImplicitlyDenied",
    },
    {
      guard: "schedule role: passes it to Systems Manager only",
      request: withContext(pass, { "iam:PassedToService": "lambda.amazonaws.com" }),
      expected: "ImplicitlyDenied",
    },
    {
      guard: "runbooks' role: invokes the stack's function, no other",
      request: {
        ...invoke,
        resource: invoke.resource.replace(/:function:.*$/, ":function:another-function"),
      },
      expected: "ImplicitlyDenied",
    },
    {
      guard: "runbooks' role: cannot change the function",
      request: { ...invoke, action: "lambda:UpdateFunctionCode" },
      expected: "ImplicitlyDenied",
    },
  ].map((check) => ({ ...check, request: { ...check.request, source: check.guard } }) as GuardCheck);
}

/** Guards of the list's announcements (the list-changes flow): versions, alerts, and who invokes the function. */
function announcementGuards(requests: StackRequests): GuardCheck[] {
  const { lambda, services } = requests;
  const eventsAssume = pick(
    services,
    "sts:AssumeRole by events.amazonaws.com",
    (r) => r.action === "sts:AssumeRole" && r.principal === "events.amazonaws.com",
  );
  const listVersions = pick(lambda, "s3:ListBucketVersions", (r) => r.action === "s3:ListBucketVersions");
  const readVersion = pick(lambda, "s3:GetObjectVersion", (r) => r.action === "s3:GetObjectVersion");
  const alert = pick(lambda, "sns:Publish by the function", (r) => r.action === "sns:Publish");
  const alertKey = pick(
    lambda,
    "kms:GenerateDataKey through SNS",
    (r) => r.action === "kms:GenerateDataKey" && String(r.context["kms:ViaService"]).startsWith("sns."),
  );
  const listChanged = pick(
    services,
    "lambda:InvokeFunction by EventBridge",
    (r) => r.action === "lambda:InvokeFunction" && r.principal === "events.amazonaws.com",
  );
  return [
    {
      guard: "function role: lists versions of the list only (another prefix)",
      request: withContext(listVersions, { "s3:prefix": "" }),
      expected: "ImplicitlyDenied",
    },
    {
      guard: "function role: reads earlier versions of the list only (the progress object's)",
      request: { ...readVersion, resource: `${readVersion.resource}.progress.json` },
      expected: "ImplicitlyDenied",
    },
    {
      guard: "function role: publishes alerts to the stack's topic only",
      request: { ...alert, resource: alert.resource.replace(/:[^:]*$/, ":another-topic") },
      expected: "ImplicitlyDenied",
    },
    {
      guard: "function role: the KMS key through SNS for the stack's topic only",
      request: withContext(alertKey, {
        "kms:EncryptionContext:aws:sns:topicArn": `arn:aws:sns:${MOTO_REGION}:${MOTO_ACCOUNT_ID}:another-topic`,
      }),
      expected: "ImplicitlyDenied",
    },
    {
      guard: "function role: the KMS key for alerts only through SNS (a direct GenerateDataKey)",
      request: withContext(alertKey, { "kms:ViaService": undefined }),
      expected: "ImplicitlyDenied",
    },
    {
      guard: "function policy: EventBridge invokes the function for the list rule only",
      request: withContext(listChanged, { "aws:SourceArn": String(eventsAssume.context["aws:SourceArn"]) }),
      expected: "ImplicitlyDenied",
    },
  ].map((check) => ({ ...check, request: { ...check.request, source: check.guard } }) as GuardCheck);
}

// ---------------------------------------------------------------------------------------------------------
// Evaluation of everything, once

interface Results {
  readonly evidence: readonly StackEvidence[];
  readonly lambda: readonly Evaluation[];
  readonly automation: readonly Evaluation[];
  readonly services: readonly Evaluation[];
  readonly guards: readonly { readonly check: GuardCheck; readonly evaluation: Evaluation }[];
  /** Grant keys used across every stack (statement and pattern positions: see usedGrants). */
  readonly used: ReadonlySet<string>;
  /** The first stack's policies: the template's, with that stack's names. */
  readonly policies: TemplatePolicies;
  readonly findings: readonly ParliamentFinding[];
}

async function evaluateAll(
  policies: TemplatePolicies,
  requests: readonly IamRequest[],
): Promise<Evaluation[]> {
  const evaluations: Evaluation[] = [];
  for (const request of requests)
    evaluations.push(await evaluateRequest(request, policiesInForce(policies, request)));
  return evaluations;
}

async function collect(): Promise<Results> {
  const recorder = await startAwsCallRecorder(endpoint);
  let evidence: StackEvidence[];
  try {
    evidence = await runFlows(recorder);
  } finally {
    await recorder.close();
  }
  const lambda: Evaluation[] = [];
  const automation: Evaluation[] = [];
  const services: Evaluation[] = [];
  const guards: { check: GuardCheck; evaluation: Evaluation }[] = [];
  const used = new Set<string>();
  for (const [index, stack] of evidence.entries()) {
    const requests = requestsOf(stack);
    const stackEvaluations = {
      lambda: await evaluateAll(stack.policies, requests.lambda),
      automation: await evaluateAll(stack.policies, requests.automation),
      services: await evaluateAll(stack.policies, requests.services),
    };
    lambda.push(...stackEvaluations.lambda);
    automation.push(...stackEvaluations.automation);
    services.push(...stackEvaluations.services);
    const all = [...stackEvaluations.lambda, ...stackEvaluations.automation, ...stackEvaluations.services];
    const checks =
      index === 0
        ? guardChecks(stack, requests)
        : stack.flow === "list-changes"
          ? announcementGuards(requests)
          : [];
    for (const check of checks) {
      const [evaluation] = await evaluateAll(stack.policies, [check.request]);
      if (evaluation) {
        guards.push({ check, evaluation });
        all.push(evaluation);
      }
    }
    for (const key of usedGrants(stack.policies.all, all)) used.add(key);
  }
  // The account boundary: what other principals may and may not do to the secrets, key and bucket (decisions
  // checked in least-privilege-account.test.ts), for a stack without and with named administrators.
  for (const named of [false, true]) {
    const policies = accountStack(template, { named });
    const checks = boundaryRequests(policies, stackTargets(policies), { named });
    const evaluations = await evaluateAll(
      policies,
      checks.map((check) => check.request),
    );
    for (const key of usedGrants(policies.all, evaluations)) used.add(key);
  }
  const [first] = evidence;
  if (!first) throw new Error("least-privilege: no flow ran");
  return {
    evidence,
    lambda,
    automation,
    services,
    guards,
    used,
    policies: first.policies,
    findings: parliamentFindings(first.policies.all),
  };
}

let results: Results;

beforeAll(async () => {
  results = await collect();
});

afterAll(() => {
  if (results === undefined) return;
  const { policies } = results;
  const allowed = (evaluations: readonly Evaluation[]) =>
    `${evaluations.filter((e) => e.decision === "Allowed").length} of ${evaluations.length} allowed`;
  const granted = (role: string) => {
    const { statements, actions } = grantCounts(policies.roles[role]?.policies ?? []);
    return `${statements} statements, ${actions} actions: ${unusedGrants(policies.roles[role]?.policies ?? [], results.used).length} unused`;
  };
  const resourcePolicies = policies.resourcePolicies.map((r) => r.policy);
  const { statements, actions } = grantCounts(resourcePolicies);
  const rows = [
    {
      label:
        "Flows run through the runbooks (first rotation, adopt + retire + delete, list edits, list announcements, lock held)",
      value: String(results.evidence.length),
    },
    {
      label: "Runbook executions / Lambda invocations",
      value: `${results.evidence.flatMap((s) => s.runs).length} / ${results.evidence.flatMap((s) => s.runs).reduce((n, { run }) => n + run.invocations.length, 0)}`,
    },
    {
      label: "Function: AWS calls recorded, signed by its role",
      value: String(results.evidence.flatMap((s) => s.roleCalls).length),
    },
    {
      label: "Function: IAM requests evaluated (recorded + implied KMS, ListBucket, logs)",
      value: allowed(results.lambda),
    },
    { label: "Function role: granted", value: granted(lambdaRoleId(policies)) },
    { label: "Runbooks' role: runbook steps evaluated", value: allowed(results.automation) },
    { label: "Runbooks' role: granted", value: granted("rSsmRole") },
    { label: "Schedule role and AWS services: requests evaluated", value: allowed(results.services) },
    { label: "Schedule role: granted", value: granted("rEventsRuleRotateRole") },
    {
      label: "Key, bucket, topic and trust policies: granted",
      value: `${statements} statements, ${actions} actions: ${unusedGrants(resourcePolicies, results.used).length} unused, kept by design`,
    },
    {
      label:
        "Guards (TLS only, KMS via Secrets Manager, S3 or SNS for one object, scopes, trust, topic) denying their request",
      value: `${results.guards.filter((g) => g.evaluation.decision === g.check.expected).length} of ${results.guards.length}`,
    },
    {
      label: "parliament findings (community auditors included)",
      value: `${results.findings.length}, each justified`,
    },
  ];
  printTable("Least privilege, proven by execution", rows);
  writeFigures("least-privilege", rows);
});

function describeEvaluation({ request, decision }: Evaluation): string {
  return `${request.principal} ${request.action} on ${request.resource} (${request.source}): ${decision}`;
}

function refused(evaluations: readonly Evaluation[]): string[] {
  return evaluations.filter((e) => e.decision !== "Allowed").map(describeEvaluation);
}

// ---------------------------------------------------------------------------------------------------------
// Tests

describe("the flows the evidence comes from", () => {
  it("ran as users would see them: rotations and list edits succeed, the contended rotation stops", () => {
    const outcomes = Object.fromEntries(
      results.evidence.map((stack) => [
        stack.flow,
        stack.runs.map(({ runbook, run }) => `${runbook} ${run.execution.status}`),
      ]),
    );
    expect(outcomes).toEqual({
      "first-rotation": ["Rotate Success", "Rotate Success", "Get-RepoList Success"],
      "adopt-retire-delete": ["Rotate Success", "Rotate Success"],
      "repo-config": [
        "Add-RepoConfig Success",
        "Add-RepoConfig Success",
        "Add-RepoConfig Success",
        "Delete-RepoConfig Success",
        "Get-RepoList Success",
      ],
      "list-changes": ["Add-RepoConfig Failed", "Add-RepoConfig Success"],
      "lock-contention": ["Rotate Failed"],
    });
    const contended = results.evidence.find((stack) => stack.flow === "lock-contention");
    expect(contended?.runs[0]?.run.execution.failureMessage).toMatch(/another rotation is in progress/i);
  });

  it("made every kind of call the function's role is meant to make", () => {
    const kinds = new Set(
      results.evidence.flatMap((s) => s.roleCalls.map((c) => `${c.service}:${c.operation}`)),
    );
    expect([...kinds].sort()).toEqual([
      "iam:CreateAccessKey",
      "iam:DeleteAccessKey",
      "iam:GetUser",
      "iam:ListAccessKeys",
      "iam:UpdateAccessKey",
      "s3:DeleteObject",
      "s3:GetObject",
      "s3:ListObjectVersions",
      "s3:PutObject",
      "secretsmanager:GetSecretValue",
      "secretsmanager:PutSecretValue",
      "sns:Publish",
      "ssm:DescribeDocument",
      "ssm:UpdateDocumentDefaultVersion",
    ]);
  });
});

describe("the function's role", () => {
  it("is allowed every call the function makes and every request AWS makes as it", () => {
    expect(results.lambda.length).toBeGreaterThan(0);
    expect(refused(results.lambda)).toEqual([]);
  });

  it("signs with another key only to verify the new access key, which needs no permission", () => {
    const other = new Set(
      results.evidence.flatMap((s) => s.otherCalls.map((c) => `${c.service}:${c.operation}`)),
    );
    expect([...other]).toEqual(["sts:GetCallerIdentity"]);
  });

  it("uses every statement, action and resource it is granted", () => {
    const grants = results.policies.roles[lambdaRoleId(results.policies)]?.policies ?? [];
    expect(grants.length).toBeGreaterThan(0);
    expect(unusedGrants(grants, results.used)).toEqual([]);
  });
});

describe("the runbooks' role", () => {
  it("is allowed every step of every runbook execution", () => {
    expect(refused(results.automation)).toEqual([]);
    const runbooks = new Set(results.automation.map((e) => e.request.source.split(" step ")[0]));
    expect([...runbooks].sort()).toEqual(["Add-RepoConfig", "Delete-RepoConfig", "Get-RepoList", "Rotate"]);
  });

  it("needs nothing for the failure steps: their scripts make no AWS call", () => {
    const scripts = results.evidence.flatMap((stack) =>
      stack.runs.flatMap(({ run }) =>
        run.execution.steps
          .filter((step) => step.action === "aws:executeScript")
          .map((step) => String((step.inputs as { Script?: unknown }).Script)),
      ),
    );
    expect(scripts.length).toBeGreaterThan(0); // the contended rotation ended Failed through its script
    expect(scripts.filter(scriptCallsAws)).toEqual([]);
  });

  it("uses every statement, action and resource it is granted, except the self-pass AWS's setup guide gives it", () => {
    const grants = results.policies.roles.rSsmRole?.policies ?? [];
    expect(grants.length).toBeGreaterThan(0);
    expect(unusedGrants(grants, results.used)).toEqual(
      Object.keys(UNUSED_BY_DESIGN).filter((line) => line.startsWith("rSsmRole ")),
    );
  });
});

describe("the schedule's role and the AWS services acting for the stack", () => {
  it("are allowed to assume each role, start Rotate, pass its role, publish alerts and encrypt logs", () => {
    expect(refused(results.services)).toEqual([]);
    const kinds = new Set(
      results.services.map((e) => `${e.request.role ?? e.request.principal} ${e.request.action}`),
    );
    expect([...kinds].sort()).toEqual([
      "events.amazonaws.com kms:Decrypt",
      "events.amazonaws.com kms:GenerateDataKey",
      "events.amazonaws.com lambda:InvokeFunction",
      "events.amazonaws.com sns:Publish",
      "events.amazonaws.com sts:AssumeRole",
      "lambda.amazonaws.com sts:AssumeRole",
      `logs.${MOTO_REGION}.amazonaws.com kms:Decrypt`,
      `logs.${MOTO_REGION}.amazonaws.com kms:GenerateDataKey`,
      "rEventsRuleRotateRole iam:PassRole",
      "rEventsRuleRotateRole ssm:StartAutomationExecution",
      "ssm.amazonaws.com sts:AssumeRole",
    ]);
  });

  it("leave no grant of the schedule's role unused", () => {
    const grants = results.policies.roles.rEventsRuleRotateRole?.policies ?? [];
    expect(grants.length).toBeGreaterThan(0);
    expect(unusedGrants(grants, results.used)).toEqual([]);
  });
});

describe("key, bucket, topic and trust policies", () => {
  it("deny every request they guard against", () => {
    const outcomes = results.guards.map(
      ({ check, evaluation }) =>
        `${check.guard}: ${evaluation.decision === check.expected ? "denied" : evaluation.decision}`,
    );
    expect(outcomes).toEqual(results.guards.map(({ check }) => `${check.guard}: denied`));
    expect(outcomes.length).toBeGreaterThanOrEqual(20);
  });

  it("leave no statement, action or resource unused, except those kept by design", () => {
    const unused = unusedGrants(
      results.policies.resourcePolicies.map((r) => r.policy),
      results.used,
    );
    expect(unused).toEqual(
      Object.keys(UNUSED_BY_DESIGN).filter((line) =>
        results.policies.resourcePolicies.some((r) => line.startsWith(`${r.policy.name} `)),
      ),
    );
  });
});

describe("parliament", () => {
  it("finds nothing in the template's policies that has no written reason", () => {
    const findings = results.findings.map((f) =>
      [f.policy, f.statement, f.issue].filter((part) => part !== undefined).join(" "),
    );
    expect(findings.sort()).toEqual(Object.keys(JUSTIFIED_FINDINGS).sort());
  });
});
