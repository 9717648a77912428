/**
 * Who in the stack's account can reach the key, the token and the list, proven by evaluation: requests of
 * principals that are none of the stack's roles — holders of the AWS managed policies PowerUserAccess and
 * ReadOnlyAccess, an administrator, a list editor, the principal that deploys the stack — evaluated by
 * iam-simulate against their identity policies together with the policies the rendered template really creates
 * (the secrets' resource policies, the KMS key policy, the bucket policy), resolved for two stacks: one with no
 * administrator or editor named, one with both (and a CA bundle).
 *
 * What the function's role and the AWS services do is proven by execution in least-privilege.test.ts; the
 * requests built here are added to its coverage there, so every new statement is used by one of them.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadRenderedTemplate, REPO_ROOT } from "../../scripts/local-stack/lambda-runner.ts";
import { POWER_USER_ACCESS, READ_ONLY_ACCESS } from "../fixtures/aws-managed-policies.ts";
import {
  ACCOUNT,
  accountStack,
  type BoundaryCheck,
  boundaryRequests,
  type StackTargets,
  stackTargets,
} from "../support/account-boundary.ts";
import {
  type AccountPrincipal,
  accountPrincipal,
  type Evaluation,
  evaluateRequest,
  type IamRequest,
  type NamedPolicy,
  policiesInForce,
  principalRequest,
  roleSession,
  serviceRequests,
  type TemplatePolicies,
} from "../support/iam-policy-eval.ts";
import { stackArns } from "../support/stack-arns.ts";
import { printTable, writeFigures } from "./figures.ts";

const template = loadRenderedTemplate();

async function decide(policies: TemplatePolicies, request: IamRequest): Promise<Evaluation["decision"]> {
  return (await evaluateRequest(request, policiesInForce(policies, request))).decision;
}

/** Checks evaluated, by who makes them: [evaluated, as expected]. */
const tally = new Map<string, [number, number]>();

/** Each check's decision, as `<what>: <decision>` lines that name the failing one. */
async function decisions(policies: TemplatePolicies, checks: readonly BoundaryCheck[]): Promise<string[]> {
  const out: string[] = [];
  for (const check of checks) {
    const decision = await decide(policies, check.request);
    const [evaluated, met] = tally.get(check.who) ?? [0, 0];
    tally.set(check.who, [evaluated + 1, met + (decision === check.expected ? 1 : 0)]);
    out.push(`${check.what}: ${decision}`);
  }
  return out;
}

const WHO: Readonly<Record<string, string>> = {
  powerUser: "PowerUserAccess holder: requests to the secrets, key and bucket",
  readOnly: "ReadOnlyAccess holder: requests to the secrets, key and bucket",
  administrator: "Administrator (named, or AdministratorAccess when none is): requests",
  deployer: "Deploying principal through CloudFormation: requests",
  function: "Function's role: requests",
  editor: "List editor: requests",
};

afterAll(() => {
  if (tally.size === 0) return;
  const rows = Object.entries(WHO).map(([who, label]) => {
    const [evaluated, met] = tally.get(who) ?? [0, 0];
    return { label: `${label} (two stacks), decided as README says`, value: `${met} of ${evaluated}` };
  });
  printTable("Least privilege, the account boundary", rows);
  writeFigures("least-privilege-account", rows);
});

function expected(checks: readonly BoundaryCheck[]): string[] {
  return checks.map((check) => `${check.what}: ${check.expected}`);
}

const policy = (name: string, document: NamedPolicy["document"]): NamedPolicy => ({ name, document });

/** AWS's default key policy: the account's IAM policies decide (what the stack's key had before). */
const defaultKeyPolicy = policy("AWS default key policy", {
  Version: "2012-10-17",
  Statement: [
    {
      Sid: "EnableIamUserPermissions",
      Effect: "Allow",
      Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
      Action: "kms:*",
      Resource: "*",
    },
  ],
});

describe.each([
  { stack: "with no administrator or editor named", named: false },
  { stack: "with administrators and editors named", named: true },
])("a stack $stack", ({ named }) => {
  const policies = accountStack(template, { named });
  const targets: StackTargets = stackTargets(policies);
  const checks = boundaryRequests(policies, targets, { named });

  it.each([
    ["PowerUserAccess", "powerUser"],
    ["ReadOnlyAccess", "readOnly"],
  ] as const)(
    "denies a holder of %s every read of a secret, every decryption and every write of the list or the lock",
    async (_name, who) => {
      // Prepare
      const mine = checks.filter((check) => check.who === who);
      expect(mine.length).toBeGreaterThanOrEqual(15);

      // Act
      const outcome = await decisions(policies, mine);

      // Assess
      expect(outcome).toEqual(expected(mine));
    },
  );

  it("lets an administrator replace the token and manage the key, but not read the token or decrypt", async () => {
    const mine = checks.filter((check) => check.who === "administrator");
    expect(await decisions(policies, mine)).toEqual(expected(mine));
  });

  it("lets the deploying principal create and update the secrets through CloudFormation, never read them", async () => {
    const mine = checks.filter((check) => check.who === "deployer");
    expect(await decisions(policies, mine)).toEqual(expected(mine));
  });

  it("lets the function's role read both secrets and write its state, and nothing it does not need", async () => {
    const mine = checks.filter((check) => check.who === "function");
    expect(await decisions(policies, mine)).toEqual(expected(mine));
  });

  it("lets only the named editors upload the list by hand", async () => {
    const mine = checks.filter((check) => check.who === "editor");
    expect(await decisions(policies, mine)).toEqual(expected(mine));
  });
});

describe("a stack of someone else's in the same account (no administrator named)", () => {
  it("can replace the secret's and the bucket's policies through CloudFormation, and still cannot decrypt", async () => {
    // Prepare: PowerUserAccess deploying a stack of its own that attaches AWS::SecretsManager::ResourcePolicy
    // and AWS::S3::BucketPolicy to this stack's secret and bucket, then resolves the secret in a template.
    const policies = accountStack(template, { named: false });
    const targets = stackTargets(policies);
    const intruder: AccountPrincipal = accountPrincipal(policies, "PowerUser", [
      policy("PowerUserAccess", POWER_USER_ACCESS),
    ]);
    const viaStack = (action: string, resource: string, context: Record<string, string> = {}) =>
      principalRequest(policies, intruder, action, resource, { path: "cloudformation", context });

    // Act
    const replacePolicy = await decide(
      policies,
      viaStack("secretsmanager:PutResourcePolicy", targets.tokenSecret),
    );
    const replaceBucketPolicy = await decide(policies, viaStack("s3:PutBucketPolicy", targets.bucket));
    const decrypt = await decide(
      policies,
      viaStack("kms:Decrypt", targets.key, targets.throughSecretsManager(targets.tokenSecret)),
    );
    const changeKeyPolicy = await decide(
      policies,
      principalRequest(policies, intruder, "kms:PutKeyPolicy", targets.key),
    );

    // Assess: the residual risk README "Security model" names, and why it stays contained.
    expect([replacePolicy, replaceBucketPolicy]).toEqual(["Allowed", "Allowed"]);
    expect([decrypt, changeKeyPolicy]).toEqual(["ImplicitlyDenied", "ImplicitlyDenied"]);
  });
});

describe("the evaluation", () => {
  it("is not vacuous: without the stack's policies PowerUserAccess reads the token and decrypts", async () => {
    // Prepare: the same requests against no resource policy and a key policy that delegates to IAM, as the
    // stack had before (AWS's default key policy).
    const policies = accountStack(template, { named: false });
    const targets = stackTargets(policies);
    const intruder = accountPrincipal(policies, "PowerUser", [policy("PowerUserAccess", POWER_USER_ACCESS)]);
    const read = principalRequest(policies, intruder, "secretsmanager:GetSecretValue", targets.tokenSecret);
    const decrypt = principalRequest(policies, intruder, "kms:Decrypt", targets.key, {
      context: targets.throughSecretsManager(targets.tokenSecret),
    });

    // Act
    const readUnguarded = (await evaluateRequest(read, { identity: intruder.identity })).decision;
    const decryptUnguarded = (
      await evaluateRequest(decrypt, { identity: intruder.identity, resource: defaultKeyPolicy })
    ).decision;

    // Assess
    expect([readUnguarded, decryptUnguarded]).toEqual(["Allowed", "Allowed"]);
    expect(READ_ONLY_ACCESS.Statement.length).toBe(2);
  });
});

describe("README's service control policy", () => {
  // A stack named as README advises (aws-github-akm-<user>), for a user name long enough that CloudFormation
  // must shorten the function's generated name and the stack's function computes digest names.
  const USER = `ci-deployer-${"x".repeat(50)}`;
  const STACK = `aws-github-akm-${USER}`;
  const policies = accountStack(template, { named: false, stackName: STACK, userName: USER });
  const targets = stackTargets(policies);
  const arns = stackArns(template, policies);
  const { region } = policies.context;

  /** The SCP README "Security model" shows, with its example names replaced by the evaluated stack's. */
  function readmeScp(): NamedPolicy {
    const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("### What else is as good as holding the key"));
    const json = /```json\n([\s\S]*?)\n```/.exec(section)?.[1];
    if (json === undefined)
      throw new Error("README has no SCP example under 'What else is as good as holding the key'");
    const keyId = targets.key.slice(targets.key.lastIndexOf("/") + 1);
    const bucket = targets.bucket.replace("arn:aws:s3:::", "");
    return policy(
      "README SCP",
      JSON.parse(
        json
          .replaceAll("aws-github-akm-ci-deployer", STACK)
          .replaceAll('"ci-deployer"', JSON.stringify(USER))
          .replaceAll("111122223333", ACCOUNT)
          .replaceAll("my-akm-config-bucket", bucket)
          .replaceAll("eu-west-1", region)
          .replaceAll("<the stack's key ID>", keyId),
      ) as NamedPolicy["document"],
    );
  }
  const scp = readmeScp();
  const listed = [
    ...new Set(scp.document.Statement.flatMap((statement) => [statement.Action].flat() as string[])),
  ];

  /** A request's resource and the tags AWS sees on it. */
  interface Target {
    readonly arn: string;
    readonly context: Readonly<Record<string, string>>;
  }
  const ofType = (type: string): Target[] =>
    arns.filter((found) => found.type === type).map(({ arn, tags }) => ({ arn, context: tags }));

  /** Every resource of the stack `action` applies to, as the rendered template creates it. */
  function targetsOf(action: string): Target[] {
    const [service] = action.split(":");
    switch (service) {
      case "cloudformation":
        return ofType("AWS::CloudFormation::Stack");
      case "lambda":
        return ofType("AWS::Lambda::Function");
      case "ssm":
        return ofType(
          action === "ssm:StartAutomationExecution" ? "automation-definition" : "AWS::SSM::Document",
        );
      case "events":
        return ofType("AWS::Events::Rule");
      case "iam":
        // A role created with the stack's prefix would be exempt from the SCP as one of the stack's roles.
        return action === "iam:CreateRole"
          ? [{ arn: `arn:aws:iam::${ACCOUNT}:role/GHS-AKM-Intruder`, context: {} }]
          : ofType("AWS::IAM::Role");
      case "s3":
        return [targets.list, targets.lock, targets.progress, targets.caBundle].map((arn) => ({
          arn,
          context: {},
        }));
      case "secretsmanager":
        return ofType("AWS::SecretsManager::Secret");
      case "kms":
        return ofType("AWS::KMS::Key");
      case "sns":
        return ofType("AWS::SNS::Topic");
      default:
        throw new Error(
          `README's SCP lists ${action}, which this test does not place on the stack's resources`,
        );
    }
  }

  const intruder = accountPrincipal(policies, "PowerUser", [policy("PowerUserAccess", POWER_USER_ACCESS)]);
  const administrator = accountPrincipal(policies, "AkmAdministrator", [
    policy("AdministratorAccess", {
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }],
    }),
  ]);

  /** The decision for `principal` under the SCP and its identity policy alone (the stack's own are proven above). */
  async function underScp(principal: AccountPrincipal, action: string, target: Target): Promise<string> {
    const request = principalRequest(policies, principal, action, target.arn, { context: target.context });
    // A key answers only to its key policy: the default one, so that the SCP alone decides.
    const keyPolicy = action.startsWith("kms:") ? { resource: defaultKeyPolicy } : {};
    const { decision } = await evaluateRequest(request, {
      identity: principal.identity,
      scps: [scp],
      ...keyPolicy,
    });
    return decision;
  }

  it("refuses every permission it lists, on every resource of the stack, to a PowerUserAccess holder and leaves them to the named administrator", async () => {
    // Prepare
    const pairs = listed.flatMap((action) => targetsOf(action).map((target) => ({ action, target })));

    // Act
    const outcome: string[] = [];
    for (const { action, target } of pairs) {
      for (const [who, principal] of [
        ["PowerUser", intruder],
        ["AkmAdministrator", administrator],
      ] as const) {
        outcome.push(`${who} ${action} ${target.arn}: ${await underScp(principal, action, target)}`);
      }
    }

    // Assess
    expect(listed.length).toBeGreaterThanOrEqual(20);
    expect(pairs.length).toBeGreaterThan(listed.length);
    expect(outcome).toEqual(
      pairs.flatMap(({ action, target }) => [
        `PowerUser ${action} ${target.arn}: ExplicitlyDenied`,
        `AkmAdministrator ${action} ${target.arn}: Allowed`,
      ]),
    );
  });

  it("refuses a principal it does not name the invocation of the stack's function, whatever the function's generated name", async () => {
    // Prepare: the function's ARN as the stack really has it (CloudFormation generates its name).
    const [fn] = ofType("AWS::Lambda::Function");
    if (fn === undefined) throw new Error("the template has no function");
    const invoke = principalRequest(policies, intruder, "lambda:InvokeFunction", fn.arn, {
      context: fn.context,
    });

    // Act
    const withScp = await underScp(intruder, "lambda:InvokeFunction", fn);
    const withoutScp = (await evaluateRequest(invoke, { identity: intruder.identity })).decision;

    // Assess: the name does not start with GHS-AKM-, so only the function's tag can single it out.
    expect(fn.arn).not.toMatch(/:function:GHS-AKM-/);
    expect(fn.arn).toContain(":function:aws-github-akm-ci-deployer-");
    expect([withScp, withoutScp]).toEqual(["ExplicitlyDenied", "Allowed"]);
  });

  it("takes nothing from the stack's own roles: the schedule, the runbooks and the function still do their work", async () => {
    // Prepare: the schedule's role starting the Rotate runbook and passing it the runbooks' role, the runbooks'
    // role invoking the function, and what the function's role does to the secrets, the key and the bucket.
    const [fn] = ofType("AWS::Lambda::Function");
    if (fn === undefined) throw new Error("the template has no function");
    const runbooks = roleSession(policies, "rSsmRole", "automation-execution");
    const requests: IamRequest[] = [
      ...serviceRequests(template, policies).filter((request) => request.role !== undefined),
      {
        principal: runbooks.session,
        role: runbooks.role,
        action: "lambda:InvokeFunction",
        resource: fn.arn,
        context: { ...runbooks.context, ...fn.context },
        source: "a runbook step invokes the function",
      },
      ...boundaryRequests(policies, targets, { named: false })
        .filter((check) => check.who === "function" && check.expected === "Allowed")
        .map((check) => check.request),
    ];

    // Act
    const outcome: string[] = [];
    for (const request of requests) {
      const { decision } = await evaluateRequest(request, {
        ...policiesInForce(policies, request),
        scps: [scp],
      });
      outcome.push(`${request.source}: ${decision}`);
    }

    // Assess
    expect(requests.map((request) => request.role)).toEqual(
      expect.arrayContaining(["rEventsRuleRotateRole", "rSsmRole", "rAkmFunctionRole"]),
    );
    expect(outcome).toEqual(requests.map((request) => `${request.source}: Allowed`));
  });
});
