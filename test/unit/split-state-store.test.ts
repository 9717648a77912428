import { describe, expect, it } from "vitest";
import { SecretValue } from "../../src/domain/secret-value.ts";
import { StateStoreError } from "../../src/errors.ts";
import { retire } from "../../src/lifecycle/retire.ts";
import { rotate } from "../../src/lifecycle/rotate.ts";
import { SplitStateStore } from "../../src/lifecycle/split-state-store.ts";
import { emptyState, type RotationState } from "../../src/lifecycle/state.ts";
import {
  answerOf,
  type FakeWorld,
  fakeWorld,
  MemoryKeyStore,
  MemoryProgressStore,
  type TestAnswer,
  type WriteFault,
} from "../support/fakes.ts";

const FAR_FUTURE = new Date("2100-01-01T00:00:00Z");
const HOUR = 60 * 60_000;

async function run(world: FakeWorld): Promise<TestAnswer> {
  const outcome = await rotate(world.deps, {
    owner: "exec-1",
    dryRun: false,
    replaceOlderKey: false,
    deadline: FAR_FUTURE,
  });
  return answerOf(world.clock, outcome);
}

/** Rotate as the runbook does after a failure: again, up to `reruns` more times, until it succeeds. */
async function runUntilSucceeded(world: FakeWorld, reruns: number): Promise<TestAnswer> {
  let result = await run(world);
  for (let i = 0; i < reruns && result.status !== "Succeeded"; i++) result = await run(world);
  return result;
}

/** Every instant: no listed repository on a key that is not Active, never more than two keys. */
function watchInvariants(world: FakeWorld): string[] {
  const breaches: string[] = [];
  world.github.onWrite = () => {
    if (world.iam.keys.length > 2) breaches.push(`${world.iam.keys.length} keys`);
    for (const [label] of world.github.repos) {
      const id = world.github.value(label, "AWS_ACCESS_KEY_ID");
      if (id !== undefined && world.iam.status(id) !== "Active") breaches.push(`${label} holds ${id}`);
    }
  };
  return breaches;
}

/** A whole state as the previous release stored it in the secret (version 1), with every field set. */
function v1State(): { text: string; secret: string } {
  const secret = `fake-v1-secret-${Math.random().toString(36).slice(2)}`;
  const text = JSON.stringify({
    schemaVersion: 1,
    current: {
      accessKeyId: "FAKECURRENTKEY000001",
      secretAccessKey: "fake-current-secret-value",
      createdAt: "2025-01-01T00:00:00.000Z",
      origin: "created",
    },
    pending: {
      accessKeyId: "FAKEPENDINGKEY000001",
      secretAccessKey: secret,
      createdAt: "2025-02-01T00:00:00.000Z",
      verifiedAt: "2025-02-01T00:00:05.000Z",
    },
    previous: { accessKeyId: "FAKEPREVIOUSKEY00001", origin: "adopted", retireAfter: "2025-01-01T01:00:00Z" },
    holdings: {
      "octo/one": { accessKeyId: "FAKEPENDINGKEY000001", writtenAt: "2025-02-01T00:01:00.000Z" },
      "octo/two": { accessKeyId: "FAKECURRENTKEY000001", writtenAt: "2025-01-01T00:01:00.000Z" },
    },
    githubWrites: [1738368060, 0, 2],
    writing: { accessKeyId: "FAKEPENDINGKEY000001", since: "2025-02-01T00:01:00.000Z", repos: ["octo/two"] },
    updatedAt: "2025-02-01T00:01:00.000Z",
  });
  return { text, secret };
}

/** The state as plain data, its secrets revealed, to compare two loads. */
function plain(state: RotationState | undefined): unknown {
  return JSON.parse(
    JSON.stringify(state, (_key, value: unknown) => (value instanceof SecretValue ? value.reveal() : value)),
  );
}

describe("the rotation state split over the secret and the progress object", () => {
  it("writes the secret only when a key is adopted, created or promoted, however many repositories there are", async () => {
    // Prepare: 50 repositories, holdings saved every 2 (fakeWorld's setting): 25+ progress saves a rotation.
    const world = fakeWorld(50, 0);
    world.iam.addKey("Active");

    // Act
    const first = await run(world);
    const afterFirst = world.state.secret.writes;
    await retire(world.deps, { owner: "exec-1", dryRun: false });
    world.clock.advance(2 * HOUR);
    const second = await run(world);

    // Assess: adoption + creation + promotion, then creation + promotion.
    expect([first.status, second.status]).toEqual(["Succeeded", "Succeeded"]);
    expect(afterFirst).toBe(3);
    expect(world.state.secret.writes - afterFirst).toBe(2);
    expect(world.state.progress.writes).toBeGreaterThan(25);
  });

  it("keeps every secret in the secret and every holding in the progress object", async () => {
    // Prepare
    const world = fakeWorld(3);
    world.iam.addKey("Active");

    // Act
    const result = await run(world);

    // Assess
    const secret = world.state.secret.text ?? "";
    const progress = world.state.progress.text ?? "";
    const newSecret = world.iam.secretOf(result.newAccessKeyId) ?? "(none)";
    expect(secret).toContain(newSecret);
    expect(progress).not.toContain(newSecret);
    expect(secret).not.toContain("acme/service-1");
    expect(JSON.parse(progress).holdings).toEqual({
      [result.newAccessKeyId]: {
        acme: {
          "service-1": expect.any(Number),
          "service-2": expect.any(Number),
          "service-3": expect.any(Number),
        },
      },
    });
  });

  it("converges to the fault-free result whichever write of either store the run dies at, before or after it took effect", async () => {
    // Prepare: the writes of a fault-free first rotation.
    const reference = fakeWorld(3);
    reference.iam.addKey("Active");
    await run(reference);
    const faults: { store: "secret" | "progress"; fault: WriteFault }[] = [];
    for (const [store, writes] of [
      ["secret", reference.state.secret.writes],
      ["progress", reference.state.progress.writes],
    ] as const) {
      for (let write = 1; write <= writes; write++) {
        for (const when of ["before", "after"] as const) faults.push({ store, fault: { write, when } });
      }
    }

    for (const { store, fault } of faults) {
      const label = `${store} write ${fault.write}, ${fault.when} it took effect`;
      const world = fakeWorld(3);
      const old = world.iam.addKey("Active");
      const breaches = watchInvariants(world);
      world.state[store].fault = fault;

      // Act
      const result = await runUntilSucceeded(world, 3);

      // Assess
      expect(result.status, label).toBe("Succeeded");
      expect(breaches, label).toEqual([]);
      expect(world.iam.keys, label).toHaveLength(2);
      expect(world.iam.status(old.accessKeyId), label).toBe("Active");
      const state = await world.state.load();
      expect(state?.current?.accessKeyId, label).toBe(result.newAccessKeyId);
      expect(state?.current?.secretAccessKey?.reveal(), label).toBe(
        world.iam.secretOf(result.newAccessKeyId),
      );
      expect(state?.pending, label).toBeUndefined();
      for (const [repo] of world.github.repos) {
        expect(world.github.value(repo, "AWS_ACCESS_KEY_ID"), `${label}: ${repo}`).toBe(
          result.newAccessKeyId,
        );
        expect(state?.holdings[repo]?.accessKeyId, `${label}: ${repo}`).toBe(result.newAccessKeyId);
      }
    }
  });

  it("loads a state the previous release kept whole in the secret, and migrates it at the first save without losing anything", async () => {
    // Prepare
    const secret = new MemoryKeyStore();
    const progress = new MemoryProgressStore();
    const { text, secret: pendingSecret } = v1State();
    secret.text = text;
    const store = new SplitStateStore(secret, progress);

    // Act
    const loaded = await store.load();
    await store.save(loaded as RotationState);
    const reloaded = await new SplitStateStore(secret, progress).load();

    // Assess
    expect(loaded?.pending?.secretAccessKey.reveal()).toBe(pendingSecret);
    expect(loaded?.pending?.verifiedAt).toBe("2025-02-01T00:00:05.000Z");
    expect(loaded?.githubWrites).toEqual([1738368060, 1738368060, 1738368062]);
    expect(plain(reloaded)).toEqual(plain(loaded));
    const stored = JSON.parse(secret.text ?? "{}");
    expect(stored.schemaVersion).toBe(2);
    expect(Object.keys(stored).sort()).toEqual([
      "current",
      "pending",
      "previous",
      "schemaVersion",
      "updatedAt",
    ]);
    expect(JSON.parse(progress.text ?? "{}").holdings.FAKECURRENTKEY000001.octo.two).toBe(
      Date.parse("2025-01-01T00:01:00Z") / 1000,
    );
  });

  it("loses nothing of a version 1 state whichever write of its migration the run dies at", async () => {
    for (const store of ["secret", "progress"] as const) {
      for (const write of [1, 2]) {
        for (const when of ["before", "after"] as const) {
          // Prepare
          const label = `${store} write ${write} ${when} it took effect`;
          const stores = { secret: new MemoryKeyStore(), progress: new MemoryProgressStore() };
          stores.secret.text = v1State().text;
          const original = await new SplitStateStore(stores.secret, stores.progress).load();
          stores[store].fault = { write, when };

          // Act
          const migrating = new SplitStateStore(stores.secret, stores.progress);
          await migrating.save((await migrating.load()) as RotationState).catch(() => undefined);
          const after = await new SplitStateStore(stores.secret, stores.progress).load();

          // Assess
          expect(plain(after), label).toEqual(plain(original));
        }
      }
    }
  });

  it("keeps the creation intent until the new key's secret is stored, even when the progress object does not exist yet", async () => {
    // Prepare: a version 1 state saved with the intent, then CreateAccessKey; the save of the new key fails
    // at its secret write.
    const secret = new MemoryKeyStore();
    const progress = new MemoryProgressStore();
    secret.text = JSON.stringify({
      schemaVersion: 1,
      creating: { startedAt: "2026-01-01T00:00:00.000Z" },
      holdings: {},
      updatedAt: "2026-01-01T00:00:00.000Z",
    });
    const store = new SplitStateStore(secret, progress);
    const loaded = (await store.load()) as RotationState;
    secret.fault = { write: 1, when: "before" };

    // Act
    const saving = store.save({
      ...loaded,
      creating: undefined,
      pending: {
        accessKeyId: "FAKENEWKEY0000000001",
        secretAccessKey: new SecretValue("fake-new-secret-never-stored"),
        createdAt: "2026-01-01T00:00:01.000Z",
        verifiedAt: undefined,
      },
    });

    // Assess: the next run still sees the intent, so it deletes the key nobody has the secret of.
    await expect(saving).rejects.toThrow("injected failure before the secret write");
    const after = await new SplitStateStore(secret, progress).load();
    expect(after?.creating).toEqual({ startedAt: "2026-01-01T00:00:00.000Z" });
    expect(after?.pending).toBeUndefined();
  });

  it("does not write the secret just to forget a previous key that IAM no longer has", async () => {
    // Prepare: a complete rotation whose old key is past its grace period.
    const world = fakeWorld(2, 0);
    world.iam.addKey("Active");
    await run(world);
    await retire(world.deps, { owner: "exec-1", dryRun: false });
    const writes = world.state.secret.writes;
    const state = (await world.state.load()) as RotationState;

    // Act
    await world.state.save({ ...state, previous: undefined });

    // Assess
    expect(world.state.secret.writes).toBe(writes);
    expect((await world.state.load())?.previous?.accessKeyId).toBe(state.previous?.accessKeyId);
  });

  it("refuses a progress object that belongs to another secret, and changes nothing", async () => {
    // Prepare
    const world = fakeWorld(1);
    await run(world);
    const progress = world.state.progress.text ?? "";
    world.state.progress.text = progress.replace(world.state.secret.id, "arn:aws:secretsmanager:other");

    // Act
    const result = await run(world);

    // Assess
    expect(result.status).toBe("Failed");
    expect(result.summary).toContain(
      `The rotation progress in ${world.state.progress.location} belongs to the state secret arn:aws:secretsmanager:other`,
    );
    expect(world.state.progress.text).toContain("arn:aws:secretsmanager:other");
  });

  it("says what is wrong, where and how to recover when either part cannot be decoded, and writes nothing", async () => {
    // Prepare
    const world = fakeWorld(1);
    await run(world);
    const keys = world.iam.keys.length;
    const secretText = world.state.secret.text;
    world.state.progress.text = '{"schemaVersion":2,"holdings":[]}';
    const brokenProgress = await run(world);
    world.state.progress.text = undefined;
    world.state.secret.text = "{not json";

    // Act
    const brokenSecret = await run(world);

    // Assess
    expect(brokenProgress.status).toBe("Failed");
    expect(brokenProgress.summary).toContain(
      `The rotation progress in ${world.state.progress.location} does not match the expected format (`,
    );
    expect(brokenProgress.summary).toContain("Restore the object's previous version (S3 console");
    expect(brokenSecret.summary).toContain(
      `The rotation state in ${world.state.secret.location} is not valid JSON.`,
    );
    expect(brokenSecret.summary).toContain("Make the previous version current again");
    expect(world.iam.keys).toHaveLength(keys);
    expect(world.state.secret.text).toBe("{not json");
    expect(secretText).toBeDefined();
  });

  it("stops instead of overwriting progress another writer saved after this one loaded it", async () => {
    // Prepare
    const secret = new MemoryKeyStore();
    const progress = new MemoryProgressStore();
    const world = fakeWorld(1);
    const one = new SplitStateStore(secret, progress);
    const two = new SplitStateStore(secret, progress);
    await one.save(emptyState(world.clock.now()));
    const base = (await one.load()) as RotationState;
    await two.load();
    await one.save({ ...base, githubWrites: [1] });

    // Act
    const saving = two.save({ ...base, githubWrites: [2] });

    // Assess
    await expect(saving).rejects.toBeInstanceOf(StateStoreError);
    expect((await one.load())?.githubWrites).toEqual([1]);
  });
});
