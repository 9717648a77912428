/**
 * Where the key may go, end to end (the template's Lambda on Node 24, runbooks in the simulator, moto, the GitHub
 * emulator): a repository of an owner the stack does not allow (pAllowedGitHubOwners) is refused through each
 * route into the list — an uploaded repos.json, the Add-RepoConfig runbook, a direct invocation of the function —
 * before any change, and the stack's SNS topic is alerted; a renamed, transferred or re-created repository, listed
 * or selected for an organization secret, is refused before any change.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, inject, it } from "vitest";
import { renderRepos, useStacks } from "../../scripts/local-stack/stack-fixture.ts";
import type { HandlerResult } from "../../src/handler-contract.ts";

const endpoint = inject("motoEndpoint");
const createStack = useStacks(endpoint);

const OURS = ["octo-org/api", "octo-org/web"];
const FOREIGN = "evil-corp/harvest";

function listed(body: string | undefined): string[] {
  const document = JSON.parse(body ?? "{}") as { Repos?: { Owner: string; Name: string }[] };
  return (document.Repos ?? []).map((entry) => `${entry.Owner}/${entry.Name}`);
}

describe("a repository of an owner the stack does not allow", () => {
  it("in an uploaded repos.json: Rotate fails before any key or secret changes, naming it, and alerts", async () => {
    // Prepare
    const stack = await createStack({
      existingKeys: 1,
      repos: OURS,
      githubRepos: [...OURS, FOREIGN],
      tokenRepos: "all",
      allowedOwners: ["octo-org"],
    });
    await stack.writeConfig(renderRepos([...OURS, FOREIGN]));
    const before = await stack.keys();

    // Act
    const { execution } = await stack.runRunbook("Rotate");

    // Assess
    expect(execution.status).toBe("Failed");
    expect(execution.failureMessage).toContain(`Repos[2] "${FOREIGN}" (owner "evil-corp")`);
    expect(execution.failureMessage).toContain("pAllowedGitHubOwners does not allow");
    expect(await stack.keys()).toEqual(before);
    expect(stack.github.requests.filter((r) => r.method === "PUT")).toEqual([]);
    expect(stack.secretValues(FOREIGN)).toEqual({ accessKeyId: undefined, secretAccessKey: undefined });
    expect(stack.alerts.map((a) => a.message)).toEqual([expect.stringContaining(FOREIGN)]);
  });

  it("through the Add-RepoConfig runbook: refused, the list untouched, and alerted", async () => {
    // Prepare
    const stack = await createStack({ repos: OURS, allowedOwners: ["octo-org"] });
    const before = await stack.readConfig();

    // Act
    const { execution } = await stack.runRunbook("Add-RepoConfig", {
      GITHUBOWNER: "evil-corp",
      GITHUBREPO: "harvest",
    });

    // Assess
    expect(execution.status).toBe("Failed");
    expect(execution.failureMessage).toContain(`"${FOREIGN}" (owner "evil-corp")`);
    expect(await stack.readConfig()).toEqual(before);
    expect(stack.alerts).toHaveLength(1);
    expect(stack.alerts[0]?.message).toContain(FOREIGN);
    expect(stack.alerts[0]?.subject).toContain(stack.user.userName);
  });

  it("through a direct invocation of the function with add-repo: refused, the list untouched, and alerted", async () => {
    // Prepare
    const stack = await createStack({ repos: OURS, allowedOwners: ["octo-org"] });
    const before = await stack.readConfig();

    // Act
    const invocation = await stack.invokeFunction({
      action: "add-repo",
      owner: "evil-corp",
      name: "harvest",
    });

    // Assess
    const answer = invocation.result as HandlerResult;
    expect(answer.next).toBe("failed");
    expect(answer.summary).toContain(`"${FOREIGN}" (owner "evil-corp")`);
    expect(await stack.readConfig()).toEqual(before);
    expect(stack.alerts.map((a) => a.message)).toEqual([expect.stringContaining(FOREIGN)]);
  });

  it("is accepted once its owner is added to pAllowedGitHubOwners", async () => {
    // Prepare
    const stack = await createStack({
      repos: OURS,
      githubRepos: [...OURS, FOREIGN],
      tokenRepos: "all",
      allowedOwners: ["octo-org", "evil-corp"],
    });

    // Act
    const added = await stack.runRunbook("Add-RepoConfig", {
      GITHUBOWNER: "evil-corp",
      GITHUBREPO: "harvest",
    });

    // Assess
    expect(added.execution.status).toBe("Success");
    expect(listed((await stack.readConfig())?.body)).toEqual([...OURS, FOREIGN]);
    expect(stack.alerts).toEqual([]);
  });
});

describe("a listed repository that moved", () => {
  it.each([
    ["renamed", { owner: "octo-org", name: "web-renamed" }],
    ["transferred", { owner: "octo-org-archive", name: "web" }],
  ])("(%s) makes Rotate fail before any key exists, saying where it moved", async (_, to) => {
    // Prepare
    const stack = await createStack({ existingKeys: 1, repos: OURS, tokenRepos: "all" });
    const id = stack.github.repoId("octo-org", "web");
    stack.github.moveRepo("octo-org", "web", to);
    const before = await stack.keys();

    // Act
    const { execution } = await stack.runRunbook("Rotate");

    // Assess
    expect(execution.status).toBe("Failed");
    expect(execution.failureMessage).toContain("octo-org/web was renamed or transferred");
    expect(execution.failureMessage).toContain(`Moved to repository ID ${id}: update the list`);
    expect(await stack.keys()).toEqual(before);
    expect(stack.github.requests.filter((r) => r.method === "PUT")).toEqual([]);
    expect(stack.github.secretNames(to.owner, to.name)).toEqual([]);
  });
});

describe("a listed repository deleted and re-created under the same name", () => {
  it("makes the next Rotate fail before any change, with both IDs, and alerts", async () => {
    // Prepare
    const stack = await createStack({ repos: OURS, tokenRepos: "all", graceMinutes: 0 });
    const first = await stack.runRunbook("Rotate");
    const before = stack.github.repoId("octo-org", "web");
    stack.github.deleteRepo("octo-org", "web");
    stack.github.addRepo("octo-org", "web");
    const keys = await stack.keys();
    stack.advanceClock(3_600_000);

    // Act
    const { execution } = await stack.runRunbook("Rotate");

    // Assess
    expect(first.execution.status).toBe("Success");
    expect(execution.status).toBe("Failed");
    expect(execution.failureMessage).toContain(
      `octo-org/web is a different repository now (ID ${before} → ${stack.github.repoId("octo-org", "web")})`,
    );
    expect(await stack.keys()).toEqual(keys);
    expect(stack.github.secretNames("octo-org", "web")).toEqual([]);
    expect(stack.alerts.map((a) => a.message)).toEqual([expect.stringContaining("octo-org/web")]);
  });
});

describe("the rotation summary", () => {
  it("names the GitHub API and the repositories added since the previous rotation", async () => {
    // Prepare
    const stack = await createStack({
      repos: OURS,
      githubRepos: [...OURS, "octo-org/docs"],
      tokenRepos: "all",
      graceMinutes: 0,
    });
    await stack.runRunbook("Rotate");
    await stack.runRunbook("Add-RepoConfig", { GITHUBOWNER: "octo-org", GITHUBREPO: "docs" });
    stack.advanceClock(3_600_000);

    // Act
    const { execution } = await stack.runRunbook("Rotate");

    // Assess
    expect(execution.status).toBe("Success");
    expect(String(execution.outputs["CheckRotateResult.Summary"])).toContain(
      `GitHub API: ${stack.github.url}.`,
    );
    const rotate = execution.steps.find((step) => step.stepName === "CheckRotate");
    const rotateSummary = String(rotate?.outputs.Summary ?? "");
    expect(rotateSummary).toContain(`GitHub API: ${stack.github.url}.`);
    expect(rotateSummary).toMatch(
      /Repositories added since the previous rotation \([^)]+\): octo-org\/docs \(1\)/,
    );
  });
});

describe("a selected repository of an organization secret deleted and re-created under the same name", () => {
  it("makes the next Rotate fail before any change, with both IDs, and the new repository does not see the secret", async () => {
    // Prepare: the organization secret is shared with web only; someone deletes web and creates another web.
    const org = `org-${randomUUID().slice(0, 8)}`;
    const stack = await createStack({
      repos: [`${org}/app`, `${org}/web`],
      reposJson: JSON.stringify({
        Version: 2,
        Repos: [{ Type: "organization", Owner: org, Visibility: "selected", Repositories: ["web"] }],
      }),
      graceMinutes: 0,
    });
    stack.github.addOrg(org);
    const first = await stack.runRunbook("Rotate");
    const before = stack.github.repoId(org, "web");
    stack.github.deleteRepo(org, "web");
    stack.github.addRepo(org, "web");
    const keys = await stack.keys();
    const puts = stack.github.requests.filter((r) => r.method === "PUT").length;
    stack.advanceClock(3_600_000);

    // Act
    const { execution } = await stack.runRunbook("Rotate");

    // Assess
    expect(first.execution.status).toBe("Success");
    expect(execution.status).toBe("Failed");
    const now = stack.github.repoId(org, "web");
    expect(execution.failureMessage).toContain(
      `organization ${org} (Actions): its selected repository ${org}/web is a different repository now (ID ${before} → ${now})`,
    );
    expect(await stack.keys()).toEqual(keys);
    expect(stack.github.requests.filter((r) => r.method === "PUT")).toHaveLength(puts);
    expect(stack.github.effectiveSecret({ owner: org, repo: "web" }, "AWS_ACCESS_KEY_ID")).toBeUndefined();
    expect(stack.alerts.map((a) => a.message)).toEqual([expect.stringContaining(`${org}/web`)]);
  });
});
