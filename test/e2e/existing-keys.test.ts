import { describe, expect, inject, it } from "vitest";
import { type KeyState, useStacks } from "../../scripts/local-stack/stack-fixture.ts";

const endpoint = inject("motoEndpoint");
const createStack = useStacks(endpoint);

function statusOf(keys: readonly KeyState[], accessKeyId: string): string {
  return keys.find((key) => key.accessKeyId === accessKeyId)?.status ?? "deleted";
}

describe("Rotate runbook on a user with one key created outside the tool", () => {
  it("adopts the key, keeps it active through the grace period, then Retire deactivates it", async () => {
    // Prepare
    const stack = await createStack({ existingKeys: 1, seedReposWithExistingKey: true });
    const adopted = stack.existingKeys[0]?.accessKeyId ?? "";
    let duringGrace: KeyState[] = [];
    const startedAt = Date.now() + stack.clockOffsetMs;

    // Act
    const { execution } = await stack.runRunbook(
      "Rotate",
      {},
      {
        onSleep: async ({ stepName }) => {
          if (stepName === "WaitForGracePeriod") duringGrace = await stack.keys();
        },
      },
    );

    // Assess
    expect(execution.status).toBe("Success");
    const newKey = String(execution.outputs["CheckRotateResult.NewAccessKeyId"]);
    expect(execution.outputs["CheckRotateResult.OldAccessKeyId"]).toBe(adopted);
    const rotated = execution.steps.filter((step) => step.stepName === "CheckRotate").at(-1);
    expect(rotated?.outputs.Summary).toContain(`Adopted the existing active key ${adopted}`);
    expect(statusOf(duringGrace, adopted)).toBe("Active");
    expect(statusOf(duringGrace, newKey)).toBe("Active");
    // One wait for the grace period; the write budget never made the rotation wait.
    expect(stack.sleeps.filter((sleep) => sleep.ms >= 1000).map((sleep) => sleep.stepName)).toEqual([
      "WaitForGracePeriod",
    ]);
    // The grace period's wait: until RetireAfter, the default 60 minutes after the rotation's end (on the stack's
    // clock, so however long the invocations took in real time), and never longer.
    const grace = stack.sleeps.find((sleep) => sleep.stepName === "WaitForGracePeriod");
    expect(grace?.timestamp).toBe(execution.outputs["CheckRotateResult.RetireAfter"]);
    expect(Date.parse(grace?.timestamp ?? "") - startedAt).toBeGreaterThanOrEqual(60 * 60_000);
    expect(grace?.ms).toBeLessThanOrEqual(60 * 60_000 + 1000);
    const after = await stack.keys();
    expect(statusOf(after, adopted)).toBe("Inactive");
    expect(statusOf(after, newKey)).toBe("Active");
    for (const repo of stack.repos) expect(stack.secretValues(repo).accessKeyId).toBe(newKey);
    expect(stack.github.invariantFailures).toEqual([]);
    expect(stack.r1Failures).toEqual([]);
  });

  it("deletes the retired key at the next rotation and never holds more than two keys", async () => {
    // Prepare
    const stack = await createStack({ existingKeys: 1, seedReposWithExistingKey: true });
    const adopted = stack.existingKeys[0]?.accessKeyId ?? "";
    const first = await stack.runRunbook("Rotate");
    const firstKey = String(first.execution.outputs["CheckRotateResult.NewAccessKeyId"]);

    // Act
    const second = await stack.runRunbook("Rotate");

    // Assess
    expect(second.execution.status).toBe("Success");
    const secondKey = String(second.execution.outputs["CheckRotateResult.NewAccessKeyId"]);
    const keys = await stack.keys();
    expect(statusOf(keys, adopted)).toBe("deleted");
    expect(statusOf(keys, firstKey)).toBe("Inactive");
    expect(statusOf(keys, secondKey)).toBe("Active");
    expect(stack.maxKeysSeen).toBeLessThanOrEqual(2);
    for (const repo of stack.repos) expect(stack.secretValues(repo).accessKeyId).toBe(secondKey);
    expect(stack.github.invariantFailures).toEqual([]);
    expect(stack.r1Failures).toEqual([]);
  });

  it("leaves the old key active when Retire runs before the grace period is over", async () => {
    // Prepare
    const stack = await createStack({ existingKeys: 1, seedReposWithExistingKey: true, graceMinutes: 60 });
    const adopted = stack.existingKeys[0]?.accessKeyId ?? "";
    const startedAt = new Date();

    // Act
    const { execution } = await stack.runRunbook("Rotate", {}, { sleep: "skip" });

    // Assess
    expect(execution.status).toBe("Success");
    const retireAfter = Date.parse(String(execution.outputs["CheckRotateResult.RetireAfter"]));
    expect(
      stack.sleeps.filter((sleep) => sleep.stepName === "WaitForGracePeriod").map((sleep) => sleep.timestamp),
    ).toEqual([execution.outputs["CheckRotateResult.RetireAfter"]]);
    expect(retireAfter - startedAt.getTime()).toBeGreaterThanOrEqual(60 * 60_000);
    expect(execution.outputs["CheckRetire.Summary"]).toContain("grace period");
    expect(statusOf(await stack.keys(), adopted)).toBe("Active");
  });
});

describe("Rotate runbook on a user with two keys created outside the tool", () => {
  it("fails with an explanation and changes nothing", async () => {
    // Prepare
    const stack = await createStack({ existingKeys: 2 });
    const before = await stack.keys();

    // Act
    const { execution } = await stack.runRunbook("Rotate");

    // Assess
    expect(execution.status).toBe("Failed");
    expect(execution.failureMessage).toContain("two active access keys");
    expect(execution.failureMessage).toContain("ReplaceOlderKey=true");
    for (const key of before) expect(execution.failureMessage).toContain(key.accessKeyId);
    expect(await stack.keys()).toEqual(before);
    for (const repo of stack.repos) expect(stack.secretPuts(repo)).toBe(0);
  });

  it("with ReplaceOlderKey=true deletes the older key by creation date and rotates", async () => {
    // Prepare
    const stack = await createStack({ existingKeys: 2 });
    const [older, newer] = await stack.keys();
    let duringGrace: KeyState[] = [];

    // Act
    const { execution } = await stack.runRunbook(
      "Rotate",
      { ReplaceOlderKey: true },
      {
        onSleep: async ({ stepName }) => {
          if (stepName === "WaitForGracePeriod") duringGrace = await stack.keys();
        },
      },
    );

    // Assess
    expect(execution.status).toBe("Success");
    const newKey = String(execution.outputs["CheckRotateResult.NewAccessKeyId"]);
    expect(statusOf(duringGrace, older?.accessKeyId ?? "")).toBe("deleted");
    expect(statusOf(duringGrace, newer?.accessKeyId ?? "")).toBe("Active");
    const keys = await stack.keys();
    expect(statusOf(keys, newer?.accessKeyId ?? "")).toBe("Inactive");
    expect(statusOf(keys, newKey)).toBe("Active");
    expect(execution.outputs["CheckRotateResult.OldAccessKeyId"]).toBe(newer?.accessKeyId);
    expect(stack.maxKeysSeen).toBeLessThanOrEqual(2);
    for (const repo of stack.repos) expect(stack.secretValues(repo).accessKeyId).toBe(newKey);
  });
});
