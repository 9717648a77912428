import { describe, expect, it } from "vitest";
import { OwnerAllowList } from "../../src/config/owner-allow-list.ts";
import type { RepositorySelection } from "../../src/domain/selection.ts";
import { repositoryTarget, type Target, targetKey } from "../../src/domain/target.ts";
import { ConfigError, KeyDestinationRefusedError } from "../../src/errors.ts";
import { parseProgressDocument, serializeProgressDocument } from "../../src/lifecycle/progress-document.ts";
import {
  mergeSelections,
  type ResolvedSelection,
  resolvedFromRecord,
  resolveSelections,
  selectedRecord,
  selectionChanges,
} from "../../src/lifecycle/selection.ts";
import { selectionNotes } from "../../src/lifecycle/selection-note.ts";
import { emptyProgress } from "../../src/lifecycle/state-parts.ts";
import { fakeRepositoryFinder as fakeFinder } from "../support/fake-repository-finder.ts";

const ALLOWED = OwnerAllowList.of("octo");
const LIST = "s3://bucket/repos.json";
const LIMITS = { max: 10_000, location: LIST };

function byTopic(topic: string, extra: Partial<RepositorySelection> = {}): RepositorySelection {
  return { owner: "octo", by: { topic }, store: "actions", ...extra };
}

function resolvedOf(
  selection: RepositorySelection,
  names: readonly (string | [string, number])[],
): ResolvedSelection {
  return {
    selection,
    repositories: names.map((n) =>
      typeof n === "string" ? { name: n, id: undefined } : { name: n[0], id: n[1] },
    ),
    archived: [],
  };
}

describe("resolving selections", () => {
  it("makes one repository target per repository found, with the selection's store, secret names and KeyIdAs", async () => {
    // Prepare
    const finder = fakeFinder([
      { name: "web", id: 2, topics: ["deploys-to-aws"] },
      { name: "api", id: 1, topics: ["deploys-to-aws", "go"] },
      { name: "docs", id: 3, topics: ["docs"] },
    ]);
    const selection = byTopic("deploys-to-aws", {
      store: "dependabot",
      secretNames: { keyId: "AWS_ID", secretKey: "AWS_KEY" },
    });

    // Act
    const resolved = await resolveSelections([selection], finder, ALLOWED);
    const merged = mergeSelections([], resolved, LIMITS);

    // Assess
    expect(merged.targets).toEqual([
      {
        kind: "repository",
        owner: "octo",
        name: "api",
        store: "dependabot",
        secretNames: { keyId: "AWS_ID", secretKey: "AWS_KEY" },
      },
      {
        kind: "repository",
        owner: "octo",
        name: "web",
        store: "dependabot",
        secretNames: { keyId: "AWS_ID", secretKey: "AWS_KEY" },
      },
    ]);
    expect(merged.ids).toEqual(
      new Map([
        ["octo/api@dependabot", 1],
        ["octo/web@dependabot", 2],
      ]),
    );
  });

  it("asks for the topic in lowercase, as GitHub keeps topics", async () => {
    // Prepare
    const finder = fakeFinder([{ name: "api", id: 1, topics: ["deploys-to-aws"] }]);

    // Act
    const resolved = await resolveSelections([byTopic("Deploys-To-AWS")], finder, ALLOWED);

    // Assess
    expect(finder.calls).toEqual(["octo topic deploys-to-aws"]);
    expect(resolved[0]?.repositories).toEqual([{ name: "api", id: 1 }]);
  });

  it("finds repositories by a custom property value, a multi-select property by one of its values", async () => {
    // Prepare
    const finder = fakeFinder([
      { name: "api", id: 1, properties: { team: "platform" } },
      { name: "web", id: 2, properties: { team: ["frontend", "platform"] } },
      { name: "ml", id: 3, properties: { team: "data" } },
    ]);
    const selection: RepositorySelection = {
      owner: "octo",
      by: { property: "team", value: "platform" },
      store: "actions",
    };

    // Act
    const merged = mergeSelections([], await resolveSelections([selection], finder, ALLOWED), LIMITS);

    // Assess
    expect(finder.calls).toEqual(["octo property team=platform"]);
    expect(merged.targets.map(targetKey)).toEqual(["octo/api", "octo/web"]);
  });

  it("refuses a selection of an organization pAllowedGitHubOwners does not list before asking GitHub anything", async () => {
    // Prepare
    const finder = fakeFinder([{ name: "harvest", id: 9, topics: ["deploys-to-aws"] }]);
    const foreign: RepositorySelection = {
      owner: "evil-corp",
      by: { topic: "deploys-to-aws" },
      store: "actions",
    };

    // Act
    const attempt = resolveSelections([byTopic("deploys-to-aws"), foreign], finder, ALLOWED);

    // Assess
    const error = await attempt.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(KeyDestinationRefusedError);
    expect((error as KeyDestinationRefusedError).message).toBe(
      "The list selects repositories of evil-corp with topic deploys-to-aws, of an organization pAllowedGitHubOwners does not allow. The key goes only to repositories of octo; nothing was changed.",
    );
    expect((error as KeyDestinationRefusedError).alert).toContain("evil-corp");
    expect(finder.calls).toEqual([]);
  });

  it("takes a selection that finds nothing as no targets, and the summary warns that it is probably a typo", async () => {
    // Prepare
    const finder = fakeFinder([{ name: "api", id: 1, topics: ["deploys-to-aws"] }]);

    // Act
    const resolved = await resolveSelections([byTopic("deploy-to-aws")], finder, ALLOWED);
    const merged = mergeSelections([repositoryTarget({ owner: "octo", name: "web" })], resolved, LIMITS);

    // Assess
    expect(merged.targets.map(targetKey)).toEqual(["octo/web"]);
    expect(selectionNotes(merged.selections, undefined)).toEqual([
      "Warning: found no repositories of octo with topic deploy-to-aws. Check the topic's spelling (GitHub keeps topics in lowercase), and that the token can see the organization's repositories (a fine-grained token or a GitHub App installation sees only the repositories it was given). The run goes on without them.",
    ]);
  });

  it("leaves archived repositories out and says so, since GitHub refuses to write their secrets", async () => {
    // Prepare
    const finder = fakeFinder([
      { name: "api", id: 1, topics: ["aws"] },
      { name: "old", id: 2, topics: ["aws"], archived: true },
    ]);

    // Act
    const merged = mergeSelections([], await resolveSelections([byTopic("aws")], finder, ALLOWED), LIMITS);

    // Assess
    expect(merged.targets.map(targetKey)).toEqual(["octo/api"]);
    expect(selectionNotes(merged.selections, undefined)).toEqual([
      "Repositories of octo with topic aws: 1 (octo/api); 1 archived repository left out, as GitHub refuses to write secrets to an archived repository (octo/old).",
    ]);
  });
});

describe("merging selected and listed targets", () => {
  it("keeps the listed entry when a selection finds the same repository for the same store, and adds no duplicate", () => {
    // Prepare
    const listed: Target[] = [
      { kind: "repository", owner: "Octo", name: "API", store: "actions", keyIdAs: "variable" },
    ];
    const selection = byTopic("aws", { secretNames: { keyId: "K", secretKey: "S" } });

    // Act
    const merged = mergeSelections(
      listed,
      [
        resolvedOf(selection, [
          ["api", 1],
          ["web", 2],
        ]),
      ],
      LIMITS,
    );

    // Assess
    expect(merged.targets).toEqual([
      listed[0],
      {
        kind: "repository",
        owner: "octo",
        name: "web",
        store: "actions",
        secretNames: { keyId: "K", secretKey: "S" },
      },
    ]);
    expect(merged.selections[0]?.covered).toBe(1);
    expect(merged.ids).toEqual(new Map([["octo/web", 2]]));
    expect(selectionNotes(merged.selections, undefined)).toEqual([
      "Repositories of octo with topic aws: 2 (octo/api, octo/web), 1 of them listed by name already.",
    ]);
  });

  it("writes a listed repository's Actions secrets and a selection's Dependabot secrets of it both", () => {
    // Prepare
    const listed = [repositoryTarget({ owner: "octo", name: "api" })];

    // Act
    const merged = mergeSelections(
      listed,
      [resolvedOf(byTopic("aws", { store: "dependabot" }), ["api"])],
      LIMITS,
    );

    // Assess
    expect(merged.targets.map(targetKey)).toEqual(["octo/api", "octo/api@dependabot"]);
  });

  it("gives a repository two selections find to the first of them", () => {
    // Prepare
    const first = byTopic("aws", { keyIdAs: "variable" });
    const second: RepositorySelection = {
      owner: "octo",
      by: { property: "team", value: "x" },
      store: "actions",
    };

    // Act
    const merged = mergeSelections(
      [],
      [resolvedOf(first, ["api"]), resolvedOf(second, ["api", "web"])],
      LIMITS,
    );

    // Assess
    expect(merged.targets).toEqual([
      { kind: "repository", owner: "octo", name: "api", store: "actions", keyIdAs: "variable" },
      { kind: "repository", owner: "octo", name: "web", store: "actions" },
    ]);
    expect(merged.selections.map((s) => s.covered)).toEqual([0, 1]);
  });

  it("refuses more targets than one stack rotates, naming the list and each selection's count", () => {
    // Prepare
    const listed = [repositoryTarget({ owner: "octo", name: "api" })];
    const names = Array.from({ length: 10 }, (_, i) => `repo-${i}`);

    // Act
    const merge = () =>
      mergeSelections(listed, [resolvedOf(byTopic("aws"), names)], { max: 10, location: LIST });

    // Assess
    expect(merge).toThrow(ConfigError);
    expect(merge).toThrow(
      "Invalid repository list s3://bucket/repos.json: its selections find 10 repositories; with the 1 listed targets that makes 11, more than the 10 one stack rotates (repositories of octo with topic aws: 10)",
    );
  });
});

describe("the selected set in the progress object", () => {
  it("gives a continuing invocation the same targets as the one that resolved them", async () => {
    // Prepare
    const selections = [byTopic("aws", { keyIdAs: "variable" })];
    const finder = fakeFinder([
      { name: "api", id: 1, topics: ["aws"] },
      { name: "web", id: 2, topics: ["aws"] },
    ]);
    const resolved = await resolveSelections(selections, finder, ALLOWED);
    const record = JSON.parse(JSON.stringify(selectedRecord(resolved, new Date("2026-11-30T10:00:00.123Z"))));

    // Act
    const again = resolvedFromRecord(selections, record);

    // Assess
    expect(record.at).toBe("2026-11-30T10:00:00Z");
    expect(again.unresolved).toEqual([]);
    expect(mergeSelections([], again.resolved, LIMITS).targets).toEqual(
      mergeSelections([], resolved, LIMITS).targets,
    );
  });

  it("leaves a selection added to the list while the rotation runs to be resolved", () => {
    // Prepare
    const record = selectedRecord([resolvedOf(byTopic("aws"), ["api"])], new Date());
    const added = byTopic("aws", { store: "codespaces" });

    // Act
    const again = resolvedFromRecord([byTopic("AWS"), added], record);

    // Assess
    expect(again.resolved.map((r) => r.repositories.map((x) => x.name))).toEqual([["api"]]);
    expect(again.unresolved).toEqual([added]);
  });

  it("is kept in the progress object as written, topic and property sets alike", () => {
    // Prepare
    const property: RepositorySelection = {
      owner: "octo",
      by: { property: "team", value: "Platform Eng" },
      store: "codespaces",
    };
    const selected = selectedRecord(
      [resolvedOf(byTopic("aws"), ["api", "web"]), resolvedOf(property, ["ml"])],
      new Date("2026-11-30T10:00:00Z"),
    );
    const progress = { ...emptyProgress("2026-11-30T10:00:00.000Z"), selected };

    // Act
    const text = serializeProgressDocument(progress, "arn:secret");
    const loaded = parseProgressDocument(text, LIST).progress;

    // Assess
    expect(JSON.parse(text).selected.sets[1]).toEqual({
      owner: "octo",
      property: "team",
      value: "Platform Eng",
      store: "codespaces",
      repos: ["ml"],
    });
    expect(loaded.selected).toEqual(selected);
  });

  it("stays small at 10,000 repositories: about 25 bytes a repository", () => {
    // Prepare
    const names = Array.from({ length: 10_000 }, (_, i) => `service-${String(i).padStart(5, "0")}-deploy`);

    // Act
    const record = selectedRecord([resolvedOf(byTopic("deploys-to-aws"), names)], new Date());

    // Assess
    expect(JSON.stringify(record).length).toBeLessThan(10_000 * 25);
  });
});

describe("what changed since the last run", () => {
  const before = selectedRecord(
    [resolvedOf(byTopic("aws"), ["api", "old", "web"])],
    new Date("2026-11-01T00:00:00Z"),
  );

  it("names the repositories added and those no longer selected", () => {
    // Act
    const changes = selectionChanges(
      before,
      [
        resolvedOf(byTopic("aws"), [
          ["api", 1],
          ["new", 4],
          ["web", 2],
        ]),
      ],
      {},
    );

    // Assess
    expect(changes.since).toBe("2026-11-01T00:00:00Z");
    expect(changes.added.map(targetKey)).toEqual(["octo/new"]);
    expect(changes.removed.map(targetKey)).toEqual(["octo/old"]);
    expect(changes.renamed).toEqual([]);
    expect(changes.replaced).toEqual([]);
  });

  it("tells a renamed repository by its GitHub ID instead of an addition and a removal", () => {
    // Prepare
    const known = { "octo/old": { id: 3, seenAt: "2026-11-01T00:00:00Z" } };

    // Act
    const changes = selectionChanges(
      before,
      [
        resolvedOf(byTopic("aws"), [
          ["api", 1],
          ["legacy", 3],
          ["web", 2],
        ]),
      ],
      known,
    );

    // Assess
    expect(changes.added).toEqual([]);
    expect(changes.removed).toEqual([]);
    expect(changes.renamed.map(({ from, to }) => `${targetKey(from)} → ${targetKey(to)}`)).toEqual([
      "octo/old → octo/legacy",
    ]);
  });

  it("tells a different repository under a selected name by its changed ID", () => {
    // Prepare
    const known = { "octo/api": { id: 1, seenAt: "2026-11-01T00:00:00Z" } };

    // Act
    const changes = selectionChanges(
      before,
      [resolvedOf(byTopic("aws"), [["api", 99], "old", "web"])],
      known,
    );

    // Assess
    expect(changes.replaced.map(targetKey)).toEqual(["octo/api"]);
    expect(changes.added).toEqual([]);
  });

  it("sees no change in a repository another selection finds now", () => {
    // Prepare
    const other: RepositorySelection = {
      owner: "octo",
      by: { property: "aws", value: "true" },
      store: "actions",
    };

    // Act
    const changes = selectionChanges(
      before,
      [resolvedOf(byTopic("aws"), ["api", "web"]), resolvedOf(other, ["old"])],
      undefined,
    );

    // Assess
    expect([changes.added, changes.removed]).toEqual([[], []]);
  });

  it("says so when no run has recorded a set yet, and names each change in one line otherwise", () => {
    // Prepare
    const selection = byTopic("aws");
    const merged = mergeSelections(
      [],
      [
        resolvedOf(selection, [
          ["api", 1],
          ["legacy", 3],
          ["new", 4],
        ]),
      ],
      LIMITS,
    );
    const known = { "octo/old": { id: 3, seenAt: "2026-11-01T00:00:00Z" } };

    // Act
    const first = selectionNotes(
      merged.selections,
      selectionChanges(
        undefined,
        merged.selections.map((s) => s.resolved),
        known,
      ),
    );
    const later = selectionNotes(
      merged.selections,
      selectionChanges(
        before,
        merged.selections.map((s) => s.resolved),
        known,
      ),
    );

    // Assess
    expect(first[1]).toBe(
      "Selected repositories changed since the last run: not known yet (the next rotation records the set; the runs after it name what changed).",
    );
    expect(later[1]).toBe(
      "Selected repositories changed since the last run (2026-11-01T00:00:00Z): added octo/new (1); no longer selected octo/web (1; they keep the key they hold until it is retired); renamed octo/old → legacy.",
    );
  });

  it("keeps the summary short at 10,000 repositories: the first names and a count", () => {
    // Prepare
    const names = Array.from({ length: 10_000 }, (_, i) => `repo-${String(i).padStart(5, "0")}`);
    const merged = mergeSelections([], [resolvedOf(byTopic("aws"), names)], LIMITS);

    // Act
    const lines = selectionNotes(
      merged.selections,
      selectionChanges(
        undefined,
        merged.selections.map((s) => s.resolved),
        undefined,
      ),
    );

    // Assess
    expect(lines[0]).toBe(
      "Repositories of octo with topic aws: 10,000 (octo/repo-00000, octo/repo-00001, octo/repo-00002, octo/repo-00003, octo/repo-00004 and 9,995 more).",
    );
    expect(lines.join("\n").length).toBeLessThan(600);
  });
});
