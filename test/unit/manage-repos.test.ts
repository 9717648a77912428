import { describe, expect, it } from "vitest";
import { MAX_REPOS, parseReposConfig } from "../../src/config/repos-config.ts";
import { renderAnswer } from "../../src/render-answer.ts";
import { addRepo, deleteRepo, listRepos } from "../../src/repos/manage-repos.ts";
import { MemoryConfigStore } from "../support/fakes.ts";

describe("repository list runbooks", () => {
  it("lists the repositories in repos.json", async () => {
    const store = new MemoryConfigStore([
      { owner: "acme", name: "api" },
      { owner: "acme", name: "web" },
    ]);

    const result = await answer(listRepos, store);

    expect(result.status).toBe("Succeeded");
    expect(result.repos.map((r) => r.repo)).toEqual(["acme/api", "acme/web"]);
  });

  it("adds a repository and keeps the original format", async () => {
    const store = new MemoryConfigStore([{ owner: "acme", name: "api" }]);

    const result = await answer(addRepo, store, { owner: "acme", name: "web" });

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

    const result = await answer(addRepo, store, { owner: "ACME", name: "Api" });

    expect(result.status).toBe("Succeeded");
    expect(result.summary).toContain("already listed");
    expect(store.writes).toBe(0);
  });

  it("creates repos.json when adding to a list that does not exist yet", async () => {
    const store = new MemoryConfigStore();

    const result = await answer(addRepo, store, { owner: "acme", name: "api" });

    expect(result.status).toBe("Succeeded");
    expect(store.writes).toBe(1);
  });

  it("removes a repository, and treats removing an absent one as a no-op success", async () => {
    const store = new MemoryConfigStore([
      { owner: "acme", name: "api" },
      { owner: "acme", name: "web" },
    ]);

    const removed = await answer(deleteRepo, store, { owner: "acme", name: "API" });
    const absent = await answer(deleteRepo, store, { owner: "acme", name: "nothing" });

    expect(removed.status).toBe("Succeeded");
    expect(absent.status).toBe("Succeeded");
    expect(absent.summary).toContain("not listed");
    expect(store.writes).toBe(1);
  });

  it("leaves an invalid repos.json untouched and fails saying why", async () => {
    const store = new MemoryConfigStore();
    store.text = '{"Repos": [oops]}';

    const added = await answer(addRepo, store, { owner: "acme", name: "api" });

    expect(added.status).toBe("Failed");
    expect(added.summary).toContain("not valid JSON");
    expect(store.text).toBe('{"Repos": [oops]}');
  });

  it("refuses to remove the last repository, which would make every rotation fail", async () => {
    const store = new MemoryConfigStore([{ owner: "acme", name: "api" }]);

    const result = await answer(deleteRepo, store, { owner: "acme", name: "api" });

    expect(result.status).toBe("Failed");
    expect(store.writes).toBe(0);
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

    const result = await answer(addRepo, store, { owner: "acme", name: "one-more" });

    expect(result.status).toBe("Succeeded");
    expect(store.writes).toBe(1);
    expect(parseReposConfig(store.text ?? "", store.location).repos).toHaveLength(MAX_REPOS);
  });

  it("refuses a 10,001st repository, saying to split the list over stacks, and changes nothing", async () => {
    const store = new MemoryConfigStore(list(MAX_REPOS));

    const result = await answer(addRepo, store, { owner: "acme", name: "one-more" });

    expect(result.status).toBe("Failed");
    expect(result.summary).toContain(
      "adding acme/one-more would list 10001 repositories, more than the 10000 one stack rotates",
    );
    expect(result.summary).toContain("Split the repositories over several stacks");
    expect(store.writes).toBe(0);
  });
});

/** Runs a repository-list action and keeps both its outcome (per repository) and the rendered answer. */
async function answer<A extends unknown[]>(action: (...args: A) => ReturnType<typeof listRepos>, ...args: A) {
  const outcome = await action(...args);
  return { ...renderAnswer(outcome, new Date("2026-01-01T00:00:00Z")), repos: outcome.repos };
}
