import { describe, expect, inject, it } from "vitest";
import { useStacks } from "../../scripts/local-stack/stack-fixture.ts";

const endpoint = inject("motoEndpoint");
const createStack = useStacks(endpoint);

describe("Rotate runbook with DryRun=true", () => {
  it("goes through every step once and shows the plan for every repository", async () => {
    // Prepare
    const stack = await createStack({ existingKeys: 1 });

    // Act
    const { execution } = await stack.runRunbook("Rotate", { DryRun: true });

    // Assess
    expect(execution.status).toBe("Success");
    expect(execution.steps.map((step) => step.stepName)).toEqual([
      "Start",
      "CheckStart",
      "ChooseStart",
      "RotateLoop",
      "Rotate",
      "CheckRotate",
      "WaitForWriteBudget",
      "RotateResult",
      "CheckRotateResult",
      "ChooseNext",
      "WaitForGracePeriod",
      "Retire",
      "CheckRetire",
    ]);
    const plan = String(execution.steps.find((step) => step.stepName === "CheckRotate")?.outputs.Summary);
    expect(plan).toContain("Dry run");
    expect(plan).toContain("Would create a new access key");
    for (const repo of stack.repos) expect(plan).toContain(`${repo}: would-write`);
    expect(execution.outputs["CheckRotateResult.Summary"]).toContain("Dry run: nothing was changed");
    expect(execution.outputs["CheckRotateResult.Next"]).toBe("retire");
  });

  it("does not wait for the grace period, and Retire says what it would deactivate without doing it", async () => {
    // Prepare: a real rotation whose Retire ran before the grace period was over (the sleep skipped), so
    // the adopted key is still active; then the grace period passes.
    const stack = await createStack({ existingKeys: 1, seedReposWithExistingKey: true, graceMinutes: 60 });
    const adopted = stack.existingKeys[0]?.accessKeyId ?? "";
    await stack.runRunbook("Rotate", {}, { sleep: "skip" });
    stack.advanceClock(61 * 60_000);
    const before = await stack.keys();

    // Act
    const { execution } = await stack.runRunbook("Rotate", { DryRun: true });

    // Assess
    expect(execution.status).toBe("Success");
    // Timestamps are whole seconds, rounded up: "now" is at most a second ahead.
    expect(execution.sleeps.map((sleep) => sleep.stepName)).toEqual([
      "WaitForWriteBudget",
      "WaitForGracePeriod",
    ]);
    for (const sleep of execution.sleeps) expect(sleep.ms, sleep.stepName).toBeLessThan(1000);
    expect(execution.outputs["CheckRetire.Summary"]).toContain(
      `Dry run: would have deactivated the previous key ${adopted}`,
    );
    expect(before.find((key) => key.accessKeyId === adopted)?.status).toBe("Active");
    expect(await stack.keys()).toEqual(before);
  });

  it("creates no key, deactivates none and writes nothing to GitHub", async () => {
    // Prepare
    const stack = await createStack({ existingKeys: 1 });
    const before = await stack.keys();

    // Act
    await stack.runRunbook("Rotate", { DryRun: "true" });

    // Assess
    expect(await stack.keys()).toEqual(before);
    expect(stack.github.requests.filter((request) => request.method !== "GET")).toEqual([]);
    for (const repo of stack.repos) expect(stack.secretValues(repo).accessKeyId).toBeUndefined();
  });
});
