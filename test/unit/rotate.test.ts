import { describe, expect, it } from "vitest";
import { targetLabel } from "../../src/domain/target.ts";
import { isoSeconds } from "../../src/lifecycle/outcome.ts";
import { retire } from "../../src/lifecycle/retire.ts";
import { rotate } from "../../src/lifecycle/rotate.ts";
import { answerOf, type FakeWorld, fakeWorld, type TestAnswer } from "../support/fakes.ts";

const FAR_FUTURE = new Date("2100-01-01T00:00:00Z");

async function run(
  world: FakeWorld,
  options: { dryRun?: boolean; replaceOlderKey?: boolean; deadline?: Date; owner?: string } = {},
): Promise<TestAnswer> {
  const outcome = await rotate(world.deps, {
    owner: options.owner ?? "exec-1",
    dryRun: options.dryRun ?? false,
    replaceOlderKey: options.replaceOlderKey ?? false,
    deadline: options.deadline ?? FAR_FUTURE,
  });
  return answerOf(world.clock, outcome);
}

async function runRetire(world: FakeWorld, owner: string): Promise<TestAnswer> {
  return answerOf(world.clock, await retire(world.deps, { owner, dryRun: false }));
}

/** R1 at every instant: each repo's key-ID secret names a key that is Active in IAM. */
function watchR1(world: FakeWorld): string[] {
  const violations: string[] = [];
  world.github.onWrite = () => {
    for (const [label] of world.github.repos) {
      const id = world.github.value(label, "AWS_ACCESS_KEY_ID");
      if (id !== undefined && world.iam.status(id) !== "Active") violations.push(`${label} holds ${id}`);
    }
  };
  return violations;
}

function expectEveryRepoHolds(world: FakeWorld, accessKeyId: string): void {
  for (const [label] of world.github.repos) {
    expect(world.github.value(label, "AWS_ACCESS_KEY_ID"), label).toBe(accessKeyId);
    expect(world.github.value(label, "AWS_SECRET_ACCESS_KEY"), label).toBe(world.iam.secretOf(accessKeyId));
  }
}

function expectNoSecretIn(world: FakeWorld, ...results: TestAnswer[]): void {
  const text = JSON.stringify(results) + world.logs.join("\n");
  for (const key of world.iam.keys) expect(text).not.toContain(key.secret);
}

describe("rotate from the possible start states", () => {
  it("creates a key and writes it to every repository when the user has no key", async () => {
    const world = fakeWorld(3);
    const r1 = watchR1(world);

    const result = await run(world);

    expect(result.status).toBe("Succeeded");
    expect(world.iam.keys).toHaveLength(1);
    expectEveryRepoHolds(world, result.newAccessKeyId);
    expect(result.repoCounts.done).toBe(3);
    expect(result.oldAccessKeyId).toBe("none");
    expect(result.retireAfter).toBe(isoSeconds(world.clock.now()));
    expect(r1).toEqual([]);
    expectNoSecretIn(world, result);
  });

  it("adopts one unmanaged active key as the old key and keeps it active through the grace period", async () => {
    const world = fakeWorld(2, 30);
    const old = world.iam.addKey("Active");
    const r1 = watchR1(world);

    const result = await run(world);

    expect(result.status).toBe("Succeeded");
    expect(result.oldAccessKeyId).toBe(old.accessKeyId);
    expect(world.iam.status(old.accessKeyId)).toBe("Active");
    expect(result.retireAfter).toBe(isoSeconds(new Date(world.clock.now().getTime() + 30 * 60_000)));
    expectEveryRepoHolds(world, result.newAccessKeyId);
    expect(result.summary).toContain("Adopted the existing active key");
    expect(r1).toEqual([]);
  });

  it("refuses two unmanaged active keys without changing anything", async () => {
    const world = fakeWorld(1);
    world.iam.addKey("Active", 2000);
    world.iam.addKey("Active", 1000);

    const result = await run(world);

    expect(result.status).toBe("Failed");
    expect(result.summary).toContain("two active access keys");
    expect(result.summary).toContain("ReplaceOlderKey=true");
    expect(world.iam.keys).toHaveLength(2);
    expect(world.iam.calls).not.toContain("delete");
    expect(world.github.writes).toEqual([]);
  });

  it("replaces the older of two active keys by creation date, not list order, when the user opts in", async () => {
    const world = fakeWorld(1);
    const newer = world.iam.addKey("Active", 1000);
    const older = world.iam.addKey("Active", 90_000_000);

    const result = await run(world, { replaceOlderKey: true });

    expect(result.status).toBe("Succeeded");
    expect(world.iam.status(older.accessKeyId)).toBe("absent");
    expect(world.iam.status(newer.accessKeyId)).toBe("Active");
    expect(result.oldAccessKeyId).toBe(newer.accessKeyId);
  });

  it("refuses a key created by hand next to the managed key", async () => {
    const world = fakeWorld(1);
    await run(world);
    world.iam.addKey("Active", 0);

    const result = await run(world);

    expect(result.status).toBe("Failed");
    expect(result.summary).toContain("created outside this tool");
    expect(world.iam.keys).toHaveLength(2);
  });
});

describe("grace period and retirement (R2)", () => {
  it("deactivates the old key only after the grace period, and deletes it at the next rotation", async () => {
    const world = fakeWorld(2, 60);
    const old = world.iam.addKey("Active");
    const first = await run(world);

    const early = await runRetire(world, "exec-1");
    expect(early.status).toBe("Succeeded");
    expect(world.iam.status(old.accessKeyId)).toBe("Active");

    world.clock.advance(61 * 60_000);
    const retired = await runRetire(world, "exec-1");
    expect(retired.status).toBe("Succeeded");
    expect(world.iam.status(old.accessKeyId)).toBe("Inactive");
    expect(world.iam.status(first.newAccessKeyId)).toBe("Active");

    const second = await run(world);
    expect(second.status).toBe("Succeeded");
    expect(world.iam.status(old.accessKeyId)).toBe("absent");
    expect(world.iam.keys.map((k) => k.status)).toEqual(["Active", "Active"]);
    expectEveryRepoHolds(world, second.newAccessKeyId);
  });

  it("does not rotate again while the previous key is still in its grace period", async () => {
    const world = fakeWorld(1, 60);
    world.iam.addKey("Active");
    await run(world);
    const keysBefore = world.iam.keys.map((k) => `${k.accessKeyId}:${k.status}`);

    const result = await run(world, { owner: "exec-2" });

    expect(result.summary).toContain("grace period");
    expect(world.iam.keys.map((k) => `${k.accessKeyId}:${k.status}`)).toEqual(keysBefore);
  });

  it("hands the retirement on when re-run after a run that died once every repository held the new key", async () => {
    // A run killed after saving the promotion never answered, so its runbook never reached Retire.
    const world = fakeWorld(2, 60);
    const old = world.iam.addKey("Active");
    const first = await run(world);
    world.clock.advance(11 * 60_000);

    const rerun = await run(world, { owner: "exec-2" });

    expect(rerun.status).toBe("Succeeded");
    expect(rerun.newAccessKeyId).toBe(first.newAccessKeyId);
    expect(rerun.oldAccessKeyId).toBe(old.accessKeyId);
    expect(rerun.retireAfter).toBe(first.retireAfter);
    expect(world.iam.keys.map((k) => k.status)).toEqual(["Active", "Active"]);
    expectEveryRepoHolds(world, first.newAccessKeyId);
    world.clock.advance(50 * 60_000);
    expect((await runRetire(world, "exec-2")).status).toBe("Succeeded");
    expect(world.iam.status(old.accessKeyId)).toBe("Inactive");
  });

  it("writes the current key to a repository added after the rotation before it retires the old key", async () => {
    const world = fakeWorld(1, 0);
    world.iam.addKey("Active");
    const first = await run(world);
    const added = world.github.addRepo("acme", "late-comer");
    world.config.text = JSON.stringify({
      Repos: [...world.repos, added].map((r) => ({ Owner: r.owner, Name: r.name })),
    });

    const blocked = await runRetire(world, "exec-1");
    expect(blocked.status).toBe("Failed");
    expect(blocked.summary).toContain("acme/late-comer");

    const second = await run(world);
    expect(second.status).toBe("Succeeded");
    expect(second.summary).toContain(first.newAccessKeyId);
    expectEveryRepoHolds(world, second.newAccessKeyId);
  });
});

describe("dry run", () => {
  it("shows the plan and changes nothing", async () => {
    const world = fakeWorld(2);
    world.iam.addKey("Active");

    const result = await run(world, { dryRun: true });

    expect(result.status).toBe("Succeeded");
    expect(result.dryRun).toBe(true);
    expect(result.summary).toContain("Would create a new access key");
    expect(result.repos.map((r) => r.result)).toEqual(["would-write", "would-write"]);
    expect(world.iam.calls.filter((c) => c !== "list" && c !== "checkUser")).toEqual([]);
    expect(world.github.writes).toEqual([]);
    expect(world.state.saves).toBe(0);
  });

  it("says it would adopt the existing key, since a dry run adopts nothing", async () => {
    // Prepare
    const world = fakeWorld(1);
    const old = world.iam.addKey("Active");

    // Act
    const result = await run(world, { dryRun: true });

    // Assess
    expect(result.summary).toContain(`Would adopt the existing active key ${old.accessKeyId} as the old key`);
    expect(result.summary).not.toContain("Adopted the existing active key");
    expect(world.state.saves).toBe(0);
  });
});

describe("preflight before any IAM change (R5)", () => {
  it("fails on a missing repos.json without calling IAM", async () => {
    const world = fakeWorld(1);
    world.config.text = undefined;

    const result = await run(world);

    expect(result.status).toBe("Failed");
    expect(result.summary).toContain("s3://test-bucket/repos.json");
    expect(result.summary).toContain("does not exist");
    expect(world.iam.calls).toEqual([]);
  });

  it("reports where repos.json stops being JSON", async () => {
    const world = fakeWorld(1);
    world.config.text = '{"Repos": [\n  {"Owner": "acme", "Name": "a",}\n]}';

    const result = await run(world);

    expect(result.status).toBe("Failed");
    expect(result.summary).toMatch(/line 2, column \d+/);
    expect(world.iam.calls).toEqual([]);
  });

  it("names every repository GitHub cannot find and changes nothing", async () => {
    const world = fakeWorld(1);
    world.config.text = JSON.stringify({
      Repos: [
        { Owner: "acme", Name: "service-1" },
        { Owner: "acme", Name: "ghost" },
        { Owner: "acme", Name: "phantom" },
      ],
    });

    const result = await run(world);

    expect(result.status).toBe("Failed");
    expect(result.repos.filter((r) => r.result === "failed").map((r) => r.repo)).toEqual([
      "acme/ghost",
      "acme/phantom",
    ]);
    expect(result.summary).toContain("Nothing was changed");
    expect(world.iam.calls).toEqual([]);
  });

  it("fails on a rejected token before any IAM change", async () => {
    const world = fakeWorld(1);
    world.github.tokenValid = false;

    const result = await run(world);

    expect(result.status).toBe("Failed");
    expect(result.summary).toContain("401");
    expect(world.iam.calls).toEqual([]);
  });

  it("fails when the IAM user does not exist, before any key change", async () => {
    const world = fakeWorld(1);
    world.iam.userExists = false;

    const result = await run(world);

    expect(result.status).toBe("Failed");
    expect(result.summary).toContain("does not exist");
    expect(world.iam.calls).toEqual(["checkUser"]);
  });
});

describe("a repository that cannot be written (R5) and resuming", () => {
  it("fails naming the repository, keeps the old key active, and the next run writes only what is left", async () => {
    const world = fakeWorld(3);
    const old = world.iam.addKey("Active");
    world.github.failingWrites.add("acme/service-2");
    const r1 = watchR1(world);

    const failed = await run(world);

    expect(failed.status).toBe("Failed");
    expect(failed.summary).toContain("acme/service-2");
    expect(failed.summary).toContain("Grant the token access.");
    expect(world.iam.status(old.accessKeyId)).toBe("Active");
    expect(world.iam.keys).toHaveLength(2);

    world.github.failingWrites.clear();
    const writesBefore = world.github.writes.length;
    const resumed = await run(world);

    expect(resumed.status).toBe("Succeeded");
    expect(resumed.newAccessKeyId).toBe(failed.newAccessKeyId);
    expect(world.github.writes.slice(writesBefore)).toEqual([
      "acme/service-2:AWS_SECRET_ACCESS_KEY",
      "acme/service-2:AWS_ACCESS_KEY_ID",
    ]);
    expect(world.iam.keys).toHaveLength(2);
    expectEveryRepoHolds(world, resumed.newAccessKeyId);
    expect(r1).toEqual([]);
  });

  it("stops at the step deadline with InProgress and continues on the next invocation", async () => {
    const world = fakeWorld(4);
    const deadline = new Date(world.clock.now().getTime() + 2500);

    const partial = await run(world, { deadline });

    expect(partial.status).toBe("InProgress");
    expect(partial.repoCounts.done).toBe(2);
    expect(partial.repoCounts.remaining).toBe(2);
    const writesBefore = world.github.writes.length;
    const done = await run(world);
    expect(done.status).toBe("Succeeded");
    expect(world.github.writes.length - writesBefore).toBe(4);
    expect(world.iam.keys).toHaveLength(1);
    expectEveryRepoHolds(world, done.newAccessKeyId);
  });

  it("writes at least one repository in a step that has no time left, so the loop always makes progress", async () => {
    const world = fakeWorld(2);
    // Both checks start at once and take a second each: preflight passes, then the step's time is over.
    const publicKey = world.github.publicKey.bind(world.github);
    world.github.publicKey = async (repo) => {
      world.clock.advance(1000);
      return publicKey(repo);
    };

    const result = await run(world, { deadline: new Date(world.clock.now().getTime() + 500) });

    expect(result.status).toBe("InProgress");
    expect(result.repoCounts).toMatchObject({ done: 1, remaining: 1 });
    expect((await run(world)).status).toBe("Succeeded");
    expect(world.iam.keys).toHaveLength(1);
  });
});

describe("a step with no time at all", () => {
  it("still checks one repository, so the loop always makes progress, and changes nothing yet", async () => {
    const world = fakeWorld(5);

    const first = await run(world, { deadline: world.clock.now() });

    expect(first.status).toBe("InProgress");
    expect(first.summary).toContain("1 of 5 checked");
    expect(world.iam.keys).toHaveLength(0);
    expect((await run(world)).status).toBe("Succeeded");
  });
});

describe("verifying the new key", () => {
  it("retries STS with back-off while IAM propagates the key", async () => {
    const world = fakeWorld(1);
    world.probe.notYetPropagated = 3;

    const result = await run(world);

    expect(result.status).toBe("Succeeded");
    expect(world.clock.sleeps).toEqual([1000, 2000, 4000]);
  });

  it("fails without writing any repository when the key never verifies, and resumes with the same key", async () => {
    const world = fakeWorld(1);
    world.probe.notYetPropagated = 5;

    const failed = await run(world);
    expect(failed.status).toBe("Failed");
    expect(failed.summary).toContain("not accepted by STS");
    expect(world.github.writes).toEqual([]);

    const resumed = await run(world);
    expect(resumed.status).toBe("Succeeded");
    expect(resumed.newAccessKeyId).toBe(failed.newAccessKeyId);
    expect(world.iam.keys).toHaveLength(1);
  });
});

describe("crash safety (R3)", () => {
  it("deletes the key of a run that crashed before saving it, and never holds three keys", async () => {
    const world = fakeWorld(2);
    const old = world.iam.addKey("Active");
    world.iam.crashAfter = "create";

    const crashed = await run(world);
    expect(crashed.status).toBe("Failed");
    expect(world.iam.keys).toHaveLength(2);

    const resumed = await run(world);

    expect(resumed.status).toBe("Succeeded");
    expect(resumed.summary).toContain("stopped before saving it");
    expect(world.iam.keys).toHaveLength(2);
    expect(world.iam.status(old.accessKeyId)).toBe("Active");
    expectEveryRepoHolds(world, resumed.newAccessKeyId);
  });

  it("converges to the fault-free result whichever state save the run dies at", async () => {
    const reference = fakeWorld(3);
    reference.iam.addKey("Active");
    await run(reference);
    const savesInCleanRun = reference.state.saves;

    for (let crashAt = 1; crashAt <= savesInCleanRun; crashAt++) {
      const world = fakeWorld(3);
      const old = world.iam.addKey("Active");
      const r1 = watchR1(world);
      world.state.crashOnSave = crashAt;

      let result = await run(world);
      let reruns = 0;
      while (result.status !== "Succeeded" && reruns < 3) {
        expect(world.iam.keys.length).toBeLessThanOrEqual(2);
        result = await run(world);
        reruns++;
      }

      expect(result.status, `crash at save ${crashAt}`).toBe("Succeeded");
      expect(world.iam.keys).toHaveLength(2);
      expect(world.iam.status(old.accessKeyId)).toBe("Active");
      expectEveryRepoHolds(world, result.newAccessKeyId);
      expect(r1).toEqual([]);
    }
  });
});

describe("two rotations at once", () => {
  it("stops a second execution while the first holds the lock, and lets it run once the first is done", async () => {
    const world = fakeWorld(3);
    const partial = await run(world, {
      owner: "scheduled",
      deadline: new Date(world.clock.now().getTime() + 1),
    });
    expect(partial.status).toBe("InProgress");

    const manual = await run(world, { owner: "manual" });

    expect(manual.status).toBe("Failed");
    expect(manual.summary).toContain(`Another rotation is in progress (execution "scheduled"`);
    expect(world.iam.keys).toHaveLength(1);

    const finished = await run(world, { owner: "scheduled" });
    expect(finished.status).toBe("Succeeded");
    expect(world.lock.lease).toBeUndefined();
  });

  it("takes over the lock of a crashed run once it has expired", async () => {
    const world = fakeWorld(1);
    await world.lock.acquire("crashed", world.clock.now(), 600_000);

    const blocked = await run(world, { owner: "next" });
    world.clock.advance(600_001);
    const proceeds = await run(world, { owner: "next" });

    expect(blocked.status).toBe("Failed");
    expect(proceeds.status).toBe("Succeeded");
  });

  it("lets a dry run read the plan while a rotation holds the lock", async () => {
    const world = fakeWorld(1);
    await world.lock.acquire("scheduled", world.clock.now(), 600_000);

    const result = await run(world, { owner: "manual", dryRun: true });

    expect(result.status).toBe("Succeeded");
  });
});

describe("a list replaced by another one", () => {
  it("rotates 380 repositories, then 380 others twice, keeping the secret small and pruning the first 380", async () => {
    // Prepare: the reproduction of issue 7 — before the state was split, its secret outgrew 64 KB here.
    const world = fakeWorld(0);
    const names = (prefix: string) =>
      Array.from({ length: 380 }, (_, i) =>
        world.github.addRepo("a-rather-long-organization-name", `${prefix}-${i}`),
      );
    const listOf = (repos: readonly { owner: string; name: string }[]) =>
      JSON.stringify({ Repos: repos.map((r) => ({ Owner: r.owner, Name: r.name })) });
    const first = names("first-service");
    const second = names("second-service");
    world.iam.addKey("Active");
    world.config.text = listOf(first);

    // Act
    const one = await run(world);
    world.clock.advance(2 * 60 * 60_000);
    world.config.text = listOf(second);
    const two = await run(world);
    world.clock.advance(2 * 60 * 60_000);
    const three = await run(world);

    // Assess
    expect([one.status, two.status, three.status]).toEqual(["Succeeded", "Succeeded", "Succeeded"]);
    expect(world.iam.keys).toHaveLength(2);
    expect(Buffer.byteLength(world.state.secret.text ?? "", "utf8")).toBeLessThan(2_000);
    const holdings = Object.keys((await world.state.load())?.holdings ?? {});
    expect(holdings).toHaveLength(380);
    expect(holdings.every((slug) => slug.includes("/second-service-"))).toBe(true);
  });

  it("keeps the holdings of an unlisted repository while it may still hold a live key", async () => {
    // Prepare
    const world = fakeWorld(2);
    world.iam.addKey("Active");
    const one = await run(world);
    const [kept] = world.repos;
    world.config.text = JSON.stringify({ Repos: [{ Owner: "acme", Name: "service-2" }] });

    // Act
    world.clock.advance(2 * 60 * 60_000);
    await run(world);

    // Assess: service-1 still holds the key that is now previous (in its grace period until retired).
    const state = await world.state.load();
    expect(state?.holdings[`${kept?.owner}/${kept?.name}`]?.accessKeyId).toBe(one.newAccessKeyId);
    expect(state?.previous?.accessKeyId).toBe(one.newAccessKeyId);
  });
});

describe("a list of 10,000 repositories", () => {
  it("rotates all of them: nothing in the list, the preflight or the state caps a stack below 10,000", async () => {
    // Prepare: holdings saved every 1,000 repositories, to keep this test fast (the batch size is not a limit).
    const world = fakeWorld(10_000);
    const deps = { ...world.deps, settings: { ...world.deps.settings, saveEvery: 1_000 } };
    world.iam.addKey("Active");

    // Act
    const outcome = await rotate(deps, {
      owner: "exec-1",
      dryRun: false,
      replaceOlderKey: false,
      deadline: FAR_FUTURE,
    });

    // Assess
    const result = answerOf(world.clock, outcome);
    expect(result.status).toBe("Succeeded");
    expect(result.repoCounts).toMatchObject({ total: 10_000, done: 10_000, failed: 0, remaining: 0 });
    expect(Object.keys((await world.state.load())?.holdings ?? {})).toHaveLength(10_000);
    expect(world.state.secret.writes).toBe(3);
  });
});

describe("a list too long to check in one step", () => {
  it("checks the repositories over several invocations, keeps what passed, and creates the key only after all", async () => {
    // Prepare: every check takes a second; the first step has four seconds.
    const world = fakeWorld(12);
    const old = world.iam.addKey("Active");
    const checkWritable = world.github.checkWritable.bind(world.github);
    const checks: string[] = [];
    world.github.checkWritable = async (repo) => {
      checks.push(targetLabel(repo));
      world.clock.advance(1000);
      return checkWritable(repo);
    };

    // Act
    const first = await run(world, { deadline: new Date(world.clock.now().getTime() + 4000) });
    const checkedFirst = checks.length;
    const keysAfterFirst = world.iam.keys.map((k) => k.accessKeyId);
    const second = await run(world);

    // Assess
    expect(first.status).toBe("InProgress");
    expect(first.next).toBe("again");
    expect(first.summary).toMatch(
      /checking the listed repositories before creating a key\): \d+ of 12 checked/,
    );
    expect(checkedFirst).toBeGreaterThan(0);
    expect(checkedFirst).toBeLessThan(12);
    expect(keysAfterFirst).toEqual([old.accessKeyId]);
    expect(second.status).toBe("Succeeded");
    expect(new Set(checks).size).toBe(12);
    expect(checks).toHaveLength(12);
    expectEveryRepoHolds(world, second.newAccessKeyId);
    expect((await world.state.load())?.checked).toBeUndefined();
  });

  it("says in a dry run how many repositories it could check within the step", async () => {
    const world = fakeWorld(6);
    const checkWritable = world.github.checkWritable.bind(world.github);
    world.github.checkWritable = async (repo) => {
      world.clock.advance(1000);
      return checkWritable(repo);
    };

    const plan = await run(world, { dryRun: true, deadline: new Date(world.clock.now().getTime() + 2000) });

    expect(plan.status).toBe("Succeeded");
    expect(plan.summary).toMatch(/Checked \d of 6 listed repositories within this step's time/);
    expect(world.github.writes).toEqual([]);
  });
});

describe("a preflight that fails part-way", () => {
  it("keeps the repositories that passed, so the rerun after the fix checks only the rest", async () => {
    const world = fakeWorld(3);
    world.github.archived.add("acme/service-3");
    const checkWritable = world.github.checkWritable.bind(world.github);
    const checks: string[] = [];
    world.github.checkWritable = async (repo) => {
      checks.push(targetLabel(repo));
      return checkWritable(repo);
    };

    const failed = await run(world);
    world.github.archived.delete("acme/service-3");
    const rerun = await run(world);

    expect(failed.status).toBe("Failed");
    expect(world.iam.keys.length).toBe(1);
    expect(rerun.status).toBe("Succeeded");
    expect(checks).toEqual(["acme/service-1", "acme/service-2", "acme/service-3", "acme/service-3"]);
  });
});
