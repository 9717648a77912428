import { describe, expect, it } from "vitest";
import type { ListEntry } from "../../src/config/list-entry.ts";
import { OwnerAllowList } from "../../src/config/owner-allow-list.ts";
import { MAX_REPOS, parseReposConfig } from "../../src/config/repos-config.ts";
import type { RepoRef } from "../../src/domain/repo.ts";
import { repositoryTarget, type Target } from "../../src/domain/target.ts";
import { renderAnswer } from "../../src/render-answer.ts";
import { addRepo, deleteRepo, listRepos } from "../../src/repos/manage-repos.ts";
import { MemoryConfigStore } from "../support/fakes.ts";

/** pAllowedGitHubOwners of these tests. */
const ALLOWED = OwnerAllowList.of("acme", "a-rather-long-organization-name");

describe("repository list runbooks", () => {
  it("lists the repositories in repos.json", async () => {
    const store = new MemoryConfigStore([
      { owner: "acme", name: "api" },
      { owner: "acme", name: "web" },
    ]);

    const result = await answer(listRepos, store, ALLOWED);

    expect(result.status).toBe("Succeeded");
    expect(result.repos.map((r) => r.repo)).toEqual(["acme/api", "acme/web"]);
  });

  it("adds a repository and keeps the original format", async () => {
    const store = new MemoryConfigStore([{ owner: "acme", name: "api" }]);

    const result = await answer(addRepo, store, repo({ owner: "acme", name: "web" }), ALLOWED);

    expect(result.status).toBe("Succeeded");
    expect(JSON.parse(store.text ?? "")).toEqual({
      Repos: [
        { Name: "api", Owner: "acme" },
        { Name: "web", Owner: "acme" },
      ],
    });
  });

  it("treats adding a repository that is already listed (in any letter case) as a no-op success", async () => {
    const store = new MemoryConfigStore([{ owner: "acme", name: "api" }]);

    const result = await answer(addRepo, store, repo({ owner: "ACME", name: "Api" }), ALLOWED);

    expect(result.status).toBe("Succeeded");
    expect(result.summary).toContain("already listed");
    expect(store.writes).toBe(0);
  });

  it("creates repos.json when adding to a list that does not exist yet", async () => {
    const store = new MemoryConfigStore();

    const result = await answer(addRepo, store, repo({ owner: "acme", name: "api" }), ALLOWED);

    expect(result.status).toBe("Succeeded");
    expect(store.writes).toBe(1);
  });

  it("removes a repository, and treats removing an absent one as a no-op success", async () => {
    const store = new MemoryConfigStore([
      { owner: "acme", name: "api" },
      { owner: "acme", name: "web" },
    ]);

    const removed = await answer(deleteRepo, store, repo({ owner: "acme", name: "API" }));
    const absent = await answer(deleteRepo, store, repo({ owner: "acme", name: "nothing" }));

    expect(removed.status).toBe("Succeeded");
    expect(absent.status).toBe("Succeeded");
    expect(absent.summary).toContain("not listed");
    expect(store.writes).toBe(1);
  });

  it("leaves an invalid repos.json untouched and fails saying why", async () => {
    const store = new MemoryConfigStore();
    store.text = '{"Repos": [oops]}';

    const added = await answer(addRepo, store, repo({ owner: "acme", name: "api" }), ALLOWED);

    expect(added.status).toBe("Failed");
    expect(added.summary).toContain("not valid JSON");
    expect(store.text).toBe('{"Repos": [oops]}');
  });

  it("refuses to remove the last repository, which would make every rotation fail", async () => {
    const store = new MemoryConfigStore([{ owner: "acme", name: "api" }]);

    const result = await answer(deleteRepo, store, repo({ owner: "acme", name: "api" }));

    expect(result.status).toBe("Failed");
    expect(store.writes).toBe(0);
  });
});

describe("repositories of owners the stack does not allow (pAllowedGitHubOwners)", () => {
  it("refuses to add one, leaves the list untouched, and asks for an alert naming it", async () => {
    // Prepare
    const store = new MemoryConfigStore([{ owner: "acme", name: "api" }]);
    const before = store.text;

    // Act
    const outcome = await addRepo(store, repo({ owner: "evil-corp", name: "harvest" }), ALLOWED);

    // Assess
    const result = renderAnswer(outcome, new Date("2026-01-01T00:00:00Z"));
    expect(result.status).toBe("Failed");
    expect(result.summary).toContain('"evil-corp/harvest" (owner "evil-corp")');
    expect(result.summary).toContain("pAllowedGitHubOwners does not allow");
    expect(result.summary).toContain("acme, a-rather-long-organization-name");
    expect(result.summary).toContain("nothing was changed");
    expect(store.text).toBe(before);
    expect(store.writes).toBe(0);
    expect(outcome.alerts).toHaveLength(1);
    expect(outcome.alerts[0]).toContain("evil-corp/harvest");
  });

  it("compares owners ignoring letter case, as GitHub does", async () => {
    // Prepare
    const store = new MemoryConfigStore([{ owner: "acme", name: "api" }]);

    // Act
    const result = await answer(addRepo, store, repo({ owner: "ACME", name: "web" }), ALLOWED);

    // Assess
    expect(result.status).toBe("Succeeded");
    expect(store.writes).toBe(1);
  });

  it("shows one that is already listed as failed in Get-RepoList, which then fails naming it", async () => {
    // Prepare
    const store = new MemoryConfigStore([
      { owner: "acme", name: "api" },
      { owner: "evil-corp", name: "harvest" },
    ]);

    // Act
    const result = await answer(listRepos, store, ALLOWED);

    // Assess
    expect(result.status).toBe("Failed");
    expect(result.summary).toContain('Repos[1] "evil-corp/harvest"');
    expect(result.repos).toEqual([
      { repo: "acme/api", result: "listed", detail: "" },
      expect.objectContaining({ repo: "evil-corp/harvest", result: "failed" }),
    ]);
  });

  it("lets Delete-RepoConfig remove one that is already listed", async () => {
    // Prepare
    const store = new MemoryConfigStore([
      { owner: "acme", name: "api" },
      { owner: "evil-corp", name: "harvest" },
    ]);

    // Act
    const result = await answer(deleteRepo, store, repo({ owner: "evil-corp", name: "harvest" }));

    // Assess
    expect(result.status).toBe("Succeeded");
    expect(JSON.parse(store.text ?? "")).toEqual({ Repos: [{ Name: "api", Owner: "acme" }] });
  });
});

describe("the size of the repository list", () => {
  const list = (count: number) =>
    Array.from({ length: count }, (_, i) => ({
      owner: "a-rather-long-organization-name",
      name: `service-${i}`,
    }));

  it("adds the 10,000th repository: one stack rotates that many", async () => {
    const store = new MemoryConfigStore(list(MAX_REPOS - 1));

    const result = await answer(addRepo, store, repo({ owner: "acme", name: "one-more" }), ALLOWED);

    expect(result.status).toBe("Succeeded");
    expect(store.writes).toBe(1);
    expect(parseReposConfig(store.text ?? "", store.location).targets).toHaveLength(MAX_REPOS);
  });

  it("refuses a 10,001st repository, saying to split the list over stacks, and changes nothing", async () => {
    const store = new MemoryConfigStore(list(MAX_REPOS));

    const result = await answer(addRepo, store, repo({ owner: "acme", name: "one-more" }), ALLOWED);

    expect(result.status).toBe("Failed");
    expect(result.summary).toContain(
      "adding acme/one-more would list 10001 repositories, more than the 10000 one stack rotates",
    );
    expect(result.summary).toContain("Split the repositories over several stacks");
    expect(store.writes).toBe(0);
  });
});

describe("every kind of entry in the list runbooks", () => {
  const environment = place({ kind: "environment", owner: "acme", name: "api", environment: "production" });
  const orgSecret = (visibility: "all" | "selected", repos: string[] = []) =>
    place({ kind: "organization", owner: "acme", store: "actions", visibility, selectedRepositories: repos });

  it("adds an environment, writing version 2 and keeping the repositories' entries as they were", async () => {
    // Prepare
    const store = new MemoryConfigStore([{ owner: "acme", name: "api" }]);

    // Act
    const result = await answer(addRepo, store, environment, ALLOWED);

    // Assess
    expect(result.status).toBe("Succeeded");
    expect(result.summary).toContain(
      "Added acme/api (environment production) to s3://test-bucket/repos.json (2 entries). The next rotation writes the key to it.",
    );
    expect(JSON.parse(store.text ?? "")).toEqual({
      Version: 2,
      Repos: [
        { Name: "api", Owner: "acme" },
        { Type: "environment", Name: "api", Owner: "acme", Environment: "production" },
      ],
    });
  });

  it("adds an organization secret for selected repositories, which Get-RepoList shows with its visibility", async () => {
    // Prepare
    const store = new MemoryConfigStore([{ owner: "acme", name: "api" }]);

    // Act
    const added = await answer(addRepo, store, orgSecret("selected", ["api", "web"]), ALLOWED);
    const listed = await answer(listRepos, store, ALLOWED);

    // Assess
    expect(added.status).toBe("Succeeded");
    expect(added.summary).toContain("Added organization acme (Actions) (visibility selected: api, web)");
    expect(listed.summary).toContain("2 entries listed in s3://test-bucket/repos.json:");
    expect(listed.repos).toEqual([
      { repo: "acme/api", result: "listed", detail: "" },
      { repo: "organization acme (Actions)", result: "listed", detail: "visibility selected: api, web" },
    ]);
  });

  it("shows what each entry says in Get-RepoList: names, variables, selections and Unmanaged places", async () => {
    // Prepare
    const store = new MemoryConfigStore();
    store.text = JSON.stringify({
      Version: 2,
      Repos: [
        {
          Owner: "acme",
          Name: "api",
          SecretNameKeyId: "CI_ID",
          SecretNameSecretKey: "CI_KEY",
          KeyIdAs: "variable",
        },
        { Owner: "acme", Topic: "deploys-to-aws", Secrets: "dependabot" },
        { Type: "environment", Owner: "acme", Name: "api", Environment: "legacy", Unmanaged: true },
      ],
    });

    // Act
    const result = await answer(listRepos, store, ALLOWED);

    // Assess
    expect(result.status).toBe("Succeeded");
    expect(result.repos).toEqual([
      {
        repo: "acme/api",
        result: "listed",
        detail: "secret names CI_ID, CI_KEY; key ID as an Actions variable",
      },
      {
        repo: "repositories of acme with topic deploys-to-aws (Dependabot)",
        result: "listed",
        detail: "selected at each run",
      },
      {
        repo: "acme/api (environment legacy)",
        result: "listed",
        detail: "Unmanaged: never written, its copy holds another key on purpose",
      },
    ]);
  });

  it("updates an entry listed with other settings in place, and adding it again changes nothing", async () => {
    // Prepare
    const store = new MemoryConfigStore([{ owner: "acme", name: "api" }]);
    await addRepo(store, orgSecret("all"), ALLOWED);

    // Act
    const updated = await answer(addRepo, store, orgSecret("selected", ["api"]), ALLOWED);
    const again = await answer(
      addRepo,
      store,
      place({
        kind: "organization",
        owner: "ACME",
        store: "actions",
        visibility: "selected",
        selectedRepositories: ["api"],
      }),
      ALLOWED,
    );

    // Assess
    expect(updated.summary).toContain(
      "Updated organization acme (Actions) in s3://test-bucket/repos.json (2 entries): it now reads visibility selected: api.",
    );
    expect(again.summary).toContain("is already listed");
    expect(store.writes).toBe(2);
    expect(JSON.parse(store.text ?? "").Repos[1]).toEqual({
      Type: "organization",
      Owner: "acme",
      Visibility: "selected",
      Repositories: ["api"],
    });
  });

  it("marks a listed place Unmanaged by adding it with Unmanaged, and the rotation leaves it alone", async () => {
    // Prepare
    const store = new MemoryConfigStore([
      { owner: "acme", name: "api" },
      { owner: "acme", name: "legacy" },
    ]);

    // Act
    const result = await answer(
      addRepo,
      store,
      place(repositoryTarget({ owner: "acme", name: "legacy" }), true),
      ALLOWED,
    );

    // Assess
    expect(result.summary).toContain("Rotations leave it alone.");
    expect(parseReposConfig(store.text ?? "", store.location).unmanaged).toEqual([
      repositoryTarget({ owner: "acme", name: "legacy" }),
    ]);
  });

  it("removes an organization secret named by its owner and store only, whatever its visibility", async () => {
    // Prepare
    const store = new MemoryConfigStore([{ owner: "acme", name: "api" }]);
    await addRepo(store, orgSecret("selected", ["api"]), ALLOWED);

    // Act
    const result = await answer(deleteRepo, store, orgSecret("all"));

    // Assess
    expect(result.status).toBe("Succeeded");
    expect(result.summary).toContain(
      "Removed organization acme (Actions) from s3://test-bucket/repos.json (1 repository).",
    );
    expect(JSON.parse(store.text ?? "")).toEqual({ Repos: [{ Name: "api", Owner: "acme" }] });
  });

  it("removes an environment named in another letter case, and a selection", async () => {
    // Prepare
    const store = new MemoryConfigStore();
    store.text = JSON.stringify({
      Repos: [
        { Owner: "acme", Name: "api" },
        { Type: "environment", Owner: "acme", Name: "api", Environment: "Production" },
        { Owner: "acme", Property: "team", Value: "platform" },
      ],
    });

    // Act
    const env = await answer(deleteRepo, store, environment);
    const selection = await answer(deleteRepo, store, {
      kind: "selection",
      selection: { owner: "acme", by: { property: "team", value: "platform" }, store: "actions" },
    });

    // Assess
    expect([env.status, selection.status]).toEqual(["Succeeded", "Succeeded"]);
    expect(selection.summary).toContain("The secrets of the repositories it selected are left as they are.");
    expect(JSON.parse(store.text ?? "")).toEqual({ Repos: [{ Name: "api", Owner: "acme" }] });
  });

  it("tells a repository's Dependabot secrets from its Actions secrets", async () => {
    // Prepare
    const store = new MemoryConfigStore([{ owner: "acme", name: "api" }]);
    const dependabot = place({ kind: "repository", owner: "acme", name: "api", store: "dependabot" });

    // Act
    const added = await answer(addRepo, store, dependabot, ALLOWED);
    const removed = await answer(deleteRepo, store, dependabot);

    // Assess
    expect(added.summary).toContain("Added acme/api (Dependabot)");
    expect(removed.summary).toContain("Removed acme/api (Dependabot)");
    expect(JSON.parse(store.text ?? "")).toEqual({ Repos: [{ Name: "api", Owner: "acme" }] });
  });

  it("refuses to remove the last place the key is written to, when only Unmanaged places would remain", async () => {
    // Prepare
    const store = new MemoryConfigStore();
    store.text = JSON.stringify({
      Repos: [
        { Owner: "acme", Name: "api" },
        { Owner: "acme", Name: "legacy", Unmanaged: true },
      ],
    });

    // Act
    const result = await answer(deleteRepo, store, repo({ owner: "acme", name: "api" }));

    // Assess
    expect(result.status).toBe("Failed");
    expect(result.summary).toContain(
      "acme/api is the last entry the key is written to in s3://test-bucket/repos.json; a list without one would make every rotation fail.",
    );
    expect(store.writes).toBe(0);
  });

  it("refuses to start a list with an Unmanaged place: it would name no place to write the key to", async () => {
    // Prepare
    const store = new MemoryConfigStore();

    // Act
    const result = await answer(
      addRepo,
      store,
      place(repositoryTarget({ owner: "acme", name: "api" }), true),
      ALLOWED,
    );

    // Assess
    expect(result.status).toBe("Failed");
    expect(store.writes).toBe(0);
  });

  it("refuses an organization secret or a selection of an owner the stack does not allow, and alerts", async () => {
    // Prepare
    const store = new MemoryConfigStore([{ owner: "acme", name: "api" }]);

    // Act
    const org = await addRepo(
      store,
      place({
        kind: "organization",
        owner: "evil-corp",
        store: "actions",
        visibility: "all",
        selectedRepositories: [],
      }),
      ALLOWED,
    );
    const selection = await addRepo(
      store,
      { kind: "selection", selection: { owner: "evil-corp", by: { topic: "aws" }, store: "actions" } },
      ALLOWED,
    );

    // Assess
    const summary = renderAnswer(org, new Date("2026-01-01T00:00:00Z")).summary;
    expect(summary).toContain(
      'Add-RepoConfig names an entry of an owner pAllowedGitHubOwners does not allow: GITHUBOWNER "organization evil-corp (Actions)" (owner "evil-corp")',
    );
    expect(org.alerts).toHaveLength(1);
    expect(selection.status).toBe("Failed");
    expect(selection.alerts[0]).toContain("repositories of evil-corp with topic aws");
    expect(store.writes).toBe(0);
  });
});

/** A repository's Actions secrets, as a list entry (what Add/Delete-RepoConfig get from GITHUBOWNER and GITHUBREPO). */
function repo(ref: RepoRef): ListEntry {
  return { kind: "target", target: repositoryTarget(ref), unmanaged: false };
}

/** A target as a list entry. */
function place(target: Target, unmanaged = false): ListEntry {
  return { kind: "target", target, unmanaged };
}

/** Runs a repository-list action and keeps both its outcome (per repository) and the rendered answer. */
async function answer<A extends unknown[]>(action: (...args: A) => ReturnType<typeof listRepos>, ...args: A) {
  const outcome = await action(...args);
  return { ...renderAnswer(outcome, new Date("2026-01-01T00:00:00Z")), repos: outcome.repos };
}
