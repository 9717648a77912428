/**
 * Dynamic selection through the lifecycle (in-memory fakes): a rotation writes the repositories a topic or custom
 * property selects, keeps that set for all its invocations, and DryRun and the summary say what each selection
 * found and what changed since the last rotation.
 */
import { describe, expect, it } from "vitest";
import { OwnerAllowList } from "../../src/config/owner-allow-list.ts";
import type { RepositorySelection } from "../../src/domain/selection.ts";
import { repositoryTarget, type Target } from "../../src/domain/target.ts";
import { retire } from "../../src/lifecycle/retire.ts";
import { rotate } from "../../src/lifecycle/rotate.ts";
import type { RotationDeps } from "../../src/lifecycle/rotation-context.ts";
import type { ListedTargets, TargetList } from "../../src/ports.ts";
import { fakeRepositoryFinder } from "../support/fake-repository-finder.ts";
import { answerOf, type FakeWorld, fakeWorld } from "../support/fakes.ts";

const FAR_FUTURE = new Date("2100-01-01T00:00:00Z");
const KEY_ID = "AWS_ACCESS_KEY_ID";
const AWS: RepositorySelection = { owner: "acme", by: { topic: "aws" }, store: "actions" };

/** The list in memory: its targets and selections. */
class SelectingList implements TargetList {
  readonly location = "s3://test-bucket/repos.json";
  constructor(
    public targets: readonly Target[],
    public selections: readonly RepositorySelection[],
  ) {}

  async load(): Promise<ListedTargets> {
    return { targets: this.targets, selections: this.selections };
  }
}

interface SelectionWorld extends FakeWorld {
  readonly finder: ReturnType<typeof fakeRepositoryFinder>;
  readonly list: SelectingList;
  readonly deps: RotationDeps;
  /** Gives a repository the topic `aws` (or takes it away). */
  tag(name: string, on?: boolean): void;
}

/** Organization acme with repositories app, web and docs; app and web have the topic `aws`. */
function selectionWorld(graceMinutes = 60): SelectionWorld {
  const world = fakeWorld(0, graceMinutes);
  world.github.addOrg("acme");
  const finder = fakeRepositoryFinder([]);
  for (const name of ["app", "web", "docs"]) {
    world.github.addRepo("acme", name);
    finder.repos.push({
      name,
      id: world.github.ids.get(`acme/${name}`) ?? 0,
      topics: name === "docs" ? [] : ["aws"],
    });
  }
  const list = new SelectingList([], [AWS]);
  const selection = {
    finder,
    allowedOwners: OwnerAllowList.of("acme"),
    location: list.location,
    max: 10_000,
  };
  const tag = (name: string, on = true) => {
    const index = finder.repos.findIndex((repo) => repo.name === name);
    const repo = finder.repos[index];
    if (repo !== undefined) finder.repos[index] = { ...repo, topics: on ? ["aws"] : [] };
  };
  return { ...world, finder, list, deps: { ...world.deps, list, selection }, tag };
}

async function run(world: SelectionWorld, options: { dryRun?: boolean; deadline?: Date } = {}) {
  const outcome = await rotate(world.deps, {
    owner: "exec-1",
    dryRun: options.dryRun ?? false,
    replaceOlderKey: false,
    deadline: options.deadline ?? FAR_FUTURE,
  });
  return { ...answerOf(world.clock, outcome), alerts: outcome.alerts, notes: outcome.notes };
}

describe("a rotation over the repositories a topic selects", () => {
  it("writes the key to every repository with the topic and to none without, and names what it found", async () => {
    // Prepare
    const world = selectionWorld();

    // Act
    const result = await run(world);

    // Assess
    expect(result.status).toBe("Succeeded");
    expect(world.github.value("acme/app", KEY_ID)).toBe(result.newAccessKeyId);
    expect(world.github.value("acme/web", KEY_ID)).toBe(result.newAccessKeyId);
    expect(world.github.value("acme/docs", KEY_ID)).toBeUndefined();
    expect(result.notes).toContain("Repositories of acme with topic aws: 2 (acme/app, acme/web).");
    expect((await world.state.load())?.selected?.sets).toEqual([{ ...AWS, repos: ["app", "web"] }]);
  });

  it("shows in a dry run what the selection finds now and what changed since the last rotation, changing nothing", async () => {
    // Prepare
    const world = selectionWorld();
    await run(world);
    world.tag("docs");
    world.tag("web", false);
    const writes = world.github.writes.length;
    const before = await world.state.load();

    // Act
    const plan = await run(world, { dryRun: true });

    // Assess
    expect(plan.notes).toContain("Repositories of acme with topic aws: 2 (acme/app, acme/docs).");
    expect(plan.notes).toContain(
      `Selected repositories changed since the last run (${before?.selected?.at}): added acme/docs (1); no longer selected acme/web (1; they keep the key they hold until it is retired).`,
    );
    expect(plan.repos.map((r) => [r.repo, r.result])).toEqual([
      ["acme/app", "would-write"],
      ["acme/docs", "would-write"],
    ]);
    expect(plan.alerts).toEqual([]);
    expect(world.github.writes).toHaveLength(writes);
    expect(await world.state.load()).toEqual(before);
  });

  it("writes a repository that gained the topic at the next rotation, and alerts the topic about it", async () => {
    // Prepare
    const world = selectionWorld(0);
    world.iam.addKey("Active");
    const first = await run(world);
    world.clock.advance(60_000);
    await retire(world.deps, { owner: "exec-1", dryRun: false });
    world.tag("docs");

    // Act
    const second = await run(world);

    // Assess
    expect(second.status).toBe("Succeeded");
    expect(world.github.value("acme/docs", KEY_ID)).toBe(second.newAccessKeyId);
    expect(second.newAccessKeyId).not.toBe(first.newAccessKeyId);
    expect(second.notes.find((note) => note.startsWith("Repositories added since"))).toContain(
      "acme/docs (1)",
    );
    expect(second.alerts).toEqual([
      expect.stringContaining(
        "The selections of the repository list s3://test-bucket/repos.json found 1 repository that they did not find at the last rotation",
      ),
    ]);
    expect(second.alerts[0]).toContain("acme/docs");
  });

  it("keeps the set a rotation began with over all its invocations: a repository tagged meanwhile waits for the next one", async () => {
    // Prepare: the first invocation stops after checking one repository (its deadline has passed).
    const world = selectionWorld();
    const started = await run(world, { deadline: new Date(0) });
    world.tag("docs");

    // Act
    const finished = await run(world);

    // Assess
    expect(started.status).toBe("InProgress");
    expect(finished.status).toBe("Succeeded");
    expect(world.github.value("acme/web", KEY_ID)).toBe(finished.newAccessKeyId);
    expect(world.github.value("acme/docs", KEY_ID)).toBeUndefined();
    expect(
      finished.notes.find((note) => note.startsWith("Selected repositories: the set found")),
    ).toBeDefined();
    expect(world.finder.calls).toEqual(["acme topic aws"]);
  });

  it("gives a repository listed by name its own entry's settings, and writes it once", async () => {
    // Prepare
    const world = selectionWorld();
    world.list.targets = [{ ...repositoryTarget({ owner: "acme", name: "web" }), keyIdAs: "variable" }];

    // Act
    const result = await run(world);

    // Assess
    expect(result.status).toBe("Succeeded");
    expect(world.github.variable("acme/web", KEY_ID)).toBe(result.newAccessKeyId);
    expect(world.github.value("acme/app", KEY_ID)).toBe(result.newAccessKeyId);
    expect(result.repos.map((r) => r.repo)).toEqual(["acme/web", "acme/app"]);
    expect(result.notes).toContain(
      "Repositories of acme with topic aws: 2 (acme/app, acme/web), 1 of them listed by name already.",
    );
  });

  it("goes on when a selection finds nothing, and warns that its topic is probably misspelt", async () => {
    // Prepare
    const world = selectionWorld();
    world.list.targets = [repositoryTarget({ owner: "acme", name: "docs" })];
    world.list.selections = [{ ...AWS, by: { topic: "asw" } }];

    // Act
    const result = await run(world);

    // Assess
    expect(result.status).toBe("Succeeded");
    expect(result.summary).toContain("Warning: found no repositories of acme with topic asw.");
    expect(world.github.value("acme/docs", KEY_ID)).toBe(result.newAccessKeyId);
  });

  it("keeps an adopted previous key active while a repository that gained the topic since may hold it (R1)", async () => {
    // Prepare
    const world = selectionWorld(0);
    const old = world.iam.addKey("Active");
    await run(world);
    world.tag("docs");
    world.clock.advance(60_000);

    // Act
    const retired = answerOf(world.clock, await retire(world.deps, { owner: "exec-1", dryRun: false }));

    // Assess
    expect(retired.status).toBe("Failed");
    expect(retired.summary).toContain(`the previous key ${old.accessKeyId} may still be used by acme/docs`);
    expect(world.iam.status(old.accessKeyId)).toBe("Active");
  });

  it("refuses a list with selections when the run has no way to resolve them, before any change", async () => {
    // Prepare
    const world = selectionWorld();
    const { selection: _, ...withoutSelection } = world.deps;

    // Act
    const outcome = await rotate(withoutSelection, {
      owner: "exec-1",
      dryRun: false,
      replaceOlderKey: false,
      deadline: FAR_FUTURE,
    });

    // Assess
    expect(outcome.status).toBe("Failed");
    expect(outcome.error?.message).toContain(
      "selects repositories by topic or property (repositories of acme with topic aws)",
    );
    expect(world.iam.keys).toEqual([]);
  });
});
