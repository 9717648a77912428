import { describe, expect, inject, it } from "vitest";
import { useStacks } from "../../scripts/local-stack/stack-fixture.ts";

const endpoint = inject("motoEndpoint");
const createStack = useStacks(endpoint);

const REPOS = ["octo-org/one", "octo-org/two", "octo-org/three", "octo-org/four"];

describe("Rotate runbook when the work does not fit in one invocation", () => {
  it("invokes the function again until it is done, writing each repository once", async () => {
    // Prepare: a budget of about 4 s per invocation (the function keeps 60 s of its timeout in reserve),
    // while GitHub asks for a second between writes (two per repository), so four repositories need more
    // than one invocation.
    const stack = await createStack({ repos: REPOS, lambdaTimeoutSeconds: 64 });

    // Act
    const { execution, invocations } = await stack.runRunbook("Rotate");

    // Assess
    expect(execution.status).toBe("Success");
    const checks = execution.steps.filter((step) => step.stepName === "CheckRotate");
    expect(checks.length).toBeGreaterThan(1);
    expect(checks.map((step) => step.outputs.Next)).toEqual([...checks.slice(1).map(() => "again"), "done"]);
    expect(execution.steps.filter((step) => step.stepName === "Rotate")).toHaveLength(checks.length);
    expect(execution.outputs["CheckRotateResult.Next"]).toBe("done");
    expect(invocations.every((invocation) => invocation.outcome === "returned")).toBe(true);
    const [key] = await stack.keys();
    expect(await stack.keys()).toHaveLength(1);
    for (const repo of REPOS) {
      expect(stack.secretValues(repo).accessKeyId).toBe(key?.accessKeyId);
      expect(stack.secretPuts(repo)).toBe(2);
    }
    expect(stack.r1Failures).toEqual([]);
  });
});
