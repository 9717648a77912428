/**
 * Shadowing through the Rotate runbook (the template's function on Node 24, moto, the GitHub emulator), the issue's
 * reproduction: a repository whose deployment job uses an environment that has its own AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY. DryRun reports the copy and the job; Rotate refuses before creating a key; listing the
 * environment lets it pass, with R1 holding in every scope; Retire checks again before deactivating the old key.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, inject, it } from "vitest";
import { type Stack, useStacks } from "../../scripts/local-stack/stack-fixture.ts";
import { runOutOfStepTimeAtRead } from "../support/step-time.ts";

const endpoint = inject("motoEndpoint");
const createStack = useStacks(endpoint);

const KEY_ID = "AWS_ACCESS_KEY_ID";
const SECRET_KEY = "AWS_SECRET_ACCESS_KEY";
const DEPLOY = `
name: deploy
on: push
jobs:
  test:
    runs-on: ubuntu-latest
    steps: [{ run: make test }]
  release:
    runs-on: ubuntu-latest
    environment: production
    steps:
      - uses: aws-actions/configure-aws-credentials@v4
        with:
          aws-access-key-id: \${{ secrets.AWS_ACCESS_KEY_ID }}
          aws-secret-access-key: \${{ secrets.AWS_SECRET_ACCESS_KEY }}
          aws-region: eu-west-1
`;

interface Reproduction {
  readonly stack: Stack;
  readonly org: string;
  /** The environment's scope in the emulator. */
  readonly production: { kind: "environment"; owner: string; repo: string; environment: string };
  readonly r1: string[];
}

/**
 * Organization `org` with repositories app and web, both listed; app's workflow deploys from environment
 * production, which holds its own pair: the key the user had before the stack (adopted by the rotation).
 */
async function reproduction(
  entries: (org: string) => readonly Record<string, unknown>[] = () => [],
  options: { graceMinutes?: number } = {},
): Promise<Reproduction> {
  const org = `org-${randomUUID().slice(0, 8)}`;
  const stack = await createStack({
    repos: [`${org}/app`, `${org}/web`],
    reposJson: JSON.stringify({
      Version: 2,
      Repos: [{ Owner: org, Name: "app" }, { Owner: org, Name: "web" }, ...entries(org)],
    }),
    existingKeys: 1,
    seedReposWithExistingKey: true,
    graceMinutes: options.graceMinutes ?? 0,
  });
  stack.github.addOrg(org);
  stack.github.addEnvironment(org, "app", "production");
  stack.github.setWorkflow(org, "app", "deploy.yml", DEPLOY);
  const production = { kind: "environment", owner: org, repo: "app", environment: "production" } as const;
  const old = stack.existingKeys[0];
  stack.github.setSecretAt(production, KEY_ID, old?.accessKeyId ?? "");
  stack.github.setSecretAt(production, SECRET_KEY, old?.secretAccessKey ?? "");
  return { stack, org, production, r1: watchR1(stack) };
}

/** R1 at every write, over every scope and store: each key ID held anywhere is an Active key. */
function watchR1(stack: Stack): string[] {
  const problems: string[] = [];
  stack.onSecretWritten(async (event) => {
    const active = new Set(
      (await stack.keys()).filter((k) => k.status === "Active").map((k) => k.accessKeyId),
    );
    for (const holding of stack.github.holdersOf(KEY_ID, "secret")) {
      if (!active.has(holding.value)) {
        problems.push(
          `at the write of ${event.name}: ${JSON.stringify(holding.scope)} holds ${holding.value}`,
        );
      }
    }
  });
  return problems;
}

describe("a copy of the key in an environment the list does not name", () => {
  it("DryRun reports the environment's copies and the job that would keep the old key", async () => {
    // Prepare
    const { stack, org } = await reproduction();

    // Act
    const { execution } = await stack.runRunbook("Rotate", { DryRun: true });

    // Assess
    expect(execution.status).toBe("Success");
    const plan = String(execution.steps.find((step) => step.stepName === "CheckRotate")?.outputs.Summary);
    expect(plan).toContain(
      "Copies of the key's secrets that would hide it: 2 (looked at all 2 repositories):",
    );
    expect(plan).toContain(
      `- ${org}/app environment production has its own secret ${KEY_ID}, which hides ${org}/app from the jobs .github/workflows/deploy.yml: release.`,
    );
    expect(plan).toContain("A rotation would stop here, before creating a key: Rotation refused");
    expect(stack.github.requests.filter((request) => request.method !== "GET")).toEqual([]);
    expect(stack.github.violations).toEqual([]);
  });

  it("Rotate refuses before creating a key, naming the environment and the fix", async () => {
    // Prepare
    const { stack, org } = await reproduction();
    const before = await stack.keys();

    // Act
    const { execution } = await stack.runRunbook("Rotate");

    // Assess
    expect(execution.status).toBe("Failed");
    expect(execution.failureMessage).toContain(
      `Rotation refused: copies of the key's secrets that this stack does not manage would hide the new key`,
    );
    expect(execution.failureMessage).toContain(
      `${org}/app environment production (${KEY_ID}, ${SECRET_KEY})`,
    );
    expect(execution.failureMessage).toContain(
      `{"Owner":"${org}","Name":"app","Type":"environment","Environment":"production"}`,
    );
    expect(await stack.keys()).toEqual(before);
    expect(stack.github.requests.filter((request) => request.method !== "GET")).toEqual([]);
    expect(stack.github.violations).toEqual([]);
  });

  it("once the environment is listed, rotates every scope and retires the old key, R1 holding at every write", async () => {
    // Prepare
    const { stack, org, production, r1 } = await reproduction((owner) => [
      { Type: "environment", Owner: owner, Name: "app", Environment: "production" },
    ]);
    const old = stack.existingKeys[0]?.accessKeyId;

    // Act
    const { execution } = await stack.runRunbook("Rotate");

    // Assess
    expect(execution.failureMessage).toBeUndefined();
    expect(execution.status).toBe("Success");
    const active = (await stack.keys()).filter((k) => k.status === "Active");
    expect(active).toHaveLength(1);
    const key = active[0]?.accessKeyId;
    expect(key).not.toBe(old);
    expect(
      stack.github.effectiveSecret({ owner: org, repo: "app", environment: "production" }, KEY_ID)?.value,
    ).toBe(key);
    expect(stack.github.effectiveSecret({ owner: org, repo: "app" }, KEY_ID)?.value).toBe(key);
    expect(stack.github.effectiveSecret({ owner: org, repo: "web" }, KEY_ID)?.value).toBe(key);
    expect(stack.github.secretValueAt(production, SECRET_KEY)).toBe(await stack.issuedSecretOf(key ?? ""));
    expect((await stack.keys()).find((k) => k.accessKeyId === old)?.status).toBe("Inactive");
    expect(r1).toEqual([]);
    expect(stack.github.violations).toEqual([]);
  });

  it("once the environment is marked Unmanaged, rotates the listed repositories and leaves that copy alone", async () => {
    // Prepare: the environment's pair holds another key on purpose.
    const { stack, org, production } = await reproduction((owner) => [
      { Type: "environment", Owner: owner, Name: "app", Environment: "production", Unmanaged: true },
    ]);
    const kept = stack.github.secretValueAt(production, KEY_ID);

    // Act
    const { execution } = await stack.runRunbook("Rotate");

    // Assess
    expect(execution.failureMessage).toBeUndefined();
    expect(execution.status).toBe("Success");
    expect(stack.github.secretValueAt(production, KEY_ID)).toBe(kept);
    const key = stack.github.effectiveSecret({ owner: org, repo: "web" }, KEY_ID)?.value;
    expect((await stack.keys()).find((k) => k.accessKeyId === key)?.status).toBe("Active");
    expect(stack.github.violations).toEqual([]);
  });

  it("Retire keeps the old key active when a copy appears during the grace period, naming it", async () => {
    // Prepare: a clean list (the environment listed), then someone adds a copy to another environment during the
    // grace period.
    const { stack, org } = await reproduction(
      (owner) => [{ Type: "environment", Owner: owner, Name: "app", Environment: "production" }],
      { graceMinutes: 60 },
    );
    const old = stack.existingKeys[0]?.accessKeyId ?? "";

    // Act
    const { execution } = await stack.runRunbook(
      "Rotate",
      {},
      {
        onSleep: (sleep) => {
          if (sleep.stepName !== "WaitForGracePeriod") return;
          stack.github.addEnvironment(org, "web", "staging");
          stack.github.setSecretAt(
            { kind: "environment", owner: org, repo: "web", environment: "staging" },
            KEY_ID,
            old,
          );
        },
      },
    );

    // Assess
    expect(execution.status).toBe("Failed");
    expect(execution.failureMessage).toContain(`Retire refused: the old key ${old} stays active`);
    expect(execution.failureMessage).toContain(`${org}/web environment staging (${KEY_ID})`);
    expect((await stack.keys()).find((k) => k.accessKeyId === old)?.status).toBe("Active");
    expect(stack.github.violations).toEqual([]);
  });
});

describe("a hostile workflow file in a repository that holds a copy", () => {
  it("a job with a very long environment expression still ends in the refusal that names the copy, across invocations", async () => {
    // Prepare: a repository admin adds a job whose environment is an expression of 2,000 characters. GitHub's
    // primary rate limit (100 an hour) stops the check after the first repository, so its round, with that job,
    // is kept in the progress object for the next invocation.
    const org = `org-${randomUUID().slice(0, 8)}`;
    const stack = await createStack({
      repos: [`${org}/app`, `${org}/web`],
      existingKeys: 1,
      seedReposWithExistingKey: true,
      githubLimits: { requestsPerHour: 100 },
    });
    stack.github.addOrg(org);
    stack.github.addEnvironment(org, "app", "production");
    const long = `\${{ format('{0}', '${"x".repeat(2_000)}') }}`;
    stack.github.setWorkflow(
      org,
      "app",
      "deploy.yml",
      `on: push\njobs:\n  release:\n    runs-on: ubuntu-latest\n    environment: "${long}"\n    steps: [{ run: make }]\n`,
    );
    const production = { kind: "environment", owner: org, repo: "app", environment: "production" } as const;
    stack.github.setSecretAt(production, KEY_ID, stack.existingKeys[0]?.accessKeyId ?? "");
    const before = await stack.keys();

    // Act
    const { execution, invocations } = await stack.runRunbook("Rotate");

    // Assess
    expect(invocations.length).toBeGreaterThan(1);
    expect(execution.status).toBe("Failed");
    expect(execution.failureMessage).toContain("Rotation refused");
    expect(execution.failureMessage).toContain(`${org}/app environment production (${KEY_ID})`);
    expect(execution.failureMessage).not.toContain("does not match the expected format");
    expect(execution.failureMessage).toMatch(
      /maybe \.github\/workflows\/deploy\.yml: release \(its environment is \$\{\{ format\('\{0\}', 'x+\.\.\.\)/,
    );
    expect(await stack.keys()).toEqual(before);
    expect(stack.github.violations).toEqual([]);
  });
});

describe("a copy found in a repository whose workflow calls a reusable workflow of an unlisted owner", () => {
  it("as a GitHub App, the refusal names the copy and the calling job as maybe, without asking the App for that owner", async () => {
    // Prepare: the App is installed on the listed organization only; app's deploy job calls a workflow of
    // another organization, which the list does not name.
    const org = `org-${randomUUID().slice(0, 8)}`;
    const stack = await createStack({
      repos: [`${org}/app`, `${org}/web`],
      existingKeys: 1,
      seedReposWithExistingKey: true,
      githubApp: {},
    });
    stack.github.addOrg(org);
    stack.github.addEnvironment(org, "app", "production");
    stack.github.setWorkflow(
      org,
      "app",
      "deploy.yml",
      "on: push\njobs:\n  deploy:\n    uses: shared-org/workflows/.github/workflows/deploy.yml@main\n    with: { environment: production }\n",
    );
    const production = { kind: "environment", owner: org, repo: "app", environment: "production" } as const;
    stack.github.setSecretAt(production, KEY_ID, stack.existingKeys[0]?.accessKeyId ?? "");
    const before = await stack.keys();

    // Act
    const { execution } = await stack.runRunbook("Rotate");

    // Assess
    expect(execution.status).toBe("Failed");
    expect(execution.failureMessage).toContain("Rotation refused");
    expect(execution.failureMessage).toContain(`${org}/app environment production (${KEY_ID})`);
    expect(execution.failureMessage).toContain(
      "maybe .github/workflows/deploy.yml: deploy (the reusable workflow shared-org/workflows/.github/workflows/deploy.yml@main could not be read)",
    );
    expect(execution.failureMessage).not.toContain("bug in the tool");
    expect(stack.github.apps.minted.map((token) => token.account)).not.toContain("shared-org");
    expect(await stack.keys()).toEqual(before);
    expect(stack.github.violations).toEqual([]);
  });
});

describe("a repository with more environments than one invocation can look at", () => {
  it("Rotate looks at each environment once over several invocations and refuses with the copies of every part", async () => {
    // Prepare: big has 24 environments, created out of order; copies in env-03, env-12 and env-21. The step's time
    // runs out as GitHub answers env-07's and env-15's secret listings, so three invocations share big's check.
    const org = `org-${randomUUID().slice(0, 8)}`;
    const stack = await createStack({
      repos: [`${org}/big`, `${org}/web`],
      existingKeys: 1,
      seedReposWithExistingKey: true,
    });
    stack.github.addOrg(org);
    const names = Array.from({ length: 24 }, (_, i) => `env-${String(i).padStart(2, "0")}`);
    for (const [i] of names.entries()) stack.github.addEnvironment(org, "big", names[(i * 5) % 24] ?? "");
    const old = stack.existingKeys[0]?.accessKeyId ?? "";
    for (const environment of ["env-03", "env-12", "env-21"]) {
      stack.github.setSecretAt({ kind: "environment", owner: org, repo: "big", environment }, KEY_ID, old);
    }
    stack.github.setWorkflow(
      org,
      "big",
      "deploy.yml",
      "on: push\njobs:\n  ship: { runs-on: ubuntu-latest, environment: env-12, steps: [{ run: make }] }\n",
    );
    runOutOfStepTimeAtRead(
      stack,
      (request) =>
        request.operationId === "actions/list-environment-secrets" &&
        ["env-07", "env-15"].includes(request.params.environment_name ?? ""),
    );
    const before = await stack.keys();

    // Act
    const { execution } = await stack.runRunbook("Rotate");

    // Assess: each environment's secrets listed once in all; the refusal names the copies found by each part.
    const listings = stack.github.requests
      .filter((request) => request.operationId === "actions/list-environment-secrets")
      .map((request) => request.path.split("/")[5]);
    expect(listings).toEqual(names);
    const progress = execution.steps
      .filter((step) => step.stepName === "CheckRotate")
      .map((step) => String(step.outputs.Summary));
    expect(progress.slice(0, 2)).toEqual([
      expect.stringContaining(`0 of 2 repositories checked, and 8 of the 24 environments of ${org}/big`),
      expect.stringContaining(`0 of 2 repositories checked, and 16 of the 24 environments of ${org}/big`),
    ]);
    expect(execution.status).toBe("Failed");
    expect(execution.failureMessage).toContain("Rotation refused");
    for (const environment of ["env-03", "env-12", "env-21"]) {
      expect(execution.failureMessage).toContain(`${org}/big environment ${environment} (${KEY_ID})`);
    }
    expect(execution.failureMessage).toContain(".github/workflows/deploy.yml: ship");
    expect(await stack.keys()).toEqual(before);
    expect(stack.github.requests.filter((request) => request.method !== "GET")).toEqual([]);
    expect(stack.github.violations).toEqual([]);
    expect(stack.github.invariantFailures).toEqual([]);
  });
});
