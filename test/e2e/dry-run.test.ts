import { describe, expect, inject, it } from "vitest";
import { useStacks } from "../support/stack-fixture.ts";

const endpoint = inject("motoEndpoint");
const createStack = useStacks(endpoint);

describe("Rotate runbook with DryRun=true", () => {
  it("ends Success and shows the plan for every repository", async () => {
    // Prepare
    const stack = await createStack({ existingKeys: 1 });

    // Act
    const { execution } = await stack.runRunbook("Rotate", { DryRun: true });

    // Assess
    expect(execution.status).toBe("Success");
    const summary = String(execution.outputs["Rotate.Summary"]);
    expect(summary).toContain("Dry run");
    expect(summary).toContain("Would create a new access key");
    for (const repo of stack.repos) expect(summary).toContain(`${repo}: would-write`);
    expect(execution.steps.map((step) => step.stepName)).toEqual(["Rotate", "CheckRotate"]);
  });

  it("creates no key and writes nothing to GitHub", async () => {
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
