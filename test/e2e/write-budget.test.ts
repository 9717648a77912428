import { PutSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { describe, expect, inject, it } from "vitest";
import { awsClientConfig } from "../../scripts/local-stack/aws-fixtures.ts";
import { useStacks } from "../../scripts/local-stack/stack-fixture.ts";
import { GITHUB_WRITE_LIMITS } from "../../src/github/write-pacer.ts";
import type { HandlerResult } from "../../src/handler-contract.ts";

const endpoint = inject("motoEndpoint");
const createStack = useStacks(endpoint);

const REPOS = ["octo-org/one", "octo-org/two", "octo-org/three", "octo-org/four"];
/** GitHub's limit for content-creating requests per hour. */
const HOURLY_LIMIT = 500;
const HOUR_MS = 60 * 60_000;

describe("Rotate runbook when GitHub's hourly write budget runs out mid-rotation", () => {
  it("sleeps until the budget frees up, then continues, writing each repository once", async () => {
    // Prepare: earlier runs sent 496 writes two minutes ago (as the rotation state records them; outside GitHub's
    // minute window, so only the hourly one holds this run back), so this one may send 4 — two repositories —
    // before it has to wait for them to age out, longer than a step may run. That is almost an hour away: however
    // slow the machine is to reach its first write, the budget is still used up then.
    const stack = await createStack({ repos: REPOS, existingKeys: 1, seedReposWithExistingKey: true });
    const sentAt = Math.ceil((Date.now() + stack.clockOffsetMs - 2 * 60_000) / 1000);
    const secrets = new SecretsManagerClient(awsClientConfig(endpoint));
    await secrets.send(
      new PutSecretValueCommand({
        SecretId: stack.stateSecretArn,
        SecretString: JSON.stringify({
          schemaVersion: 1,
          holdings: {},
          // The first write's time, then the gaps to the next ones (all at the same second here).
          githubWrites: [sentAt, ...Array.from({ length: HOURLY_LIMIT - 5 }, () => 0)],
          updatedAt: new Date().toISOString(),
        }),
      }),
    );
    secrets.destroy();

    // Act
    const { execution, invocations } = await stack.runRunbook("Rotate");

    // Assess
    expect(execution.failureMessage).toBeUndefined();
    expect(execution.status).toBe("Success");
    const checks = execution.steps.filter((step) => step.stepName === "CheckRotate");
    expect(checks.map((step) => step.outputs.Next)).toEqual(["again", "done"]);
    const first = checks[0]?.outputs ?? {};
    const firstRotate = invocations.find((invocation) => invocation.stepName === "Rotate");
    expect((firstRotate?.result as HandlerResult | undefined)?.repoCounts).toMatchObject({
      done: 2,
      remaining: 2,
    });
    expect(first.Progress).toMatch(
      /^2 of 4 repositories done, 2 remaining; GitHub's write budget is used up, resumes at /,
    );
    // WaitForWriteBudget runs in every iteration of the loop; only the first had to wait (timestamps are whole
    // seconds, rounded up, so "no wait" is less than a second).
    const budgetWaits = execution.sleeps.filter((sleep) => sleep.stepName === "WaitForWriteBudget");
    expect(budgetWaits.map((sleep) => sleep.ms >= 1000)).toEqual([true, false]);
    expect(budgetWaits[0]?.timestamp).toBe(first.ResumeAt);
    // An hour after the earlier writes, plus the few seconds the client keeps in hand for GitHub counting a write on
    // arrival (in whole seconds, rounded up).
    const freesAt = sentAt * 1000 + HOUR_MS + GITHUB_WRITE_LIMITS.marginMs;
    expect(Date.parse(budgetWaits[0]?.timestamp ?? "")).toBeGreaterThanOrEqual(freesAt);
    expect(Date.parse(budgetWaits[0]?.timestamp ?? "")).toBeLessThan(freesAt + 1000);
    expect(checks[1]?.outputs.Progress).toBe("4 of 4 repositories done");
    expect(execution.outputs["CheckRotateResult.Progress"]).toBe("4 of 4 repositories done");
    const newKey = execution.outputs["CheckRotateResult.NewAccessKeyId"];
    for (const repo of REPOS) {
      expect(stack.secretValues(repo).accessKeyId).toBe(newKey);
      expect(stack.secretPuts(repo)).toBe(2);
    }
    expect(stack.github.limitViolations).toBe(0);
    expect(stack.r1Failures).toEqual([]);
  });
});
