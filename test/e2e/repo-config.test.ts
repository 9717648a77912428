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

describe("every kind of entry through Add-RepoConfig, Get-RepoList and Delete-RepoConfig", () => {
  /** The entries of repos.json as stored, and its Version (undefined: the original format). */
  async function stored(stack: Awaited<ReturnType<typeof createStack>>) {
    const document = JSON.parse((await stack.readConfig())?.body ?? "{}") as {
      Version?: number;
      Repos?: Record<string, unknown>[];
    };
    return { version: document.Version, entries: document.Repos ?? [] };
  }

  it("adds each kind with the runbook's parameters, shows it, and removes it, back to the original format", async () => {
    // Prepare
    const stack = await createStack({ repos: ["octo-org/api"] });
    const additions: Record<string, string>[] = [
      { GITHUBOWNER: "octo-org", GITHUBREPO: "api", TargetType: "environment", Environment: "production" },
      { GITHUBOWNER: "octo-org", GITHUBREPO: "api", Secrets: "dependabot" },
      { GITHUBOWNER: "octo-org", GITHUBREPO: "api", Secrets: "codespaces" },
      {
        GITHUBOWNER: "octo-org",
        TargetType: "organization",
        Visibility: "selected",
        Repositories: "api,web",
      },
      { GITHUBOWNER: "octo-org", TargetType: "organization", Secrets: "dependabot", Visibility: "private" },
      { GITHUBOWNER: "octo-org", Topic: "deploys-to-aws" },
      { GITHUBOWNER: "octo-org", Property: "team", PropertyValue: "platform" },
      {
        GITHUBOWNER: "octo-org",
        GITHUBREPO: "web",
        SecretNameKeyId: "CI_AWS_KEY_ID",
        SecretNameSecretKey: "CI_AWS_SECRET",
        KeyIdAs: "variable",
      },
      {
        GITHUBOWNER: "octo-org",
        GITHUBREPO: "web",
        TargetType: "environment",
        Environment: "legacy",
        Unmanaged: "true",
      },
    ];

    // Act
    const added = [];
    for (const parameters of additions)
      added.push((await stack.runRunbook("Add-RepoConfig", parameters)).execution);
    const list = await stack.runRunbook("Get-RepoList");
    const afterAdding = await stored(stack);
    const removals: Record<string, string>[] = [
      { GITHUBOWNER: "octo-org", GITHUBREPO: "API", TargetType: "environment", Environment: "PRODUCTION" },
      { GITHUBOWNER: "octo-org", GITHUBREPO: "api", Secrets: "dependabot" },
      { GITHUBOWNER: "octo-org", GITHUBREPO: "api", Secrets: "codespaces" },
      { GITHUBOWNER: "octo-org", TargetType: "organization" },
      { GITHUBOWNER: "octo-org", TargetType: "organization", Secrets: "dependabot" },
      { GITHUBOWNER: "octo-org", Topic: "deploys-to-aws" },
      { GITHUBOWNER: "octo-org", Property: "team", PropertyValue: "platform" },
      { GITHUBOWNER: "octo-org", GITHUBREPO: "web" },
      { GITHUBOWNER: "octo-org", GITHUBREPO: "web", TargetType: "environment", Environment: "legacy" },
    ];
    const removed = [];
    for (const parameters of removals)
      removed.push((await stack.runRunbook("Delete-RepoConfig", parameters)).execution);

    // Assess
    expect(added.map((e) => e.status)).toEqual(additions.map(() => "Success"));
    expect(afterAdding.version).toBe(2);
    expect(afterAdding.entries).toEqual([
      { Name: "api", Owner: "octo-org" },
      { Type: "environment", Name: "api", Owner: "octo-org", Environment: "production" },
      { Name: "api", Owner: "octo-org", Secrets: "dependabot" },
      { Name: "api", Owner: "octo-org", Secrets: "codespaces" },
      { Type: "organization", Owner: "octo-org", Visibility: "selected", Repositories: ["api", "web"] },
      { Type: "organization", Owner: "octo-org", Secrets: "dependabot", Visibility: "private" },
      { Owner: "octo-org", Topic: "deploys-to-aws" },
      { Owner: "octo-org", Property: "team", Value: "platform" },
      {
        Name: "web",
        Owner: "octo-org",
        SecretNameKeyId: "CI_AWS_KEY_ID",
        SecretNameSecretKey: "CI_AWS_SECRET",
        KeyIdAs: "variable",
      },
      { Type: "environment", Name: "web", Owner: "octo-org", Environment: "legacy", Unmanaged: true },
    ]);
    const summary = String(list.execution.outputs["CheckListRepos.Summary"]);
    expect(summary).toContain("10 entries listed");
    for (const line of [
      "- octo-org/api (environment production): listed",
      "- octo-org/api (Dependabot): listed",
      "- octo-org/api (Codespaces): listed",
      "- organization octo-org (Actions): listed — visibility selected: api, web",
      "- organization octo-org (Dependabot): listed — visibility private",
      "- repositories of octo-org with topic deploys-to-aws: listed — selected at each run",
      "- repositories of octo-org whose property team is platform: listed — selected at each run",
      "- octo-org/web: listed — secret names CI_AWS_KEY_ID, CI_AWS_SECRET; key ID as an Actions variable",
      "- octo-org/web (environment legacy): listed — Unmanaged: never written",
    ]) {
      expect(summary).toContain(line);
    }
    expect(removed.map((e) => e.status)).toEqual(removals.map(() => "Success"));
    expect(removed.map((e) => String(e.outputs["CheckDeleteRepo.Summary"]))).not.toContainEqual(
      expect.stringContaining("not listed"),
    );
    expect((await stack.readConfig())?.body).toBe(renderRepos(["octo-org/api"]));
  });

  it("updates an organization secret's visibility in place when it is added again with other settings", async () => {
    // Prepare
    const stack = await createStack({ repos: ["octo-org/api"] });
    await stack.runRunbook("Add-RepoConfig", {
      GITHUBOWNER: "octo-org",
      TargetType: "organization",
      Visibility: "all",
    });

    // Act
    const { execution } = await stack.runRunbook("Add-RepoConfig", {
      GITHUBOWNER: "octo-org",
      TargetType: "organization",
      Visibility: "selected",
      Repositories: "api",
    });

    // Assess
    expect(execution.status).toBe("Success");
    expect(execution.outputs["CheckAddRepo.Summary"]).toContain("Updated organization octo-org (Actions)");
    expect((await stored(stack)).entries).toEqual([
      { Name: "api", Owner: "octo-org" },
      { Type: "organization", Owner: "octo-org", Visibility: "selected", Repositories: ["api"] },
    ]);
  });

  it("fails on parameters that do not go together, naming them, and leaves the object untouched", async () => {
    // Prepare
    const stack = await createStack({ repos: ["octo-org/api"] });
    const before = await stack.readConfig();

    // Act
    const noVisibility = await stack.runRunbook("Add-RepoConfig", {
      GITHUBOWNER: "octo-org",
      TargetType: "organization",
    });
    const variableForDependabot = await stack.runRunbook("Add-RepoConfig", {
      GITHUBOWNER: "octo-org",
      GITHUBREPO: "api",
      Secrets: "dependabot",
      KeyIdAs: "variable",
    });

    // Assess
    expect(noVisibility.execution.status).toBe("Failed");
    expect(noVisibility.execution.failureMessage).toContain("missing required parameter Visibility");
    expect(variableForDependabot.execution.status).toBe("Failed");
    expect(variableForDependabot.execution.failureMessage).toContain(
      'KeyIdAs "variable" needs Secrets "actions": Dependabot has no configuration variables',
    );
    expect(await stack.readConfig()).toEqual(before);
  });

  it("refuses to start with a topic its parameter pattern rejects, and leaves the object untouched", async () => {
    // Prepare
    const stack = await createStack({ repos: ["octo-org/api"] });
    const before = await stack.readConfig();

    // Act
    const started = stack.runRunbook("Add-RepoConfig", { GITHUBOWNER: "octo-org", Topic: "Deploys-To-AWS" });

    // Assess
    await expect(started).rejects.toBeInstanceOf(InvalidAutomationExecutionParametersError);
    await expect(started).rejects.toThrow(/Topic/);
    expect(await stack.readConfig()).toEqual(before);
  });

  it("refuses an organization secret of an owner the stack does not allow, and alerts", async () => {
    // Prepare
    const stack = await createStack({ repos: ["octo-org/api"] });
    const before = await stack.readConfig();

    // Act
    const { execution } = await stack.runRunbook("Add-RepoConfig", {
      GITHUBOWNER: "evil-corp",
      TargetType: "organization",
      Visibility: "all",
    });

    // Assess
    expect(execution.status).toBe("Failed");
    expect(execution.failureMessage).toContain(
      'GITHUBOWNER "organization evil-corp (Actions)" (owner "evil-corp")',
    );
    expect(stack.alerts.map((a) => a.message)).toEqual([
      expect.stringContaining("organization evil-corp (Actions)"),
    ]);
    expect(await stack.readConfig()).toEqual(before);
  });
});
