/**
 * The schedule starts the Rotate runbook every pHoursToRotate hours (default 6), and a rotation of 10,000
 * repositories takes about 40 at GitHub's write budget: the schedule's runs meet a rotation in progress. Each must
 * leave the rotation to it and end Success — the stack's alert rule e-mails every Failed run — while a run started by
 * hand still stops Failed, and a lease left by a crashed run is taken over once it expires. The runs start as the
 * template's schedule rule starts them (its target's Input) and the alert rule's pattern from the template is matched
 * against the status-change event Systems Manager sends.
 */
import { S3Client } from "@aws-sdk/client-s3";
import { PutSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { describe, expect, inject, it } from "vitest";
import { awsClientConfig } from "../../scripts/local-stack/aws-fixtures.ts";
import { type RunbookRun, type Stack, useStacks } from "../../scripts/local-stack/stack-fixture.ts";
import { S3RunLock } from "../../src/aws/s3-run-lock.ts";
import { lockKey } from "../../src/config/settings.ts";
import { LOCK_TTL_MS } from "../../src/lifecycle/rotation-context.ts";

const endpoint = inject("motoEndpoint");
const createStack = useStacks(endpoint);

const IN_PROGRESS = /another rotation is in progress/i;
const REPOS = ["octo-org/one", "octo-org/two", "octo-org/three", "octo-org/four"];
/** GitHub's limit for content-creating requests per hour. */
const HOURLY_LIMIT = 500;

/** What the user's keys and secrets look like: compared before and after a run that must change nothing. */
async function snapshot(stack: Stack): Promise<string> {
  const keys = (await stack.keys()).map((key) => `${key.accessKeyId}:${key.status}`);
  const puts = stack.repos.map((repo) => `${repo}:${stack.secretPuts(repo)}`);
  return JSON.stringify({ keys, puts });
}

/**
 * A stack whose first rotation runs out of GitHub's hourly write budget after two repositories (earlier runs sent
 * 496 writes 50 minutes ago, as the rotation state records them), so its runbook sleeps about ten minutes in
 * WaitForWriteBudget while it holds the rotation lock — as a long rotation does, hour after hour.
 */
async function stackWithBudgetNearlyUsed(): Promise<Stack> {
  const stack = await createStack({ repos: REPOS, existingKeys: 1, seedReposWithExistingKey: true });
  const fiftyMinutesAgo = Math.ceil((Date.now() - 50 * 60_000) / 1000);
  const secrets = new SecretsManagerClient(awsClientConfig(endpoint));
  try {
    await secrets.send(
      new PutSecretValueCommand({
        SecretId: stack.stateSecretArn,
        SecretString: JSON.stringify({
          schemaVersion: 1,
          holdings: {},
          githubWrites: [fiftyMinutesAgo, ...Array.from({ length: HOURLY_LIMIT - 5 }, () => 0)],
          updatedAt: new Date().toISOString(),
        }),
      }),
    );
  } finally {
    secrets.destroy();
  }
  return stack;
}

/** Runs a rotation and, while it waits for GitHub's write budget, `start` another run. */
async function whileWaitingForBudget(
  stack: Stack,
  start: () => Promise<RunbookRun>,
): Promise<{ first: RunbookRun; second: RunbookRun; before: string; after: string }> {
  let during: { second: RunbookRun; before: string; after: string } | undefined;
  const first = await stack.runRunbook(
    "Rotate",
    {},
    {
      onSleep: async (request) => {
        if (during !== undefined || request.stepName !== "WaitForWriteBudget" || request.ms < 1000) return;
        const before = await snapshot(stack);
        const second = await start();
        during = { second, before, after: await snapshot(stack) };
      },
    },
  );
  if (during === undefined) throw new Error("the rotation never waited for GitHub's write budget");
  return { first, ...during };
}

/** A stack whose first Rotate died while GitHub stored the first repository's secret access key. */
async function stackAfterCrash() {
  const stack = await createStack({ existingKeys: 1, seedReposWithExistingKey: true });
  const oldKey = stack.existingKeys[0]?.accessKeyId ?? "";
  const crash = new AbortController();
  stack.onSecretWritten(() => crash.abort());
  const crashed = await stack.runRunbook("Rotate", {}, { killLambda: crash.signal });
  stack.onSecretWritten(undefined);
  const createdByDeadRun = (await stack.keys()).find((key) => key.accessKeyId !== oldKey)?.accessKeyId ?? "";
  return { stack, oldKey, crashed, createdByDeadRun };
}

describe("a run the schedule starts while another execution rotates", () => {
  it("leaves the rotation to that execution: ends Success, names it, changes nothing and sends no alert", async () => {
    // Prepare
    const stack = await stackWithBudgetNearlyUsed();

    // Act
    const { first, second, before, after } = await whileWaitingForBudget(stack, () =>
      stack.startBySchedule(),
    );

    // Assess
    expect(second.execution.parameters.StartedBy).toBe("schedule");
    expect(second.execution.status).toBe("Success");
    expect(second.execution.failureMessage).toBeUndefined();
    expect(second.execution.outputs["CheckStart.Next"]).toBe("leave");
    expect(second.execution.outputs["CheckStart.Summary"]).toContain(
      `Left the rotation to execution "${first.execution.executionId}", in progress since `,
    );
    expect(second.execution.steps.map((step) => step.stepName)).toEqual([
      "Start",
      "CheckStart",
      "ChooseStart",
      "LeftToRotationInProgress",
    ]);
    expect(second.invocations.map((invocation) => invocation.stepName)).toEqual(["Start"]);
    expect(after).toBe(before);
    expect(stack.alertRuleMatches("Rotate", second.execution)).toBe(false);
    // The rotation it left to goes on undisturbed, each repository written once.
    expect(first.execution.status).toBe("Success");
    expect(first.execution.outputs["CheckRotateResult.Next"]).toBe("retire");
    for (const repo of stack.repos) expect(stack.secretPuts(repo), repo).toBe(2);
  });

  it("rotates as any run does when no rotation is in progress, and a failure of it is still e-mailed", async () => {
    // Prepare
    const stack = await createStack({ existingKeys: 1, seedReposWithExistingKey: true });

    // Act
    const scheduled = await stack.startBySchedule();
    await stack.writeConfig("{ not json");
    const broken = await stack.startBySchedule();

    // Assess
    expect(scheduled.execution.status).toBe("Success");
    expect(scheduled.execution.outputs["CheckStart.Next"]).toBe("rotate");
    expect(scheduled.execution.outputs["CheckRotateResult.Next"]).toBe("retire");
    const newKey = String(scheduled.execution.outputs["CheckRotateResult.NewAccessKeyId"]);
    for (const repo of stack.repos) expect(stack.secretValues(repo).accessKeyId).toBe(newKey);
    expect(stack.alertRuleMatches("Rotate", scheduled.execution)).toBe(false);
    expect(broken.execution.status).toBe("Failed");
    expect(broken.execution.failureMessage).toMatch(/Invalid repository list/);
    expect(stack.alertRuleMatches("Rotate", broken.execution)).toBe(true);
  });
});

describe("a run started by hand while another execution rotates", () => {
  it("stops Failed with another rotation is in progress, having changed nothing, and the alert rule e-mails it", async () => {
    // Prepare
    const stack = await stackWithBudgetNearlyUsed();

    // Act
    const { first, second, before, after } = await whileWaitingForBudget(stack, () =>
      stack.runRunbook("Rotate"),
    );

    // Assess
    expect(second.execution.parameters.StartedBy).toBe("user");
    expect(second.execution.status).toBe("Failed");
    expect(second.execution.failureMessage).toMatch(IN_PROGRESS);
    expect(second.execution.failureMessage).toContain(`execution "${first.execution.executionId}"`);
    expect(second.invocations.map((invocation) => invocation.stepName)).toEqual(["Start"]);
    expect(after).toBe(before);
    expect(stack.alertRuleMatches("Rotate", second.execution)).toBe(true);
    expect(first.execution.status).toBe("Success");
  });
});

describe("the schedule after a rotation's run crashed", () => {
  it("leaves quietly while the dead run's lease lasts, then takes the rotation over with the key that run created", async () => {
    // Prepare
    const { stack, oldKey, crashed, createdByDeadRun } = await stackAfterCrash();
    const afterCrash = await snapshot(stack);

    // Act
    const whileLeased = await stack.startBySchedule();
    const unchanged = await snapshot(stack);
    stack.advanceClock(LOCK_TTL_MS + 60_000);
    const takesOver = await stack.startBySchedule();

    // Assess
    expect(crashed.execution.status).toBe("Failed");
    expect(whileLeased.execution.status).toBe("Success");
    expect(whileLeased.execution.outputs["CheckStart.Summary"]).toContain(
      `Left the rotation to execution "${crashed.execution.executionId}"`,
    );
    expect(stack.alertRuleMatches("Rotate", whileLeased.execution)).toBe(false);
    expect(unchanged).toBe(afterCrash);
    expect(takesOver.execution.status).toBe("Success");
    expect(takesOver.execution.outputs["CheckStart.Next"]).toBe("rotate");
    expect(takesOver.execution.outputs["CheckRotateResult.NewAccessKeyId"]).toBe(createdByDeadRun);
    expect((await stack.keys()).map((key) => [key.accessKeyId, key.status])).toEqual([
      [oldKey, "Inactive"],
      [createdByDeadRun, "Active"],
    ]);
    for (const repo of stack.repos) expect(stack.secretValues(repo).accessKeyId).toBe(createdByDeadRun);
    expect(stack.maxKeysSeen).toBeLessThanOrEqual(2);
  });
});

describe("a scheduled run whose Retire finds another execution holding the lock", () => {
  it("leaves the retirement to it and ends Success; the next rotation deletes the old key", async () => {
    // Prepare: another execution takes the lock while this one waits for the grace period.
    const stack = await createStack({ existingKeys: 1, seedReposWithExistingKey: true });
    const oldKey = stack.existingKeys[0]?.accessKeyId ?? "";
    const other = "4105a4fc-f944-11e6-9d32-0a1b2c3d4e5f";
    const s3 = new S3Client(awsClientConfig(endpoint));
    const lock = new S3RunLock(s3, stack.bucket, lockKey(stack.configKey));

    // Act
    const scheduled = await stack.startBySchedule({
      onSleep: async (request) => {
        if (request.stepName !== "WaitForGracePeriod") return;
        await lock.acquire(other, new Date(Date.now() + stack.clockOffsetMs + request.ms), LOCK_TTL_MS);
      },
    });
    const keysAfterScheduled = await stack.keys();
    await lock.release(other);
    s3.destroy();
    const next = await stack.runRunbook("Rotate");

    // Assess
    expect(scheduled.execution.status).toBe("Success");
    expect(scheduled.execution.outputs["CheckRetire.Summary"]).toContain(
      `Left the retirement of the old key to execution "${other}"`,
    );
    expect(stack.alertRuleMatches("Rotate", scheduled.execution)).toBe(false);
    expect(keysAfterScheduled.find((key) => key.accessKeyId === oldKey)?.status).toBe("Active");
    expect(next.execution.status).toBe("Success");
    expect((await stack.keys()).map((key) => key.accessKeyId)).not.toContain(oldKey);
    expect(stack.maxKeysSeen).toBeLessThanOrEqual(2);
  });
});
