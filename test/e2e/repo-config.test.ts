import { describe, expect, inject, it } from "vitest";
import { InvalidAutomationExecutionParametersError } from "../../scripts/local-stack/runbook-simulator.ts";
import { renderRepos, useStacks } from "../../scripts/local-stack/stack-fixture.ts";

const endpoint = inject("motoEndpoint");
const createStack = useStacks(endpoint);

const REPOS = ["octo-org/api", "octo-org/web"];

function listed(body: string | undefined): string[] {
  const document = JSON.parse(body ?? "{}") as { Repos?: { Owner: string; Name: string }[] };
  return (document.Repos ?? []).map((entry) => `${entry.Owner}/${entry.Name}`);
}

describe("Get-RepoList runbook", () => {
  it("shows every listed repository", async () => {
    // Prepare
    const stack = await createStack({ repos: REPOS });

    // Act
    const { execution } = await stack.runRunbook("Get-RepoList");

    // Assess
    expect(execution.status).toBe("Success");
    const summary = String(execution.outputs["CheckListRepos.Summary"]);
    expect(summary).toContain("2 repositories");
    for (const repo of REPOS) expect(summary).toContain(repo);
  });

  it("fails with the problem when repos.json is invalid", async () => {
    // Prepare
    const stack = await createStack({ reposJson: JSON.stringify({ Repos: [{ Owner: "octo-org" }] }) });

    // Act
    const { execution } = await stack.runRunbook("Get-RepoList");

    // Assess
    expect(execution.status).toBe("Failed");
    expect(execution.failureMessage).toContain("Repos[0]");
    expect(execution.failureMessage).toContain("Name");
  });
});

describe("Enterprise Managed Users", () => {
  it("adds and rotates a repository owned by the managed user alice_acme", async () => {
    // Prepare
    const stack = await createStack({
      repos: ["octo-org/api"],
      githubRepos: ["octo-org/api", "alice_acme/app"],
    });

    // Act
    const added = await stack.runRunbook("Add-RepoConfig", { GITHUBOWNER: "alice_acme", GITHUBREPO: "app" });
    const rotated = await stack.runRunbook("Rotate");

    // Assess
    expect(added.execution.status).toBe("Success");
    expect(listed((await stack.readConfig())?.body)).toEqual(["octo-org/api", "alice_acme/app"]);
    expect(rotated.execution.status).toBe("Success");
    const [key] = await stack.keys();
    expect(stack.secretValues("alice_acme/app").accessKeyId).toBe(key?.accessKeyId);
  });
});

describe("Add-RepoConfig runbook", () => {
  it("adds a repository, which Get-RepoList then shows", async () => {
    // Prepare
    const stack = await createStack({ repos: REPOS });

    // Act
    const { execution } = await stack.runRunbook("Add-RepoConfig", {
      GITHUBOWNER: "octo-org",
      GITHUBREPO: "docs",
    });

    // Assess
    expect(execution.status).toBe("Success");
    expect(listed((await stack.readConfig())?.body)).toEqual([...REPOS, "octo-org/docs"]);
    const list = await stack.runRunbook("Get-RepoList");
    expect(list.execution.outputs["CheckListRepos.Summary"]).toContain("octo-org/docs");
  });

  it("succeeds without touching the object when the repository is already listed", async () => {
    // Prepare
    const stack = await createStack({ repos: REPOS });
    const before = await stack.readConfig();

    // Act
    const { execution } = await stack.runRunbook("Add-RepoConfig", {
      GITHUBOWNER: "Octo-Org",
      GITHUBREPO: "API",
    });

    // Assess
    expect(execution.status).toBe("Success");
    expect(execution.outputs["CheckAddRepo.Summary"]).toContain("already listed");
    expect(await stack.readConfig()).toEqual(before);
  });

  it("creates repos.json when it does not exist yet", async () => {
    // Prepare
    const stack = await createStack({ reposJson: null, allowedOwners: ["octo-org"] });

    // Act
    const { execution } = await stack.runRunbook("Add-RepoConfig", {
      GITHUBOWNER: "octo-org",
      GITHUBREPO: "api",
    });

    // Assess
    expect(execution.status).toBe("Success");
    expect(listed((await stack.readConfig())?.body)).toEqual(["octo-org/api"]);
  });

  it("fails on an owner GitHub would not accept and leaves the object untouched", async () => {
    // Prepare
    const stack = await createStack({ repos: REPOS });
    const before = await stack.readConfig();

    // Act
    const { execution } = await stack.runRunbook("Add-RepoConfig", {
      GITHUBOWNER: "octo--org",
      GITHUBREPO: "api",
    });

    // Assess
    expect(execution.status).toBe("Failed");
    expect(execution.failureMessage).toContain("owner");
    expect(await stack.readConfig()).toEqual(before);
  });

  it("refuses to start with an owner its parameter pattern rejects, and leaves the object untouched", async () => {
    // Prepare
    const stack = await createStack({ repos: REPOS });
    const before = await stack.readConfig();

    // Act
    const started = stack.runRunbook("Add-RepoConfig", { GITHUBOWNER: "-octo", GITHUBREPO: "api" });

    // Assess
    await expect(started).rejects.toBeInstanceOf(InvalidAutomationExecutionParametersError);
    await expect(started).rejects.toThrow(/GITHUBOWNER/);
    expect(await stack.readConfig()).toEqual(before);
  });

  it("leaves an invalid repos.json exactly as it is", async () => {
    // Prepare
    const stack = await createStack({ reposJson: '{"Repos": [', allowedOwners: ["octo-org"] });
    const before = await stack.readConfig();

    // Act
    const { execution } = await stack.runRunbook("Add-RepoConfig", {
      GITHUBOWNER: "octo-org",
      GITHUBREPO: "api",
    });

    // Assess
    expect(execution.status).toBe("Failed");
    expect(execution.failureMessage).toContain("not valid JSON");
    expect(await stack.readConfig()).toEqual(before);
  });
});

describe("Delete-RepoConfig runbook", () => {
  it("removes a listed repository", async () => {
    // Prepare
    const stack = await createStack({ repos: REPOS });

    // Act
    const { execution } = await stack.runRunbook("Delete-RepoConfig", {
      GITHUBOWNER: "octo-org",
      GITHUBREPO: "WEB",
    });

    // Assess
    expect(execution.status).toBe("Success");
    expect(listed((await stack.readConfig())?.body)).toEqual(["octo-org/api"]);
  });

  it("succeeds without touching the object when the repository is not listed", async () => {
    // Prepare
    const stack = await createStack({ repos: REPOS });
    const before = await stack.readConfig();

    // Act
    const { execution } = await stack.runRunbook("Delete-RepoConfig", {
      GITHUBOWNER: "octo-org",
      GITHUBREPO: "absent",
    });

    // Assess
    expect(execution.status).toBe("Success");
    expect(execution.outputs["CheckDeleteRepo.Summary"]).toContain("not listed");
    expect(await stack.readConfig()).toEqual(before);
  });

  it("fails on an owner GitHub would not accept and leaves the object untouched", async () => {
    // Prepare
    const stack = await createStack({ repos: REPOS });
    const before = await stack.readConfig();

    // Act
    const { execution } = await stack.runRunbook("Delete-RepoConfig", {
      GITHUBOWNER: "octo--org",
      GITHUBREPO: "api",
    });

    // Assess
    expect(execution.status).toBe("Failed");
    expect(await stack.readConfig()).toEqual(before);
  });

  it("keeps the original stack's repos.json format, so the old tool could still read it", async () => {
    // Prepare
    const stack = await createStack({ repos: [...REPOS, "octo-org/docs"] });

    // Act
    await stack.runRunbook("Delete-RepoConfig", { GITHUBOWNER: "octo-org", GITHUBREPO: "docs" });

    // Assess
    expect((await stack.readConfig())?.body).toBe(renderRepos(REPOS));
  });
});
