/**
 * Rotate through the runbooks with a GitHub App instead of a machine user: the function (extracted from the
 * rendered template, on Node 24) reads the App's private key from the token secret, finds the App's installation
 * on each listed owner, and writes with installation tokens minted for the run — only the permissions and
 * repositories the list needs — minting again when GitHub refuses an expired one.
 */
import { describe, expect, inject, it } from "vitest";
import { useStacks } from "../../scripts/local-stack/stack-fixture.ts";

const endpoint = inject("motoEndpoint");
const createStack = useStacks(endpoint);

/** What a list of repositories' Actions secrets needs from the App (src/github/app-permissions.ts). */
const LIST_PERMISSIONS = {
  metadata: "read",
  secrets: "write",
  actions: "read",
  environments: "read",
  contents: "read",
};

describe("Rotate as a GitHub App", () => {
  it("ends Success with every listed repository on the new key, written with tokens minted per owner and narrowed to the list", async () => {
    // Prepare
    const stack = await createStack({
      repos: ["acme-app/api", "acme-app/web", "tools-app/cli"],
      githubRepos: ["acme-app/api", "acme-app/web", "acme-app/unlisted", "tools-app/cli"],
      githubApp: {},
    });

    // Act
    const { execution } = await stack.runRunbook("Rotate");

    // Assess
    expect(execution.failureMessage).toBeUndefined();
    expect(execution.status).toBe("Success");
    const [key] = await stack.keys();
    for (const repo of stack.repos) expect(stack.secretValues(repo).accessKeyId, repo).toBe(key?.accessKeyId);
    const minted = stack.github.apps.minted;
    const owners = [...new Set(minted.map((token) => token.account))].sort();
    expect(owners).toEqual(["acme-app", "tools-app"]);
    for (const token of minted) {
      expect(token.permissions).toEqual(LIST_PERMISSIONS);
      expect(token.repositories).toEqual(
        token.account === "acme-app" ? ["acme-app/api", "acme-app/web"] : ["tools-app/cli"],
      );
    }
    const requests = stack.github.requests;
    expect(requests.filter((request) => request.route === "/user")).toEqual([]);
    const writers = new Set(
      requests.filter((request) => request.method === "PUT").map((request) => request.login),
    );
    expect([...writers]).toEqual([`${stack.env.AKM_GITHUB_MACHINE_USER_NAME}[bot]`]);
  });

  it("mints a new token when GitHub refuses one that expired in the middle of a rotation, and finishes", async () => {
    // Prepare
    const stack = await createStack({ repos: ["expiry-app/api", "expiry-app/web"], githubApp: {} });
    let expired = false;
    stack.onSecretWritten(() => {
      // After the first write, as if the hour of every token minted so far had passed.
      if (!expired) stack.github.apps.expireTokens();
      expired = true;
    });

    // Act
    const { execution } = await stack.runRunbook("Rotate");

    // Assess
    expect(execution.status).toBe("Success");
    const [key] = await stack.keys();
    for (const repo of stack.repos) expect(stack.secretValues(repo).accessKeyId, repo).toBe(key?.accessKeyId);
    const refused = stack.github.requests.filter((request) => request.status === 401);
    expect(refused).toHaveLength(1);
    const afterRefusal = stack.github.apps.minted.filter(
      (token) => token.issuedAt >= (refused[0]?.startedAt ?? 0),
    );
    expect(afterRefusal).toHaveLength(1);
  });

  it("checks everything in a DryRun with read-only tokens, and writes nothing", async () => {
    // Prepare
    const stack = await createStack({ repos: ["dry-app/api"], githubApp: {} });

    // Act
    const { execution } = await stack.runRunbook("Rotate", { DryRun: true });

    // Assess
    expect(execution.status).toBe("Success");
    expect(stack.github.apps.minted.map((token) => token.permissions)).toEqual([
      { metadata: "read", secrets: "read", actions: "read", environments: "read", contents: "read" },
    ]);
    expect(stack.secretPuts("dry-app/api")).toBe(0);
    expect(await stack.keys()).toEqual([]);
  });

  it("fails before any key is created when the App is not installed on a listed owner, with the link that installs it", async () => {
    // Prepare
    const stack = await createStack({
      repos: ["installed-app/api", "missing-app/api"],
      githubApp: { notInstalledOn: ["missing-app"] },
    });

    // Act
    const { execution } = await stack.runRunbook("Rotate");

    // Assess
    expect(execution.status).toBe("Failed");
    const summary = String(execution.outputs["CheckRotateResult.Summary"] ?? execution.failureMessage);
    expect(summary).toContain(`is not installed on missing-app`);
    expect(summary).toContain("/installations/new");
    expect(await stack.keys()).toEqual([]);
  });
});
