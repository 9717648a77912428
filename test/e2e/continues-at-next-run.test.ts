import { describe, expect, inject, it } from "vitest";
import { useStacks } from "../../scripts/local-stack/stack-fixture.ts";
import { runOutOfStepTimeAfter } from "../support/step-time.ts";

const endpoint = inject("motoEndpoint");
const createStack = useStacks(endpoint);

const REPOS = ["octo-org/one", "octo-org/two", "octo-org/three", "octo-org/four"];
/** Repositories the first execution writes before its step's time runs out. */
const WRITTEN_FIRST = 2;

/**
 * A rotation longer than the Rotate loop's iterations. In AWS that takes a very long list at GitHub's pace (100
 * invocations); here the simulator stops the loop after one iteration instead of 100, and the step's time runs out
 * right after the second repository is written (the stack's clock, which the running function reads, moves past
 * the invocation's deadline then). The checks before the key (preflight, the shadowing check) all fit in that
 * invocation: nothing here depends on how fast the machine is. The hook stays for this execution only.
 */
async function stackWithLongRotation() {
  const stack = await createStack({ repos: REPOS, existingKeys: 1, seedReposWithExistingKey: true });
  const oldKey = stack.existingKeys[0]?.accessKeyId ?? "";
  runOutOfStepTimeAfter(stack, (keyIdWrite) => keyIdWrite === WRITTEN_FIRST);
  const first = await stack.runRunbook("Rotate", {}, { loopMaxIterations: 1 });
  stack.onSecretWritten(undefined);
  return { stack, oldKey, first };
}

describe("Rotate runbook when the loop's iterations run out before the rotation is done", () => {
  it("ends Success, unfinished, with outputs saying it continues at the next run; both keys stay active", async () => {
    // Act
    const { stack, oldKey, first } = await stackWithLongRotation();

    // Assess
    const { execution } = first;
    expect(execution.status).toBe("Success");
    expect(execution.failureMessage).toBeUndefined();
    expect(
      execution.steps.filter((step) => step.stepName === "CheckRotate").map((s) => s.outputs.Next),
    ).toEqual(["again"]);
    expect(execution.steps.map((step) => step.stepName).slice(-3)).toEqual([
      "CheckRotateResult",
      "ChooseNext",
      "ContinuesAtNextRun",
    ]);
    expect(execution.outputs["CheckRotateResult.Next"]).toBe("continues");
    expect(execution.outputs["CheckRotateResult.Summary"]).toMatch(/continues at the next run/);
    const newKey = String(execution.outputs["CheckRotateResult.NewAccessKeyId"]);
    expect(execution.outputs["CheckRotateResult.OldAccessKeyId"]).toBe(oldKey);
    const keys = await stack.keys();
    expect(keys.map((key) => [key.accessKeyId, key.status]).sort()).toEqual(
      [
        [oldKey, "Active"],
        [newKey, "Active"],
      ].sort(),
    );
    const holding = REPOS.filter((repo) => stack.secretValues(repo).accessKeyId === newKey);
    expect(holding).toHaveLength(WRITTEN_FIRST);
    expect(execution.outputs["CheckRotateResult.Progress"]).toBe(
      `${WRITTEN_FIRST} of ${REPOS.length} repositories done, ${REPOS.length - WRITTEN_FIRST} remaining`,
    );
    expect(stack.r1Failures).toEqual([]);
  });

  it("resumes at the next execution with the same new key, writes only what is left, and retires the old key", async () => {
    // Prepare
    const { stack, oldKey, first } = await stackWithLongRotation();
    const newKey = String(first.execution.outputs["CheckRotateResult.NewAccessKeyId"]);
    const putsBefore = Object.fromEntries(REPOS.map((repo) => [repo, stack.secretPuts(repo)]));

    // Act
    const { execution } = await stack.runRunbook("Rotate");

    // Assess
    expect(execution.status).toBe("Success");
    expect(execution.outputs["CheckRotateResult.Next"]).toBe("retire");
    expect(execution.outputs["CheckRotateResult.NewAccessKeyId"]).toBe(newKey);
    expect(execution.steps.map((step) => step.stepName)).toContain("CheckRetire");
    const keys = await stack.keys();
    expect(keys.map((key) => [key.accessKeyId, key.status]).sort()).toEqual(
      [
        [oldKey, "Inactive"],
        [newKey, "Active"],
      ].sort(),
    );
    for (const repo of REPOS) {
      expect(stack.secretValues(repo).accessKeyId, repo).toBe(newKey);
      // Two writes (key ID and secret) per repository over both executions: none written twice.
      expect(stack.secretPuts(repo), repo).toBe(2);
    }
    expect(Object.values(putsBefore).sort()).toEqual([0, 0, 2, 2]);
    expect(stack.maxKeysSeen).toBeLessThanOrEqual(2);
    expect(stack.r1Failures).toEqual([]);
  });
});
