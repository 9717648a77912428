/**
 * Resolving an organization secret's selected repository names to IDs (src/lifecycle/selected-ids.ts), at the size
 * that broke the bench: 10,000 names. The source is an organization in memory, 100 repositories a page, A to Z.
 */
import { describe, expect, it } from "vitest";
import type { OrganizationTarget } from "../../src/domain/target.ts";
import { GitHubAccessError } from "../../src/errors.ts";
import {
  type RepositoryPage,
  resolveSelectedIds,
  type SelectedRepositorySource,
} from "../../src/lifecycle/selected-ids.ts";

const NOW = new Date("2026-11-30T12:00:00Z");

/** An organization with `count` repositories `repo-00001` … (IDs 500,001 …), counting the requests it answers. */
class MemoryOrganization implements SelectedRepositorySource {
  readonly requests: string[] = [];
  readonly repositories: { id: number; name: string }[];

  constructor(count: number) {
    this.repositories = Array.from({ length: count }, (_, i) => ({
      id: 500_001 + i,
      name: `repo-${String(i + 1).padStart(5, "0")}`,
    }));
  }

  async organizationRepositories(org: string, page: number): Promise<RepositoryPage> {
    this.requests.push(`page ${org} ${page}`);
    const repositories = this.repositories.slice((page - 1) * 100, page * 100);
    return { repositories, last: page * 100 >= this.repositories.length };
  }

  async selectedRepositoryId(target: OrganizationTarget, name: string): Promise<number> {
    this.requests.push(`repo ${target.owner}/${name}`);
    const found = this.repositories.find((repo) => repo.name.toLowerCase() === name.toLowerCase());
    if (found === undefined) {
      throw new GitHubAccessError(`${target.owner}/${name} not found (404).`, {
        status: 404,
        repo: `${target.owner}/${name}`,
        fix: "Check the name.",
      });
    }
    return found.id;
  }

  idOf(name: string): number {
    return this.repositories.find((repo) => repo.name === name)?.id ?? 0;
  }
}

function selecting(names: readonly string[]): OrganizationTarget {
  return {
    kind: "organization",
    owner: "acme",
    store: "actions",
    visibility: "selected",
    selectedRepositories: names,
  };
}

const never = () => false;

describe("resolving an organization secret's selected repositories", () => {
  it("resolves 10,000 names with 100 requests (the organization's repositories, 100 a page), ignoring case", async () => {
    // Prepare
    const org = new MemoryOrganization(10_000);
    const names = org.repositories.map((repo) => repo.name.toUpperCase()).reverse();

    // Act
    const result = await resolveSelectedIds(selecting(names), undefined, org, { now: NOW, stop: never });

    // Assess
    expect(result.kind).toBe("done");
    expect(org.requests).toHaveLength(100);
    expect(org.requests.every((request) => request.startsWith("page acme "))).toBe(true);
    expect(result.kind === "done" && result.ids).toEqual(org.repositories.map((repo) => repo.id).reverse());
    expect(result.record.nextPage).toBeUndefined();
    expect(Object.keys(result.record.found)).toHaveLength(10_000);
  });

  it("stops listing as soon as every name is found", async () => {
    // Prepare
    const org = new MemoryOrganization(10_000);
    const names = org.repositories.slice(0, 250).map((repo) => repo.name);

    // Act
    const result = await resolveSelectedIds(selecting(names), undefined, org, { now: NOW, stop: never });

    // Assess
    expect(result.kind).toBe("done");
    expect(org.requests).toEqual(["page acme 1", "page acme 2", "page acme 3"]);
  });

  it("looks a few names up one by one instead of listing the organization", async () => {
    // Prepare
    const org = new MemoryOrganization(10_000);

    // Act
    const result = await resolveSelectedIds(selecting(["repo-09999", "Repo-00002"]), undefined, org, {
      now: NOW,
      stop: never,
    });

    // Assess
    expect(org.requests).toEqual(["repo acme/repo-09999", "repo acme/Repo-00002"]);
    expect(result.kind === "done" && result.ids).toEqual([org.idOf("repo-09999"), org.idOf("repo-00002")]);
  });

  it("stops when the step's time is up and continues from the record, never reading a page twice", async () => {
    // Prepare
    const org = new MemoryOrganization(10_000);
    const names = org.repositories.map((repo) => repo.name);
    const target = selecting(names);
    const stopAfter40 = () => org.requests.length >= 40;

    // Act
    const first = await resolveSelectedIds(target, undefined, org, { now: NOW, stop: stopAfter40 });
    const later = new Date(NOW.getTime() + 600_000);
    const second = await resolveSelectedIds(target, first.record, org, { now: later, stop: never });

    // Assess
    expect(first).toMatchObject({ kind: "unfinished", resolved: 4_000, total: 10_000, requests: 40 });
    expect(first.record.nextPage).toBe(41);
    expect(second.kind).toBe("done");
    expect(second.requests).toBe(60);
    expect(new Set(org.requests).size).toBe(100);
    expect(second.kind === "done" && second.ids).toEqual(org.repositories.map((repo) => repo.id));
    expect(second.record.at).toBe(NOW.toISOString());
  });

  it("always sends the first request, so every invocation makes progress however late it starts", async () => {
    // Prepare
    const org = new MemoryOrganization(1_000);
    const names = org.repositories.map((repo) => repo.name);

    // Act
    const result = await resolveSelectedIds(selecting(names), undefined, org, { now: NOW, stop: () => true });

    // Assess
    expect(result).toMatchObject({ kind: "unfinished", resolved: 100, requests: 1 });
    expect(result.record.nextPage).toBe(2);
  });

  it("resolves only the names a record from an earlier invocation lacks (a name added to the list since)", async () => {
    // Prepare
    const org = new MemoryOrganization(10_000);
    const names = org.repositories.map((repo) => repo.name);
    const done = await resolveSelectedIds(selecting(names.slice(0, 9_999)), undefined, org, {
      now: NOW,
      stop: never,
    });
    org.requests.length = 0;

    // Act
    const result = await resolveSelectedIds(selecting(names), done.record, org, { now: NOW, stop: never });

    // Assess
    expect(org.requests).toEqual(["repo acme/repo-10000"]);
    expect(result.kind === "done" && result.ids.at(-1)).toBe(org.idOf("repo-10000"));
  });

  it("refuses names the whole listing did not show, without a request for each", async () => {
    // Prepare
    const org = new MemoryOrganization(10_000);
    const names = [
      ...org.repositories.slice(20).map((repo) => repo.name),
      ...range(20).map((i) => `gone-${i}`),
    ];
    org.repositories.splice(0, 20);

    // Act
    const resolving = resolveSelectedIds(selecting(names), undefined, org, { now: NOW, stop: never });

    // Assess
    await expect(resolving).rejects.toThrow(
      "20 repositories selected for organization acme (Actions) are not among the repositories of acme that the token can see: gone-0, gone-1, gone-2, gone-3, gone-4 and 15 more.",
    );
    expect(org.requests).toHaveLength(100);
  });

  it("looks up one by one the few names the listing did not show, and refuses one GitHub does not find", async () => {
    // Prepare
    const org = new MemoryOrganization(1_000);
    const names = [...org.repositories.map((repo) => repo.name), "renamed-since"];

    // Act
    const resolving = resolveSelectedIds(selecting(names), undefined, org, { now: NOW, stop: never });

    // Assess
    await expect(resolving).rejects.toThrow("acme/renamed-since not found (404).");
    expect(org.requests.at(-1)).toBe("repo acme/renamed-since");
    expect(org.requests).toHaveLength(11);
  });

  it("forgets, once done, the names no longer selected", async () => {
    // Prepare
    const org = new MemoryOrganization(100);
    const before = { at: NOW.toISOString(), found: { "repo-00001": 500_001, dropped: 7 } };

    // Act
    const result = await resolveSelectedIds(selecting(["repo-00001"]), before, org, {
      now: NOW,
      stop: never,
    });

    // Assess
    expect(org.requests).toEqual([]);
    expect(result.record.found).toEqual({ "repo-00001": 500_001 });
  });
});

function range(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i);
}
