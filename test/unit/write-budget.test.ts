import { describe, expect, it } from "vitest";
import type { SecretValue } from "../../src/domain/secret-value.ts";
import type { Target } from "../../src/domain/target.ts";
import { type WriteLimits, WritePacer } from "../../src/github/write-pacer.ts";
import { parseProgressDocument, serializeProgressDocument } from "../../src/lifecycle/progress-document.ts";
import { rotate } from "../../src/lifecycle/rotate.ts";
import type { RotationDeps } from "../../src/lifecycle/rotation-context.ts";
import type { RotationState } from "../../src/lifecycle/state.ts";
import { emptyProgress } from "../../src/lifecycle/state-parts.ts";
import type { RepoPublicKey, SecretsTarget } from "../../src/ports.ts";
import { answerOf, type FakeWorld, fakeWorld, type TestAnswer } from "../support/fakes.ts";

const MINUTE = 60_000;
const SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:state";
const HOUR = 60 * MINUTE;
/** A Lambda step's time for writing: the function keeps back a minute of its 290 s. */
const STEP_MS = 230_000;

/** GitHub's pace (a pair of writes every two seconds) with an hourly budget small enough for a unit test. */
const SIX_AN_HOUR: WriteLimits = {
  intervalMs: 1_000,
  burst: 2,
  windows: [{ limit: 6, periodMs: HOUR, label: "per hour" }],
  marginMs: 0,
};

interface Invocations {
  /** Runs one Rotate invocation the way the Lambda does: a fresh write budget and GitHub client each time. */
  invoke(): Promise<TestAnswer>;
  /** Fake time of every write GitHub received, in order. */
  readonly writeTimes: number[];
}

/**
 * Each invocation gets a new WritePacer (as each Lambda invocation does) that the fake GitHub waits for
 * before every write, as the real client does through plugin-throttling's write group.
 */
function invocations(world: FakeWorld, limits: WriteLimits): Invocations {
  const writeTimes: number[] = [];
  return {
    writeTimes,
    async invoke() {
      const pacer = new WritePacer({ clock: world.clock, limits });
      const github: SecretsTarget = {
        whoAmI: () => world.github.whoAmI(),
        checkWritable: (target: Target) => world.github.checkWritable(target),
        publicKey: (target: Target) => world.github.publicKey(target),
        secretUpdatedAt: (target: Target, name: string) => world.github.secretUpdatedAt(target, name),
        variableValue: (target: Target, name: string) => world.github.variableValue(target, name),
        async writeSecret(target: Target, key: RepoPublicKey, name: string, value: SecretValue) {
          await pacer.take();
          writeTimes.push(world.clock.now().getTime());
          await world.github.writeSecret(target, key, name, value);
        },
        async writeVariable(target: Target, name: string, value: string) {
          await pacer.take();
          writeTimes.push(world.clock.now().getTime());
          await world.github.writeVariable(target, name, value);
        },
      };
      const deps: RotationDeps = { ...world.deps, github, writeBudget: pacer };
      const outcome = await rotate(deps, {
        owner: "exec-1",
        dryRun: false,
        replaceOlderKey: false,
        deadline: new Date(world.clock.now().getTime() + STEP_MS),
      });
      return answerOf(world.clock, outcome);
    },
  };
}

function writesPerRepo(world: FakeWorld): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const write of world.github.writes) {
    const repo = write.slice(0, write.indexOf(":"));
    counts[repo] = (counts[repo] ?? 0) + 1;
  }
  return counts;
}

async function storedState(world: FakeWorld): Promise<RotationState> {
  const state = await world.state.load();
  if (!state) throw new Error("no state saved");
  return state;
}

describe("a rotation larger than GitHub's hourly write budget", () => {
  it("stops with a resume time, waits without failing, and finishes once the hour has passed", async () => {
    // Prepare: 5 repositories need 10 writes; the budget allows 6 an hour.
    const world = fakeWorld(5);
    const old = world.iam.addKey("Active");
    const runs = invocations(world, SIX_AN_HOUR);

    // Act
    const first = await runs.invoke();
    const early = await runs.invoke();
    world.clock.advance(Date.parse(first.resumeAt) - world.clock.now().getTime());
    const last = await runs.invoke();

    // Assess
    expect(first.status).toBe("InProgress");
    expect(first.repoCounts.done).toBe(3);
    expect(first.repoCounts.remaining).toBe(2);
    expect(first.summary).toMatch(
      /write budget \(6 writes per hour\) is used up; the rotation continues at /,
    );
    expect(first.progress).toMatch(
      /^3 of 5 repositories done, 2 remaining; GitHub's write budget is used up, resumes at \S+Z; estimated done at \S+Z$/,
    );
    expect(Date.parse(first.resumeAt) - (runs.writeTimes[0] as number)).toBeGreaterThanOrEqual(HOUR);
    expect(Date.parse(first.resumeAt) - (runs.writeTimes[0] as number)).toBeLessThan(HOUR + 2_000);
    expect(early).toMatchObject({ status: "InProgress", next: "again", resumeAt: first.resumeAt });
    expect(early.repoCounts.done).toBe(3);
    expect(last.status).toBe("Succeeded");
    expect(writesPerRepo(world)).toEqual({
      "acme/service-1": 2,
      "acme/service-2": 2,
      "acme/service-3": 2,
      "acme/service-4": 2,
      "acme/service-5": 2,
    });
    expect(maxInWindow(runs.writeTimes, HOUR)).toBeLessThanOrEqual(6);
    expect(world.iam.status(old.accessKeyId)).toBe("Active");
  });

  it("keeps the writes of the last hour in the state, so the next invocation counts them", async () => {
    // Prepare
    const world = fakeWorld(4);
    const runs = invocations(world, SIX_AN_HOUR);

    // Act
    await runs.invoke();
    const state = await storedState(world);

    // Assess
    expect(state.githubWrites).toHaveLength(6);
    expect(state.githubWrites?.map((s) => s * 1000)).toEqual(
      runs.writeTimes.map((t) => Math.ceil(t / 1000) * 1000),
    );
    expect(state.writing).toBeUndefined();
  });

  it("stores an hour of writes in a few bytes each in the progress object", () => {
    // Prepare: 500 writes, a pair every two seconds.
    const now = new Date("2026-01-01T01:00:00Z");
    const first = now.getTime() / 1000 - 3_000;
    const times = Array.from({ length: 500 }, (_, i) => first + 2 * Math.floor(i / 2));
    const empty = emptyProgress(now.toISOString());

    // Act
    const text = serializeProgressDocument({ ...empty, githubWrites: times }, SECRET);

    // Assess
    expect(parseProgressDocument(text, "test").progress.githubWrites).toEqual(times);
    expect(text.length - serializeProgressDocument(empty, SECRET).length).toBeLessThan(1_500);
  });

  it("estimates the end from the budget while the rotation is in progress", async () => {
    // Prepare: 8 repositories, 6 writes an hour: done in the third hour.
    const world = fakeWorld(8);
    const runs = invocations(world, SIX_AN_HOUR);

    // Act
    const first = await runs.invoke();

    // Assess
    const start = runs.writeTimes[0] as number;
    expect(Date.parse(first.eta) - start).toBeGreaterThan(2 * HOUR);
    expect(Date.parse(first.eta) - start).toBeLessThan(3 * HOUR);
  });
});

describe("a dry run", () => {
  it("says how long writing every repository takes within GitHub's write budget", async () => {
    // Prepare: 300 repositories, 600 writes: more than GitHub allows in an hour.
    const world = fakeWorld(300);
    const pacer = new WritePacer({ clock: world.clock });

    // Act
    const plan = await rotateAnswer(
      world,
      { ...world.deps, writeBudget: pacer },
      {
        owner: "exec-1",
        dryRun: true,
        replaceOlderKey: false,
        deadline: new Date(world.clock.now().getTime() + STEP_MS),
      },
    );

    // Assess
    expect(plan.status).toBe("Succeeded");
    expect(plan.summary).toMatch(
      /Writing 300 repositories takes at least 1 h 2 min within GitHub's write budget/,
    );
    expect(world.github.writes).toEqual([]);
  });
});

describe("resuming after a crash between writes and the batched save", () => {
  /** Lets the run die at the first save that would record a written repository. */
  function crashBeforeSavingHoldings(world: FakeWorld): void {
    const save = world.state.save.bind(world.state);
    let crashed = false;
    world.state.save = async (state) => {
      if (!crashed && Object.keys(state.holdings).length > 0) {
        crashed = true;
        throw new Error("injected crash before the holdings were saved");
      }
      await save(state);
    };
  }

  it("finds the repositories the dead run wrote by their updated_at and does not write them again", async () => {
    // Prepare: batches of two; the run dies when it would save the first batch.
    const world = fakeWorld(3);
    crashBeforeSavingHoldings(world);
    const crashed = await rotate(world.deps, {
      owner: "exec-1",
      dryRun: false,
      replaceOlderKey: false,
      deadline: new Date("2100-01-01T00:00:00Z"),
    });
    const afterCrash = await storedState(world);
    const writesBefore = world.github.writes.length;

    // Act
    const resumed = await rotateAnswer(world, world.deps, {
      owner: "exec-1",
      dryRun: false,
      replaceOlderKey: false,
      deadline: new Date("2100-01-01T00:00:00Z"),
    });

    // Assess
    expect(crashed.status).toBe("Failed");
    expect(afterCrash.holdings).toEqual({});
    expect(afterCrash.writing?.repos).toEqual(["acme/service-1", "acme/service-2"]);
    expect(resumed.status).toBe("Succeeded");
    expect(world.github.writes.slice(writesBefore)).toEqual([
      "acme/service-3:AWS_SECRET_ACCESS_KEY",
      "acme/service-3:AWS_ACCESS_KEY_ID",
    ]);
    expect(resumed.summary).toMatch(
      /acme\/service-1: already-current — holds \w+: written by an interrupted run/,
    );
    expect(Object.values(writesPerRepo(world))).toEqual([2, 2, 2]);
    expect((await storedState(world)).writing).toBeUndefined();
  });

  it("writes again a repository of the batch whose secrets GitHub reports older than the batch", async () => {
    // Prepare: as above, but one secret of service-2 looks as if written before the batch started.
    const world = fakeWorld(3);
    crashBeforeSavingHoldings(world);
    await rotate(world.deps, {
      owner: "exec-1",
      dryRun: false,
      replaceOlderKey: false,
      deadline: new Date("2100-01-01T00:00:00Z"),
    });
    const since = Date.parse((await storedState(world)).writing?.since ?? "");
    const updatedAt = world.github.repos.get("acme/service-2")?.updatedAt;
    updatedAt?.set("AWS_ACCESS_KEY_ID", new Date(since - 5_000));
    const writesBefore = world.github.writes.length;

    // Act
    const resumed = await rotate(world.deps, {
      owner: "exec-1",
      dryRun: false,
      replaceOlderKey: false,
      deadline: new Date("2100-01-01T00:00:00Z"),
    });

    // Assess
    expect(resumed.status).toBe("Succeeded");
    expect(world.github.writes.slice(writesBefore)).toEqual([
      "acme/service-2:AWS_SECRET_ACCESS_KEY",
      "acme/service-2:AWS_ACCESS_KEY_ID",
      "acme/service-3:AWS_SECRET_ACCESS_KEY",
      "acme/service-3:AWS_ACCESS_KEY_ID",
    ]);
  });

  it("reads only the public keys of the repositories a resumed invocation writes", async () => {
    // Prepare: the first invocation checks every repository (R5), then stops after two.
    const world = fakeWorld(4);
    await rotate(world.deps, {
      owner: "exec-1",
      dryRun: false,
      replaceOlderKey: false,
      deadline: new Date(world.clock.now().getTime() + 2_500),
    });
    const fetchesBefore = world.github.publicKeyFetches.length;

    // Act
    const resumed = await rotate(world.deps, {
      owner: "exec-1",
      dryRun: false,
      replaceOlderKey: false,
      deadline: new Date("2100-01-01T00:00:00Z"),
    });

    // Assess
    expect(resumed.status).toBe("Succeeded");
    expect(world.github.publicKeyFetches.slice(0, fetchesBefore)).toEqual([
      "acme/service-1",
      "acme/service-2",
      "acme/service-3",
      "acme/service-4",
    ]);
    expect(world.github.publicKeyFetches.slice(fetchesBefore)).toEqual(["acme/service-3", "acme/service-4"]);
  });

  it("checks nothing on GitHub when the previous invocation ended cleanly", async () => {
    // Prepare: the first invocation stops at its deadline after two repositories.
    const world = fakeWorld(4);
    const first = await rotate(world.deps, {
      owner: "exec-1",
      dryRun: false,
      replaceOlderKey: false,
      deadline: new Date(world.clock.now().getTime() + 2_500),
    });
    let checks = 0;
    const secretUpdatedAt = world.github.secretUpdatedAt.bind(world.github);
    world.github.secretUpdatedAt = async (repo, name) => {
      checks++;
      return secretUpdatedAt(repo, name);
    };

    // Act
    const second = await rotate(world.deps, {
      owner: "exec-1",
      dryRun: false,
      replaceOlderKey: false,
      deadline: new Date("2100-01-01T00:00:00Z"),
    });

    // Assess: only the two confirmations after each of the two writes left.
    expect(first.status).toBe("InProgress");
    expect(second.status).toBe("Succeeded");
    expect(checks).toBe(2 * 2);
  });
});

/** The most writes within any window of `periodMs` (a window is (t − period, t]). */
function maxInWindow(times: readonly number[], periodMs: number): number {
  let most = 0;
  let first = 0;
  for (let last = 0; last < times.length; last++) {
    while ((times[first] as number) <= (times[last] as number) - periodMs) first++;
    most = Math.max(most, last - first + 1);
  }
  return most;
}

/** One Rotate invocation rendered as the handler renders it. */
async function rotateAnswer(
  world: FakeWorld,
  deps: RotationDeps,
  options: Parameters<typeof rotate>[1],
): Promise<TestAnswer> {
  return answerOf(world.clock, await rotate(deps, options));
}
