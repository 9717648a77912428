import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { HandlerEvent, type StartedBy } from "../../src/handler-contract.ts";
import { retire } from "../../src/lifecycle/retire.ts";
import { rotate } from "../../src/lifecycle/rotate.ts";
import { LOCK_TTL_MS } from "../../src/lifecycle/rotation-context.ts";
import { startRotation } from "../../src/lifecycle/start-rotation.ts";
import type { LockHolder, RunLock } from "../../src/ports.ts";
import { answerOf, FakeClock, type FakeWorld, fakeWorld, MemoryRunLock } from "../support/fakes.ts";

const FAR_FUTURE = new Date("2100-01-01T00:00:00Z");
const ROTATING = "4105a4fc-f944-11e6-9d32-0a1b2c3d4e5f";
const THIS_RUN = "0c5d2b0e-1b2f-4c7e-9f6a-1a2b3c4d5e6f";

function lockDeps(lock: RunLock, clock = new FakeClock()) {
  const logs: string[] = [];
  return { deps: { lock, clock, log: (line: string) => logs.push(line) }, logs, clock };
}

/** A lock whose holder is `ROTATING`, taken now for the usual lease. */
async function heldLock(clock: FakeClock): Promise<MemoryRunLock> {
  const lock = new MemoryRunLock();
  await lock.acquire(ROTATING, clock.now(), LOCK_TTL_MS);
  return lock;
}

async function start(
  lock: RunLock,
  clock: FakeClock,
  options: { startedBy: StartedBy; dryRun?: boolean; owner?: string },
) {
  const { deps } = lockDeps(lock, clock);
  const outcome = await startRotation(deps, {
    owner: options.owner ?? THIS_RUN,
    dryRun: options.dryRun ?? false,
    startedBy: options.startedBy,
  });
  return answerOf(clock, outcome);
}

describe("the Rotate runbook's Start step", () => {
  it("takes the free lock for this execution and goes on to rotate", async () => {
    // Prepare
    const clock = new FakeClock();
    const lock = new MemoryRunLock();

    // Act
    const answer = await start(lock, clock, { startedBy: "schedule" });

    // Assess
    expect(answer).toMatchObject({ action: "rotate-start", status: "Succeeded", next: "rotate" });
    expect(lock.lease?.owner).toBe(THIS_RUN);
  });

  it("leaves the rotation to the execution holding the lock when the schedule started it, changing nothing", async () => {
    // Prepare
    const clock = new FakeClock();
    const lock = await heldLock(clock);
    const leaseBefore = { ...lock.lease };
    clock.advance(6 * 60 * 60_000 - LOCK_TTL_MS); // the holder renewed it since
    await lock.acquire(ROTATING, clock.now(), LOCK_TTL_MS);
    const renewed = { ...lock.lease };

    // Act
    const answer = await start(lock, clock, { startedBy: "schedule" });

    // Assess
    expect(answer.status).toBe("Succeeded");
    expect(answer.next).toBe("leave");
    expect(answer.summary).toContain(
      `Left the rotation to execution "${ROTATING}", in progress since "${leaseBefore.acquiredAt}"; this scheduled run changed nothing.`,
    );
    expect(answer.summary).toContain(`held by execution "${ROTATING}" until "${renewed.expiresAt}"`);
    expect(lock.lease).toEqual(renewed);
  });

  it("stops a run started by hand with another rotation is in progress, Failed, having changed nothing", async () => {
    // Prepare
    const clock = new FakeClock();
    const lock = await heldLock(clock);
    const leaseBefore = { ...lock.lease };

    // Act
    const answer = await start(lock, clock, { startedBy: "user" });

    // Assess
    expect(answer.status).toBe("Failed");
    expect(answer.next).toBe("failed");
    expect(answer.summary).toContain(`Another rotation is in progress (execution "${ROTATING}"`);
    expect(answer.summary).toContain(`If it crashed, its lock expires at "${leaseBefore.expiresAt}".`);
    expect(lock.lease).toEqual(leaseBefore);
  });

  it.each(["schedule", "user"] as const)(
    "takes over the lease of a crashed run once it expired, started by %s",
    async (startedBy) => {
      // Prepare
      const clock = new FakeClock();
      const lock = await heldLock(clock);
      clock.advance(LOCK_TTL_MS + 1);

      // Act
      const answer = await start(lock, clock, { startedBy });

      // Assess
      expect(answer.next).toBe("rotate");
      expect(lock.lease?.owner).toBe(THIS_RUN);
    },
  );

  it("takes no lock in a dry run, which may run beside a rotation", async () => {
    // Prepare
    const clock = new FakeClock();
    const lock = await heldLock(clock);
    const leaseBefore = { ...lock.lease };

    // Act
    const answer = await start(lock, clock, { startedBy: "user", dryRun: true });

    // Assess
    expect(answer).toMatchObject({ status: "Succeeded", next: "rotate", dryRun: true });
    expect(lock.lease).toEqual(leaseBefore);
  });

  it("ends Failed, for the schedule too, when the lock cannot be read, and gives up a lease it may have taken", async () => {
    // Prepare
    const released: string[] = [];
    const broken: RunLock = {
      acquire: async () => {
        throw new Error("S3 is down");
      },
      release: async (owner) => {
        released.push(owner);
      },
    };

    // Act
    const answer = await start(broken, new FakeClock(), { startedBy: "schedule" });

    // Assess
    expect(answer.status).toBe("Failed");
    expect(answer.summary).toContain("could not take the rotation lock");
    expect(released).toEqual([THIS_RUN]);
  });

  it("quotes a lease's owner as data, whatever the bucket holds", async () => {
    // Prepare
    const clock = new FakeClock();
    const hostile: LockHolder = {
      owner: "x\u001b[2J\nFix: delete the IAM user",
      acquiredAt: clock.now().toISOString(),
      expiresAt: new Date(clock.now().getTime() + LOCK_TTL_MS).toISOString(),
    };
    const lock: RunLock = { acquire: async () => hostile, release: async () => {} };

    // Act
    const answer = await start(lock, clock, { startedBy: "schedule" });

    // Assess
    expect(answer.summary.split("\n")[0]).toBe(
      `Left the rotation to execution "x\\u001b[2J\\nFix: delete the IAM user", in progress since "${hostile.acquiredAt}"; this scheduled run changed nothing.`,
    );
  });
});

describe("a rotation after its Start step", () => {
  it("renews the lease Start took, keeping when it was taken, and gives it up when done", async () => {
    // Prepare
    const world = fakeWorld(2);
    const { deps } = lockDeps(world.lock, world.clock);
    await startRotation(deps, { owner: THIS_RUN, dryRun: false, startedBy: "user" });
    const taken = world.lock.lease?.acquiredAt;
    world.clock.advance(5_000);
    let during: LockHolder | undefined;
    world.github.onWrite = () => {
      during ??= world.lock.lease && { ...world.lock.lease };
    };

    // Act
    const answer = answerOf(
      world.clock,
      await rotate(world.deps, {
        owner: THIS_RUN,
        dryRun: false,
        replaceOlderKey: false,
        deadline: FAR_FUTURE,
      }),
    );

    // Assess
    expect(answer.status).toBe("Succeeded");
    expect(during).toMatchObject({ owner: THIS_RUN, acquiredAt: taken });
    expect(world.lock.lease).toBeUndefined();
  });
});

describe("Retire while another execution holds the lock", () => {
  /** A completed rotation whose grace period is over, and another execution holding the lock. */
  async function graceOverWhileHeld(): Promise<{ world: FakeWorld; oldKey: string }> {
    const world = fakeWorld(2, 60);
    const oldKey = world.iam.addKey("Active").accessKeyId;
    await rotate(world.deps, { owner: "done", dryRun: false, replaceOlderKey: false, deadline: FAR_FUTURE });
    world.clock.advance(61 * 60_000);
    await world.lock.acquire(ROTATING, world.clock.now(), LOCK_TTL_MS);
    return { world, oldKey };
  }

  it("leaves the retirement to it when the schedule started the run: Succeeded, the old key untouched", async () => {
    // Prepare
    const { world, oldKey } = await graceOverWhileHeld();

    // Act
    const answer = answerOf(
      world.clock,
      await retire(world.deps, { owner: THIS_RUN, dryRun: false, startedBy: "schedule" }),
    );

    // Assess
    expect(answer.status).toBe("Succeeded");
    expect(answer.next).toBe("done");
    expect(answer.summary).toContain(`Left the retirement of the old key to execution "${ROTATING}"`);
    expect(world.iam.status(oldKey)).toBe("Active");
    expect(world.lock.lease?.owner).toBe(ROTATING);
  });

  it("stops Failed with another rotation is in progress when a user started the run", async () => {
    // Prepare
    const { world, oldKey } = await graceOverWhileHeld();

    // Act
    const answer = answerOf(world.clock, await retire(world.deps, { owner: THIS_RUN, dryRun: false }));

    // Assess
    expect(answer.status).toBe("Failed");
    expect(answer.summary).toContain(`Another rotation is in progress (execution "${ROTATING}"`);
    expect(world.iam.status(oldKey)).toBe("Active");
  });
});

describe("StartedBy in the runbook's events", () => {
  it("is a user's run unless the schedule says otherwise", () => {
    const start = v.parse(HandlerEvent, { action: "rotate-start", executionId: THIS_RUN });
    const scheduled = v.parse(HandlerEvent, { action: "retire", startedBy: "schedule" });

    expect(start).toMatchObject({ action: "rotate-start", startedBy: "user", dryRun: false });
    expect(scheduled).toMatchObject({ action: "retire", startedBy: "schedule" });
  });

  it("refuses any other value, naming the parameter", () => {
    const parsed = v.safeParse(HandlerEvent, { action: "rotate-start", startedBy: "Schedule" });

    expect(parsed.success).toBe(false);
    expect(parsed.issues?.[0]?.message).toBe(
      'StartedBy must be "user" or "schedule", not the text "Schedule"',
    );
  });
});
