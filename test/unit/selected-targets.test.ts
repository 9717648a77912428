import { describe, expect, it } from "vitest";
import { OwnerAllowList } from "../../src/config/owner-allow-list.ts";
import type { RepositorySelection } from "../../src/domain/selection.ts";
import { repositoryTarget, targetKey } from "../../src/domain/target.ts";
import { type SelectionContext, selectTargets } from "../../src/lifecycle/selected-targets.ts";
import { fakeRepositoryFinder } from "../support/fake-repository-finder.ts";

const NOW = new Date("2026-11-30T12:00:00Z");
const AWS: RepositorySelection = { owner: "octo", by: { topic: "aws" }, store: "actions" };
const LISTED = [repositoryTarget({ owner: "octo", name: "site" })];

function context(finder: ReturnType<typeof fakeRepositoryFinder>): SelectionContext {
  return {
    finder,
    allowedOwners: OwnerAllowList.of("octo"),
    location: "s3://bucket/repos.json",
    max: 10_000,
  };
}

describe("a run's targets with dynamic selection", () => {
  it("asks GitHub nothing and records nothing for a list without selections", async () => {
    // Prepare
    const finder = fakeRepositoryFinder([]);

    // Act
    const set = await selectTargets(
      { targets: LISTED, selections: [] },
      { recorded: undefined, underWay: false, known: undefined, now: NOW },
      context(finder),
    );

    // Assess
    expect(set.targets).toEqual(LISTED);
    expect([set.record, set.changes]).toEqual([undefined, undefined]);
    expect(finder.calls).toEqual([]);
  });

  it("resolves the selections anew for a new rotation, records the set and says what changed since the last", async () => {
    // Prepare
    const finder = fakeRepositoryFinder([
      { name: "api", id: 1, topics: ["aws"] },
      { name: "new", id: 2, topics: ["aws"] },
    ]);
    const recorded = { at: "2026-11-29T12:00:00Z", sets: [{ ...AWS, repos: ["api", "old"] }] };

    // Act
    const set = await selectTargets(
      { targets: LISTED, selections: [AWS] },
      { recorded, underWay: false, known: {}, now: NOW },
      context(finder),
    );

    // Assess
    expect(set.targets.map(targetKey)).toEqual(["octo/site", "octo/api", "octo/new"]);
    expect(set.record).toEqual({ at: "2026-11-30T12:00:00Z", sets: [{ ...AWS, repos: ["api", "new"] }] });
    expect(set.changes?.added.map(targetKey)).toEqual(["octo/new"]);
    expect(set.changes?.removed.map(targetKey)).toEqual(["octo/old"]);
  });

  it("keeps the set a rotation under way began with, though GitHub's topics changed meanwhile", async () => {
    // Prepare
    const finder = fakeRepositoryFinder([{ name: "new", id: 2, topics: ["aws"] }]);
    const recorded = { at: "2026-11-30T11:00:00Z", sets: [{ ...AWS, repos: ["api"] }] };

    // Act
    const set = await selectTargets(
      { targets: LISTED, selections: [AWS] },
      { recorded, underWay: true, known: undefined, now: NOW },
      context(finder),
    );

    // Assess
    expect(set.targets.map(targetKey)).toEqual(["octo/site", "octo/api"]);
    expect(set.record).toBe(recorded);
    expect(set.changes).toBeUndefined();
    expect(finder.calls).toEqual([]);
  });

  it("resolves a selection added to the list while a rotation is under way, and adds it to the record", async () => {
    // Prepare
    const finder = fakeRepositoryFinder([{ name: "ml", id: 3, properties: { team: "data" } }]);
    const added: RepositorySelection = {
      owner: "octo",
      by: { property: "team", value: "data" },
      store: "actions",
    };
    const recorded = { at: "2026-11-30T11:00:00Z", sets: [{ ...AWS, repos: ["api"] }] };

    // Act
    const set = await selectTargets(
      { targets: [], selections: [added, AWS] },
      { recorded, underWay: true, known: undefined, now: NOW },
      context(finder),
    );

    // Assess
    expect(finder.calls).toEqual(["octo property team=data"]);
    expect(set.targets.map(targetKey)).toEqual(["octo/ml", "octo/api"]);
    expect(set.record).toEqual({
      at: "2026-11-30T11:00:00Z",
      sets: [
        { ...AWS, repos: ["api"] },
        { ...added, repos: ["ml"] },
      ],
    });
  });

  it("resolves anew a rotation under way that recorded no set (begun before the upgrade)", async () => {
    // Prepare
    const finder = fakeRepositoryFinder([{ name: "api", id: 1, topics: ["aws"] }]);

    // Act
    const set = await selectTargets(
      { targets: [], selections: [AWS] },
      { recorded: undefined, underWay: true, known: undefined, now: NOW },
      context(finder),
    );

    // Assess
    expect(set.targets.map(targetKey)).toEqual(["octo/api"]);
    expect(set.record?.sets).toEqual([{ ...AWS, repos: ["api"] }]);
    expect(set.changes?.since).toBeUndefined();
  });
});
