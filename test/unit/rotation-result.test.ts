import { describe, expect, it } from "vitest";
import { OutcomeRecorder } from "../../src/lifecycle/outcome.ts";
import { retire } from "../../src/lifecycle/retire.ts";
import { rotate } from "../../src/lifecycle/rotate.ts";
import { rotationResult } from "../../src/lifecycle/rotation-result.ts";
import { withRunLock } from "../../src/lifecycle/with-run-lock.ts";
import { answerOf, type FakeWorld, fakeWorld } from "../support/fakes.ts";

const FAR_FUTURE = new Date("2100-01-01T00:00:00Z");

async function rotateOnce(world: FakeWorld, deadline = FAR_FUTURE) {
  return answerOf(
    world.clock,
    await rotate(world.deps, { owner: "exec-1", dryRun: false, replaceOlderKey: false, deadline }),
  );
}

async function result(world: FakeWorld, dryRun = false, owner = "exec-1") {
  return answerOf(world.clock, await rotationResult(world.deps, { owner, dryRun }));
}

describe("what the runbook does after the Rotate loop", () => {
  it("retires after the grace period when the rotation replaced a key", async () => {
    const world = fakeWorld(2, 30);
    world.iam.addKey("Active");
    const rotated = await rotateOnce(world);

    const after = await result(world);

    expect(after.next).toBe("retire");
    expect(after.retireAfter).toBe(rotated.retireAfter);
    expect(after.newAccessKeyId).toBe(rotated.newAccessKeyId);
    expect(after.summary).toContain("Rotation Succeeded");
  });

  it("ends when the first key was written and there is nothing to retire", async () => {
    const world = fakeWorld(2);
    await rotateOnce(world);

    const after = await result(world);

    expect(after.next).toBe("done");
  });

  it("says the rotation continues at the next run and frees the lock when a key is still being written", async () => {
    const world = fakeWorld(4);
    world.iam.addKey("Active");
    // A deadline right away: the key is created and verified, the step ends before every repository is written.
    const unfinished = await rotateOnce(world, new Date(world.clock.now().getTime() + 1));
    await world.lock.acquire("exec-1", world.clock.now(), 60_000);

    const after = await result(world);

    expect(unfinished.next).toBe("again");
    expect(after.next).toBe("continues");
    expect(after.status).toBe("Succeeded");
    expect(after.summary).toContain("continues at the next run");
    expect(after.repoCounts.remaining).toBe(unfinished.repoCounts.remaining);
    expect(after.repoCounts.remaining).toBeGreaterThan(0);
    expect(world.lock.lease).toBeUndefined();
  });

  it("says the rotation continues, not that it succeeded, when the loop ends while a long list is still being checked", async () => {
    // Prepare: a deadline already past, so each Rotate checks one repository and no key is created yet.
    const world = fakeWorld(5);
    const old = world.iam.addKey("Active");
    const checking = await rotateOnce(world, new Date(world.clock.now().getTime() - 1));
    await rotateOnce(world, new Date(world.clock.now().getTime() - 1));

    // Act
    const after = await result(world);

    // Assess
    expect(checking.next).toBe("again");
    expect(checking.progress).toBe("4 repositories not checked yet");
    expect(after.next).toBe("continues");
    expect(after.status).toBe("Succeeded");
    expect(after.summary).toContain("Rotation continues at the next run: 2 of 5 listed repositories checked");
    expect(after.summary).not.toContain("Rotation Succeeded");
    expect(after.repoCounts.remaining).toBe(3);
    expect(world.iam.keys.map((k) => k.accessKeyId)).toEqual([old.accessKeyId]);
    expect(world.lock.lease).toBeUndefined();
  });

  it("says the next rotation continues when the loop ends during its checks, once the last old key's grace period is over", async () => {
    // Prepare: a finished rotation whose old key waits for Retire; after its grace period, the next rotation's checks
    // outlast the loop (a deadline already past: one repository a Rotate).
    const world = fakeWorld(4, 30);
    world.iam.addKey("Active");
    await rotateOnce(world);
    world.clock.advance(31 * 60_000);
    const past = () => new Date(world.clock.now().getTime() - 1);
    const checking = await rotateOnce(world, past());
    await rotateOnce(world, past());

    // Act
    const after = await result(world);

    // Assess: not "Rotation Succeeded" for a rotation that has not created its key; the lease is given up.
    expect(checking.next).toBe("again");
    expect((await world.state.load())?.previous).toBeDefined();
    expect(after.next).toBe("continues");
    expect(after.summary).toContain("Rotation continues at the next run: 2 of 4 listed repositories checked");
    expect(after.summary).not.toContain("Rotation Succeeded");
    expect(after.repoCounts.remaining).toBe(2);
    expect(world.iam.keys).toHaveLength(2);
    expect(world.lock.lease).toBeUndefined();
  });

  it("lets a dry run pass through the wait and Retire at once, changing nothing", async () => {
    const world = fakeWorld(2);
    const old = world.iam.addKey("Active");

    const after = await result(world, true);
    const retired = answerOf(world.clock, await retire(world.deps, { owner: "exec-1", dryRun: true }));

    expect(after.next).toBe("retire");
    expect(Date.parse(after.retireAfter)).toBeLessThanOrEqual(world.clock.now().getTime() + 1000);
    expect(retired.next).toBe("done");
    expect(world.iam.status(old.accessKeyId)).toBe("Active");
    expect(world.github.writes).toEqual([]);
  });

  it("says what a dry-run Retire would deactivate after the grace period, and deactivates nothing", async () => {
    const world = fakeWorld(1, 30);
    const old = world.iam.addKey("Active");
    await rotateOnce(world);
    world.clock.advance(31 * 60_000);

    const retired = answerOf(world.clock, await retire(world.deps, { owner: "exec-2", dryRun: true }));

    expect(retired.summary).toContain(`would have deactivated the previous key ${old.accessKeyId}`);
    expect(world.iam.status(old.accessKeyId)).toBe("Active");
  });
});

describe("the rotation lock", () => {
  it("is released when taking it took effect but its answer was lost", async () => {
    const world = fakeWorld(1);
    const acquire = world.lock.acquire.bind(world.lock);
    world.lock.acquire = async (owner, now, ttl) => {
      await acquire(owner, now, ttl);
      throw new Error("connection reset after the lease was written");
    };

    const outcome = await withRunLock(world.deps, "exec-1", "rotate", async () =>
      new OutcomeRecorder("rotate", false).finish("Succeeded", "unreachable"),
    );

    expect(outcome.status).toBe("Failed");
    expect(world.lock.lease).toBeUndefined();
  });
});
