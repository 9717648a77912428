import { describe, expect, inject, it } from "vitest";
import { useStacks } from "../../scripts/local-stack/stack-fixture.ts";
import { runOutOfStepTimeAfter } from "../support/step-time.ts";

const endpoint = inject("motoEndpoint");
const createStack = useStacks(endpoint);

const REPOS = ["octo-org/one", "octo-org/two", "octo-org/three", "octo-org/four"];

describe("Rotate runbook when the work does not fit in one invocation", () => {
  it("invokes the function again until it is done, writing each repository once", async () => {
    // Prepare: each repository's writes use up the rest of the step's time (the stack's clock, which the running
    // function reads, moves past the invocation's deadline as the repository's key ID is written), so every
    // invocation writes exactly one repository, whatever the machine's speed.
    const stack = await createStack({ repos: REPOS });
    runOutOfStepTimeAfter(stack, () => true);

    // Act
    const { execution, invocations } = await stack.runRunbook("Rotate");

    // Assess
    expect(execution.status).toBe("Success");
    const checks = execution.steps.filter((step) => step.stepName === "CheckRotate");
    expect(checks.map((step) => step.outputs.Next)).toEqual(["again", "again", "again", "done"]);
    expect(checks.map((step) => step.outputs.Progress)).toEqual([
      expect.stringMatching(/^1 of 4 repositories done, 3 remaining; estimated done at \S+Z$/),
      expect.stringMatching(/^2 of 4 repositories done, 2 remaining; estimated done at \S+Z$/),
      expect.stringMatching(/^3 of 4 repositories done, 1 remaining; estimated done at \S+Z$/),
      "4 of 4 repositories done",
    ]);
    expect(execution.steps.filter((step) => step.stepName === "Rotate")).toHaveLength(4);
    // The step's time ran out: nothing to wait for before the next invocation.
    expect(
      execution.sleeps.filter((sleep) => sleep.stepName === "WaitForWriteBudget" && sleep.ms >= 1000),
    ).toEqual([]);
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
