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
  type TemplatePolicies,
} from "../support/iam-policy-eval.ts";
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
  /** The SCP README "Security model" shows, with its example names replaced by the evaluated stack's. */
  function readmeScp(targets: StackTargets): NamedPolicy {
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
          .replaceAll("111122223333", ACCOUNT)
          .replaceAll("my-akm-config-bucket", bucket)
          .replaceAll("eu-west-1", "us-east-1")
          .replaceAll("<the stack's key ID>", keyId),
      ) as NamedPolicy["document"],
    );
  }

  it("refuses every permission it lists to a PowerUserAccess holder and leaves them to the named administrator", async () => {
    // Prepare
    const policies = accountStack(template, { named: false });
    const targets = stackTargets(policies);
    const scp = readmeScp(targets);
    const region = "us-east-1";
    const user = "ci-deployer";
    const resourceOf = (action: string): string => {
      const service = action.split(":")[0];
      switch (service) {
        case "cloudformation":
          return `arn:aws:cloudformation:${region}:${ACCOUNT}:stack/aws-github-akm/0a1b2c3d-0000-4000-8000-000000000000`;
        case "lambda":
          return `arn:aws:lambda:${region}:${ACCOUNT}:function:GHS-AKM-${user}`;
        case "ssm":
          return action === "ssm:StartAutomationExecution"
            ? `arn:aws:ssm:${region}:${ACCOUNT}:automation-definition/GHS-AKM-${user}-Rotate:$DEFAULT`
            : `arn:aws:ssm:${region}:${ACCOUNT}:document/GHS-AKM-${user}-Rotate`;
        case "events":
          return `arn:aws:events:${region}:${ACCOUNT}:rule/GHS-AKM-Rotate-${user}`;
        case "iam":
          return `arn:aws:iam::${ACCOUNT}:role/GHS-AKM-SSM-${user}`;
        case "s3":
          return targets.list;
        case "secretsmanager":
          return targets.tokenSecret;
        default:
          return targets.key;
      }
    };
    const statement = (scp.document.Statement[0] ?? { Action: [] }) as { Action: string | readonly string[] };
    const listed = [statement.Action].flat();
    const intruder = accountPrincipal(policies, "PowerUser", [policy("PowerUserAccess", POWER_USER_ACCESS)]);
    const administrator = accountPrincipal(policies, "AkmAdministrator", [
      policy("AdministratorAccess", {
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }],
      }),
    ]);

    // Act: the SCP and the identity policy alone (the stack's own policies are proven above).
    const outcome: string[] = [];
    for (const action of listed) {
      for (const [who, principal] of [
        ["PowerUser", intruder],
        ["AkmAdministrator", administrator],
      ] as const) {
        const request = principalRequest(policies, principal, action, resourceOf(action));
        // A key answers only to its key policy: the default one, so that the SCP alone decides.
        const keyPolicy = action.startsWith("kms:") ? { resource: defaultKeyPolicy } : {};
        const { decision } = await evaluateRequest(request, {
          identity: principal.identity,
          scps: [scp],
          ...keyPolicy,
        });
        outcome.push(`${who} ${action}: ${decision}`);
      }
    }

    // Assess
    expect(listed.length).toBeGreaterThanOrEqual(20);
    expect(outcome).toEqual(
      listed.flatMap((action) => [
        `PowerUser ${action}: ExplicitlyDenied`,
        `AkmAdministrator ${action}: Allowed`,
      ]),
    );
  });
});
