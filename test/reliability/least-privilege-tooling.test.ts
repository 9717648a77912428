/**
 * The least-privilege suite is only as good as its tools: these show, without moto, that the recorder names
 * calls without keeping secrets, that a missing grant is refused, that an extra grant is reported unused,
 * and that conditions are decided on their values (encryption context included).
 */
import { describe, expect, it } from "vitest";
import { loadRenderedTemplate } from "../../scripts/local-stack/lambda-runner.ts";
import { describeAwsRequest, type RecordedAwsCall } from "../support/aws-call-recorder.ts";
import {
  deployedContext,
  evaluateRequest,
  type IamRequest,
  iamRequestsForCall,
  type NamedPolicy,
  type PolicyDocument,
  policiesInForce,
  roleSession,
  serviceRequests,
  type TemplatePolicies,
  templatePolicies,
  unusedGrants,
  usedGrants,
} from "../support/iam-policy-eval.ts";

const template = loadRenderedTemplate();
const ACCOUNT = "123456789012";
const USER = "ci-deployer";

function samplePolicies(): TemplatePolicies {
  return templatePolicies(
    template,
    deployedContext(template, {
      parameters: {
        pIamUserName: USER,
        pIamUserArn: `arn:aws:iam::${ACCOUNT}:user/${USER}`,
        pRepoConfigBucketName: "example-akm-config",
        pGitHubMachineUserName: "akm-bot",
        pSnsEmailAddress: "ops@example.com",
      },
      region: "us-east-1",
      accountId: ACCOUNT,
    }),
  );
}

const signed = (service: string) => ({
  authorization: `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250101/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=0`,
  "user-agent": "aws-sdk-js/3 exec-env/AWS_Lambda_nodejs24.x",
});

function call(
  service: string,
  operation: string,
  params: Record<string, string>,
  status = 200,
): RecordedAwsCall {
  return {
    service,
    operation,
    params,
    accessKeyId: "AKIDEXAMPLE",
    userAgent: "",
    method: "POST",
    status,
    errorCode: undefined,
  };
}

/** The function role's policies with one statement's actions replaced. */
function withActions(policies: TemplatePolicies, sid: string, actions: string[]): TemplatePolicies {
  const role = policies.roles.rAkmFunctionRole;
  if (!role) throw new Error("no rAkmFunctionRole");
  const edit = (policy: NamedPolicy): NamedPolicy => ({
    ...policy,
    document: {
      ...policy.document,
      Statement: policy.document.Statement.map((s) => (s.Sid === sid ? { ...s, Action: actions } : s)),
    } satisfies PolicyDocument,
  });
  const policiesOfRole = role.policies.map(edit);
  return {
    ...policies,
    roles: { ...policies.roles, rAkmFunctionRole: { ...role, policies: policiesOfRole } },
  };
}

async function decide(policies: TemplatePolicies, request: IamRequest) {
  return (await evaluateRequest(request, policiesInForce(policies, request))).decision;
}

describe("the AWS call recorder", () => {
  it("names a Secrets Manager call by its target and keeps the secret's ID, never its value", () => {
    // Prepare
    const body = Buffer.from(JSON.stringify({ SecretId: "arn:example", SecretString: "do-not-record-me" }));

    // Act
    const described = describeAwsRequest(
      "POST",
      "/",
      { ...signed("secretsmanager"), "x-amz-target": "secretsmanager.PutSecretValue" },
      body,
    );

    // Assess
    expect(described?.operation).toBe("PutSecretValue");
    expect(described?.params).toEqual({ SecretId: "arn:example" });
    expect(JSON.stringify(described)).not.toContain("do-not-record-me");
  });

  it("names IAM query calls and path-style S3 object calls", () => {
    // Act
    const iam = describeAwsRequest(
      "POST",
      "/",
      { ...signed("iam"), "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
      Buffer.from("Action=CreateAccessKey&Version=2010-05-08&UserName=ci-deployer"),
    );
    const s3 = describeAwsRequest(
      "PUT",
      "/example-akm-config/repos.json.lock?x-id=PutObject",
      signed("s3"),
      Buffer.alloc(0),
    );

    // Assess
    expect(iam).toMatchObject({ service: "iam", operation: "CreateAccessKey", params: { UserName: USER } });
    expect(s3).toMatchObject({
      service: "s3",
      operation: "PutObject",
      params: { Bucket: "example-akm-config", Key: "repos.json.lock" },
    });
  });

  it("names S3's version listing and version reads, and SNS's Publish with its topic", () => {
    // Act
    const list = describeAwsRequest(
      "GET",
      "/example-akm-config?versions=&prefix=repos.json",
      signed("s3"),
      Buffer.alloc(0),
    );
    const read = describeAwsRequest(
      "GET",
      "/example-akm-config/repos.json?versionId=abc123&x-id=GetObject",
      signed("s3"),
      Buffer.alloc(0),
    );
    const publish = describeAwsRequest(
      "POST",
      "/",
      { ...signed("sns"), "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
      Buffer.from(
        "Action=Publish&Version=2010-03-31&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A123456789012%3At&Message=hello",
      ),
    );

    // Assess
    expect(list).toMatchObject({
      operation: "ListObjectVersions",
      params: { Bucket: "example-akm-config", Prefix: "repos.json" },
    });
    expect(read).toMatchObject({
      operation: "GetObject",
      params: { Bucket: "example-akm-config", Key: "repos.json", VersionId: "abc123" },
    });
    expect(publish).toMatchObject({
      operation: "Publish",
      params: { TopicArn: "arn:aws:sns:us-east-1:123456789012:t" },
    });
    expect(JSON.stringify(publish)).not.toContain("hello");
  });

  it("ignores unsigned requests, which are not AWS calls", () => {
    expect(describeAwsRequest("GET", "/moto-api/data.json", {}, Buffer.alloc(0))).toBeUndefined();
  });
});

describe("the evaluation", () => {
  it("refuses a call once its grant is taken away", async () => {
    // Prepare
    const policies = samplePolicies();
    const session = roleSession(policies, "rAkmFunctionRole", "rAkmFunction");
    const [release] = iamRequestsForCall(
      {
        ...call("s3", "DeleteObject", { Bucket: "example-akm-config", Key: "repos.json.lock" }),
        method: "DELETE",
      },
      session,
      policies,
    );
    if (!release) throw new Error("no request");

    // Act
    const granted = await decide(policies, release);
    const withdrawn = await decide(
      withActions(policies, "HoldRunLock", ["s3:GetObject", "s3:PutObject"]),
      release,
    );

    // Assess
    expect(granted).toBe("Allowed");
    expect(withdrawn).toBe("ImplicitlyDenied");
  });

  it("reports a granted action no request uses", async () => {
    // Prepare
    const policies = withActions(samplePolicies(), "ManageKeysOfOneUser", [
      "iam:GetUser",
      "iam:ListAccessKeys",
      "iam:CreateAccessKey",
      "iam:UpdateAccessKey",
      "iam:DeleteAccessKey",
      "iam:DeleteUser",
    ]);
    const session = roleSession(policies, "rAkmFunctionRole", "rAkmFunction");
    const requests = [
      "GetUser",
      "ListAccessKeys",
      "CreateAccessKey",
      "UpdateAccessKey",
      "DeleteAccessKey",
    ].flatMap((operation) =>
      iamRequestsForCall(call("iam", operation, { UserName: USER }), session, policies),
    );
    const evaluations = [];
    for (const request of requests)
      evaluations.push(await evaluateRequest(request, policiesInForce(policies, request)));

    // Act
    const role = policies.roles.rAkmFunctionRole?.policies ?? [];
    const unused = unusedGrants(role, usedGrants(role, evaluations)).filter((line) =>
      line.includes("ManageKeysOfOneUser"),
    );

    // Assess
    expect(unused).toEqual([
      "rAkmFunctionRole policy rotate-one-users-keys ManageKeysOfOneUser: action iam:DeleteUser never used",
    ]);
  });

  it("maps the implied KMS use of Secrets Manager and fails loudly on a call it cannot map", () => {
    // Prepare
    const policies = samplePolicies();
    const session = roleSession(policies, "rAkmFunctionRole", "rAkmFunction");
    const state = policies.context.resources?.rRotationStateSecret?.arn ?? "";

    // Act
    const put = iamRequestsForCall(
      call("secretsmanager", "PutSecretValue", { SecretId: state }),
      session,
      policies,
    );
    const unknown = () =>
      iamRequestsForCall(call("iam", "DeleteUser", { UserName: USER }), session, policies);

    // Assess
    expect(put.map((r) => r.action)).toEqual(["secretsmanager:PutSecretValue", "kms:GenerateDataKey"]);
    expect(put[1]?.context["kms:ViaService"]).toBe("secretsmanager.us-east-1.amazonaws.com");
    expect(unknown).toThrow(/no IAM mapping for iam:DeleteUser/);
  });

  it("maps the KMS use S3 makes for an SSE-KMS object, with the object's ARN as encryption context", async () => {
    // Prepare
    const policies = samplePolicies();
    const session = roleSession(policies, "rAkmFunctionRole", "rAkmFunction");
    const bucket = policies.context.resources?.rRepoConfigBucket?.ref ?? "";
    const key = policies.context.resources?.rKmsKey?.arn ?? "";
    const object = { Bucket: bucket, Key: "repos.json.progress.json", SSEKMSKeyId: key };

    // Act
    const put = iamRequestsForCall(call("s3", "PutObject", object), session, policies);
    const get = iamRequestsForCall(call("s3", "GetObject", object), session, policies);
    const refused = iamRequestsForCall(call("s3", "PutObject", object, 412), session, policies);
    const decisions = await Promise.all([...put, ...get].map((r) => decide(policies, r)));

    // Assess
    expect(put.map((r) => r.action)).toEqual(["s3:PutObject", "kms:GenerateDataKey"]);
    expect(get.map((r) => r.action)).toEqual(["s3:GetObject", "kms:Decrypt"]);
    expect(get[1]?.context).toMatchObject({
      "kms:ViaService": "s3.us-east-1.amazonaws.com",
      "kms:EncryptionContext:aws:s3:arn": `arn:aws:s3:::${bucket}/repos.json.progress.json`,
    });
    expect(refused.map((r) => r.action)).toEqual(["s3:PutObject"]);
    expect(decisions).toEqual(["Allowed", "Allowed", "Allowed", "Allowed"]);
  });

  it("maps a Publish to the encrypted topic to the KMS use SNS makes, with the topic as encryption context", async () => {
    // Prepare
    const policies = samplePolicies();
    const session = roleSession(policies, "rAkmFunctionRole", "rAkmFunction");
    const topic = policies.context.resources?.rSnsTopic?.arn ?? "";

    // Act
    const requests = iamRequestsForCall(call("sns", "Publish", { TopicArn: topic }), session, policies);
    const decisions = await Promise.all(requests.map((r) => decide(policies, r)));

    // Assess
    expect(requests.map((r) => r.action)).toEqual(["sns:Publish", "kms:GenerateDataKey", "kms:Decrypt"]);
    expect(requests[1]?.context).toMatchObject({
      "kms:ViaService": "sns.us-east-1.amazonaws.com",
      "kms:EncryptionContext:aws:sns:topicArn": topic,
    });
    expect(decisions).toEqual(["Allowed", "Allowed", "Allowed"]);
  });

  it("maps reading the list's versions to s3:ListBucketVersions with its prefix and s3:GetObjectVersion", async () => {
    // Prepare
    const policies = samplePolicies();
    const session = roleSession(policies, "rAkmFunctionRole", "rAkmFunction");
    const bucket = policies.context.resources?.rRepoConfigBucket?.ref ?? "";

    // Act
    const list = iamRequestsForCall(
      call("s3", "ListObjectVersions", { Bucket: bucket, Prefix: "repos.json" }),
      session,
      policies,
    );
    const read = iamRequestsForCall(
      call("s3", "GetObject", { Bucket: bucket, Key: "repos.json", VersionId: "v1" }),
      session,
      policies,
    );
    const decisions = await Promise.all([...list, ...read].map((r) => decide(policies, r)));

    // Assess
    expect([...list, ...read].map((r) => r.action)).toEqual(["s3:ListBucketVersions", "s3:GetObjectVersion"]);
    expect(list[0]?.context).toMatchObject({ "s3:prefix": "repos.json" });
    expect(decisions).toEqual(["Allowed", "Allowed"]);
  });

  it("decides an encryption-context condition on its value", async () => {
    // Prepare
    const policies = samplePolicies();
    const encrypt = serviceRequests(template, policies).find(
      (r) => r.principal.startsWith("logs.") && r.action === "kms:GenerateDataKey",
    );
    if (!encrypt) throw new Error("no CloudWatch Logs request");
    const elsewhere: IamRequest = {
      ...encrypt,
      context: {
        ...encrypt.context,
        "kms:EncryptionContext:aws:logs:arn": `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/aws/lambda/other`,
      },
    };

    // Act
    const own = await decide(policies, encrypt);
    const other = await decide(policies, elsewhere);

    // Assess
    expect(own).toBe("Allowed");
    expect(other).toBe("ImplicitlyDenied");
  });
});
