import { describe, expect, inject, it } from "vitest";
import { useStacks } from "../../scripts/local-stack/stack-fixture.ts";

const endpoint = inject("motoEndpoint");
const createStack = useStacks(endpoint);

const REPOS = ["octo-org/api", "octo-org/broken", "octo-org/web"];

describe("Rotate runbook when GitHub refuses one repository's secrets", () => {
  it("fails naming that repository and keeps the old key active", async () => {
    // Prepare
    const stack = await createStack({
      repos: REPOS,
      existingKeys: 1,
      seedReposWithExistingKey: true,
      graceMinutes: 0,
    });
    const oldKey = stack.existingKeys[0]?.accessKeyId ?? "";
    stack.github.addFault({ method: "PUT", owner: "octo-org", repo: "broken", status: 403, times: Infinity });

    // Act
    const { execution } = await stack.runRunbook("Rotate");

    // Assess
    expect(execution.status).toBe("Failed");
    expect(execution.failureMessage).toContain("octo-org/broken: failed");
    expect(execution.failureMessage).toContain(`old key ${oldKey} stays active`);
    const keys = await stack.keys();
    expect(keys.find((key) => key.accessKeyId === oldKey)?.status).toBe("Active");
    expect(stack.secretValues("octo-org/broken").accessKeyId).toBe(oldKey);
    expect(execution.steps.map((step) => step.stepName)).not.toContain("Retire");
    expect(stack.github.invariantFailures).toEqual([]);
    expect(stack.r1Failures).toEqual([]);
  });

  it("completes on the next run with the same new key, rewriting only the repository that failed", async () => {
    // Prepare
    const stack = await createStack({
      repos: REPOS,
      existingKeys: 1,
      seedReposWithExistingKey: true,
      graceMinutes: 0,
    });
    const oldKey = stack.existingKeys[0]?.accessKeyId ?? "";
    stack.github.addFault({ method: "PUT", owner: "octo-org", repo: "broken", status: 403, times: Infinity });
    const failed = await stack.runRunbook("Rotate");
    const pendingKey = (await stack.keys()).find((key) => key.accessKeyId !== oldKey)?.accessKeyId;
    const putsAfterFailure = Object.fromEntries(REPOS.map((repo) => [repo, stack.secretPuts(repo)]));
    stack.github.clearFaults();

    // Act
    const { execution } = await stack.runRunbook("Rotate");

    // Assess
    expect(failed.execution.status).toBe("Failed");
    expect(execution.status).toBe("Success");
    expect(execution.outputs["CheckRotateResult.NewAccessKeyId"]).toBe(pendingKey);
    const keys = await stack.keys();
    expect(keys.map((key) => key.accessKeyId).sort()).toEqual([oldKey, pendingKey].sort());
    expect(keys.find((key) => key.accessKeyId === oldKey)?.status).toBe("Inactive");
    expect(stack.maxKeysSeen).toBeLessThanOrEqual(2);
    expect(stack.secretPuts("octo-org/api")).toBe(putsAfterFailure["octo-org/api"]);
    expect(stack.secretPuts("octo-org/web")).toBe(putsAfterFailure["octo-org/web"]);
    expect(stack.secretPuts("octo-org/broken")).toBe((putsAfterFailure["octo-org/broken"] ?? 0) + 2);
    for (const repo of REPOS) expect(stack.secretValues(repo).accessKeyId).toBe(pendingKey);
    expect(stack.github.invariantFailures).toEqual([]);
    expect(stack.r1Failures).toEqual([]);
  });

  it("rides out one server error from GitHub and succeeds in the same run", async () => {
    // Prepare
    const stack = await createStack({ repos: ["octo-org/api"] });
    stack.github.addFault({ method: "PUT", owner: "octo-org", repo: "api", status: 502, times: 1 });

    // Act
    const { execution } = await stack.runRunbook("Rotate");

    // Assess
    expect(execution.status).toBe("Success");
    const [key] = await stack.keys();
    expect(stack.secretValues("octo-org/api").accessKeyId).toBe(key?.accessKeyId);
    expect(stack.secretPuts("octo-org/api")).toBe(3);
  });
});
