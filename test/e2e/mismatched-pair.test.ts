/**
 * A fault between a repository's two secret writes, end to end: the Rotate runbook of a full local stack (moto,
 * the GitHub emulator with its fault rules, the template's Lambda on Node 24). The secret key is written first,
 * so a failed key ID write leaves the repository with the new secret key and the old key ID — a mismatched pair
 * its workflows cannot authenticate with. The function writes the key ID again within the execution; a
 * repository still mismatched is named first, as mismatched.
 */
import { describe, expect, inject, it } from "vitest";
import { useStacks } from "../../scripts/local-stack/stack-fixture.ts";

const endpoint = inject("motoEndpoint");
const createStack = useStacks(endpoint);

const SECRET_ROUTE = "/repos/{owner}/{repo}/actions/secrets/{secret_name}";
const REPOS = ["octo-org/one", "octo-org/two", "octo-org/three"];

describe("Rotate runbook when a repository's key ID write fails after its secret key was written", () => {
  it("names the repository mismatched before the failed ones, keeps the old key active, and the next run repairs it", async () => {
    // Prepare: two's key ID PUT is refused once (its secret key PUT goes through); three refuses every PUT.
    const stack = await createStack({ repos: REPOS, existingKeys: 1, seedReposWithExistingKey: true });
    const oldKey = stack.existingKeys[0]?.accessKeyId ?? "";
    stack.github.addFault({
      method: "PUT",
      route: SECRET_ROUTE,
      owner: "octo-org",
      repo: "two",
      skip: 1,
      times: 1,
      status: 403,
      message: "Resource not accessible by personal access token",
    });
    stack.github.addFault({ method: "PUT", owner: "octo-org", repo: "three", status: 403, times: Infinity });

    // Act
    const failed = await stack.runRunbook("Rotate");
    const mismatched = stack.secretValues("octo-org/two");
    const oldKeyStatus = (await stack.keys()).find((key) => key.accessKeyId === oldKey)?.status;
    stack.github.clearFaults();
    const repaired = await stack.runRunbook("Rotate");

    // Assess
    expect(failed.execution.status).toBe("Failed");
    const message = failed.execution.failureMessage ?? "";
    expect(message).toContain("1 of them left mismatched");
    expect(message).toMatch(/octo-org\/two: mismatched — octo-org\/two holds a mismatched pair/);
    expect(message.indexOf("octo-org/two: mismatched")).toBeLessThan(
      message.indexOf("octo-org/three: failed"),
    );
    expect(mismatched.accessKeyId).toBe(oldKey);
    expect(mismatched.secretAccessKey).not.toBe(stack.existingKeys[0]?.secretAccessKey);
    expect(oldKeyStatus).toBe("Active");
    expect(repaired.execution.status).toBe("Success");
    const newKey = (await stack.keys()).find((key) => key.accessKeyId !== oldKey)?.accessKeyId ?? "";
    for (const repo of REPOS) {
      const held = stack.secretValues(repo);
      expect(held.accessKeyId, repo).toBe(newKey);
      expect(held.secretAccessKey, repo).toBe(await stack.issuedSecretOf(newKey));
    }
  });

  it("writes the key ID again within the execution when GitHub fails it for a while (502), leaving no mismatched pair", async () => {
    // Prepare: the key ID PUT of two fails four times — the first attempt and the client's three retries; the
    // function tries it once more after the other repositories.
    const stack = await createStack({ repos: REPOS, existingKeys: 1, seedReposWithExistingKey: true });
    stack.github.addFault({
      method: "PUT",
      route: SECRET_ROUTE,
      owner: "octo-org",
      repo: "two",
      skip: 1,
      times: 4,
      status: 502,
    });

    // Act
    const { execution } = await stack.runRunbook("Rotate");

    // Assess
    expect(execution.failureMessage).toBeUndefined();
    expect(execution.status).toBe("Success");
    const oldKey = stack.existingKeys[0]?.accessKeyId ?? "";
    const newKey = (await stack.keys()).find((key) => key.accessKeyId !== oldKey)?.accessKeyId ?? "";
    const held = stack.secretValues("octo-org/two");
    expect(held.accessKeyId).toBe(newKey);
    expect(held.secretAccessKey).toBe(await stack.issuedSecretOf(newKey));
    const keyIdPuts = stack.github.requests.filter(
      (entry) =>
        entry.method === "PUT" &&
        entry.repo === "octo-org/two" &&
        entry.path.toUpperCase().endsWith("/AWS_ACCESS_KEY_ID"),
    );
    expect(keyIdPuts.map((entry) => entry.status)).toEqual([502, 502, 502, 502, expect.any(Number)]);
  });
});
