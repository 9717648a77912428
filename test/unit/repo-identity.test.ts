/**
 * Targets pinned to GitHub's IDs (src/lifecycle/repo-identity.ts), for an organization secret's selected
 * repositories: a name that resolves to another ID than the one first seen under it is refused, with both IDs, and
 * the IDs a rotation resolved are recorded as seen — a name keeps its first sighting, a name no longer selected is
 * forgotten.
 */
import { describe, expect, it } from "vitest";
import type { OrganizationTarget } from "../../src/domain/target.ts";
import { RepositoryReplacedError, recordRepoIds, selectedChange } from "../../src/lifecycle/repo-identity.ts";
import { emptyState, type RepoSeen, type RotationState } from "../../src/lifecycle/state.ts";

const EARLIER = "2026-11-01T00:00:00Z";
const NOW = new Date("2026-11-30T12:00:00Z");

function selecting(names: readonly string[]): OrganizationTarget {
  return {
    kind: "organization",
    owner: "Acme",
    store: "actions",
    visibility: "selected",
    selectedRepositories: names,
  };
}

/** A state whose rotation resolved `found` (by lower-case name) for organization Acme, with `repoIds` recorded before. */
function resolved(found: Record<string, number>, repoIds?: Record<string, RepoSeen>): RotationState {
  return {
    ...emptyState(NOW),
    ...(repoIds === undefined ? {} : { repoIds }),
    selectedIds: { "org:acme@actions": { at: NOW.toISOString(), found } },
  };
}

function ids(state: RotationState): Record<string, number> {
  return Object.fromEntries(Object.entries(state.repoIds ?? {}).map(([key, seen]) => [key, seen.id]));
}

describe("a selected repository of an organization secret pinned to its GitHub ID", () => {
  it("is refused when its name resolves to another ID than the one first seen, naming both IDs", () => {
    // Prepare
    const target = selecting(["app", "Web"]);
    const known = {
      "org:acme@actions#app": { id: 11, seenAt: EARLIER },
      "org:acme@actions#web": { id: 12, seenAt: EARLIER },
    };

    // Act
    const error = selectedChange(target, { app: 11, web: 97 }, known);

    // Assess
    expect(error).toBeInstanceOf(RepositoryReplacedError);
    expect([error?.previousId, error?.currentId]).toEqual([12, 97]);
    expect(error?.message).toContain(
      "organization Acme (Actions): its selected repository Acme/Web is a different repository now (ID 12 → 97)",
    );
    expect(error?.alert).toContain("Acme/Web is a different repository on GitHub");
    expect(error?.fix).toContain("remove Web from the entry's Repositories");
  });

  it("passes names with the IDs first seen, names not seen before, and names not resolved yet", () => {
    // Prepare
    const target = selecting(["app", "web", "docs"]);
    const known = {
      "org:acme@actions#app": { id: 11, seenAt: EARLIER },
      "org:acme@actions#docs": { id: 13, seenAt: EARLIER },
    };

    // Act
    const error = selectedChange(target, { app: 11, web: 12 }, known);

    // Assess
    expect(error).toBeUndefined();
  });

  it("records the IDs the rotation resolved under the target's key and each name, lower-cased", () => {
    // Prepare
    const target = selecting(["App", "web"]);
    const state = resolved({ app: 11, web: 12 });

    // Act
    const next = recordRepoIds(state, [target], new Map([["org:acme@actions", { id: 7 }]]), NOW);

    // Assess
    expect(ids(next)).toEqual({
      "org:acme@actions": 7,
      "org:acme@actions#app": 11,
      "org:acme@actions#web": 12,
    });
    expect(next.repoIds?.["org:acme@actions#app"]?.seenAt).toBe("2026-11-30T12:00:00Z");
  });

  it("keeps a name's first sighting, and forgets a name no longer selected", () => {
    // Prepare: web left the entry; docs joined it; app resolves as before.
    const target = selecting(["app", "docs"]);
    const state = resolved(
      { app: 11, docs: 13 },
      {
        "org:acme@actions": { id: 7, seenAt: EARLIER },
        "org:acme@actions#app": { id: 11, seenAt: EARLIER },
        "org:acme@actions#web": { id: 12, seenAt: EARLIER },
      },
    );

    // Act
    const next = recordRepoIds(state, [target], new Map(), NOW);

    // Assess
    expect(ids(next)).toEqual({
      "org:acme@actions": 7,
      "org:acme@actions#app": 11,
      "org:acme@actions#docs": 13,
    });
    expect(next.repoIds?.["org:acme@actions#app"]?.seenAt).toBe(EARLIER);
  });

  it("forgets every selected name when the entry's visibility is no longer selected", () => {
    // Prepare
    const state = resolved(
      {},
      {
        "org:acme@actions": { id: 7, seenAt: EARLIER },
        "org:acme@actions#app": { id: 11, seenAt: EARLIER },
      },
    );
    const everyRepository: OrganizationTarget = { ...selecting([]), visibility: "all" };

    // Act
    const next = recordRepoIds(state, [everyRepository], new Map(), NOW);

    // Assess
    expect(ids(next)).toEqual({ "org:acme@actions": 7 });
  });

  it("returns the state itself when every ID is recorded already", () => {
    // Prepare
    const target = selecting(["app"]);
    const state = resolved(
      { app: 11 },
      {
        "org:acme@actions": { id: 7, seenAt: EARLIER },
        "org:acme@actions#app": { id: 11, seenAt: EARLIER },
      },
    );

    // Act
    const next = recordRepoIds(state, [target], new Map([["org:acme@actions", { id: 7 }]]), NOW);

    // Assess
    expect(next).toBe(state);
  });
});
