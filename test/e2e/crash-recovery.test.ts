import { describe, expect, inject, it } from "vitest";
import { useStacks } from "../../scripts/local-stack/stack-fixture.ts";

const endpoint = inject("motoEndpoint");
const createStack = useStacks(endpoint);

const DAY_MS = 24 * 60 * 60_000;

/** A stack whose first Rotate died while GitHub stored the first repository's secret access key. */
async function stackAfterCrash() {
  const stack = await createStack({ existingKeys: 1, seedReposWithExistingKey: true });
  const oldKey = stack.existingKeys[0]?.accessKeyId ?? "";
  const crash = new AbortController();
  stack.onSecretWritten(() => crash.abort());
  const crashed = await stack.runRunbook("Rotate", {}, { killLambda: crash.signal });
  stack.onSecretWritten(undefined);
  const createdByDeadRun = (await stack.keys()).find((key) => key.accessKeyId !== oldKey)?.accessKeyId ?? "";
  const [firstRepo = ""] = stack.repos;
  const firstRepoKeyId = stack.secretValues(firstRepo).accessKeyId;
  return { stack, oldKey, crashed, createdByDeadRun, firstRepoKeyId };
}

describe("Rotate runbook after the function died mid-rotation", () => {
  it("refuses a new run while the dead run's lock is held, changing nothing and saying when it expires", async () => {
    // Prepare
    const { stack, oldKey, createdByDeadRun } = await stackAfterCrash();
    const keysBefore = await stack.keys();
    const putsBefore = stack.repos.map((repo) => stack.secretPuts(repo));

    // Act
    const { execution } = await stack.runRunbook("Rotate");

    // Assess
    expect(execution.status).toBe("Failed");
    expect(execution.failureMessage).toMatch(/lock is held by execution "[^"]+" until "\d{4}-\d\d-\d\dT/);
    expect(await stack.keys()).toEqual(keysBefore);
    expect(stack.repos.map((repo) => stack.secretPuts(repo))).toEqual(putsBefore);
    expect(keysBefore.map((key) => key.accessKeyId).sort()).toEqual([oldKey, createdByDeadRun].sort());
  });

  it("resumes with the key the dead run created once its lock expired, so no third key appears", async () => {
    // Prepare
    const { stack, oldKey, crashed, createdByDeadRun, firstRepoKeyId } = await stackAfterCrash();
    stack.advanceClock(DAY_MS);

    // Act
    const { execution } = await stack.runRunbook("Rotate");

    // Assess
    expect(crashed.execution.status).toBe("Failed");
    expect(crashed.invocations.map((invocation) => [invocation.stepName, invocation.outcome])).toEqual([
      ["Start", "returned"],
      ["Rotate", "killed"],
    ]);
    expect(firstRepoKeyId, "the dead run had not written the key ID yet").toBe(oldKey);
    expect(execution.failureMessage).toBeUndefined();
    expect(execution.status).toBe("Success");
    expect(execution.outputs["CheckRotateResult.NewAccessKeyId"]).toBe(createdByDeadRun);
    expect(stack.maxKeysSeen).toBeLessThanOrEqual(2);
    const keys = await stack.keys();
    expect(keys.map((key) => [key.accessKeyId, key.status])).toEqual([
      [oldKey, "Inactive"],
      [createdByDeadRun, "Active"],
    ]);
    for (const repo of stack.repos) expect(stack.secretValues(repo).accessKeyId).toBe(createdByDeadRun);
    expect(stack.github.invariantFailures).toEqual([]);
    expect(stack.r1Failures).toEqual([]);
  });
});
