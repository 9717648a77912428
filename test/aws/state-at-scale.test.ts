/**
 * The rotation state at scale, with the real state store (Secrets Manager + S3 adapters) against moto and every
 * AWS call counted by the call recorder; IAM and GitHub are the in-memory fakes, and time is the fake clock, so
 * a day of scheduled rotations runs in seconds.
 *
 * Why one simulated day at `pHoursToRotate=2` covers every allowed parameter value: the secret is written only
 * when a key is adopted, created or promoted, so the writes per rotation depend neither on the number of
 * repositories nor on the grace period, and 2 hours is the shortest interval the template allows: no allowed
 * setting starts more rotations a day.
 */
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  awsClientConfig,
  createConfigBucket,
  createStackSecrets,
  uniqueName,
} from "../../scripts/local-stack/aws-fixtures.ts";
import { S3ProgressStore } from "../../src/aws/progress-store.ts";
import { SecretsManagerKeyStore } from "../../src/aws/state-store.ts";
import { progressKey } from "../../src/config/settings.ts";
import type { RepoRef } from "../../src/domain/repo.ts";
import type { SecretValue } from "../../src/domain/secret-value.ts";
import type { Target } from "../../src/domain/target.ts";
import { WritePacer } from "../../src/github/write-pacer.ts";
import type { RunOutcome } from "../../src/lifecycle/outcome.ts";
import { retire } from "../../src/lifecycle/retire.ts";
import { rotate } from "../../src/lifecycle/rotate.ts";
import type { RotationDeps, RotationSettings } from "../../src/lifecycle/rotation-context.ts";
import { rotationResult } from "../../src/lifecycle/rotation-result.ts";
import { SplitStateStore } from "../../src/lifecycle/split-state-store.ts";
import { emptyState, type Holding, type RotationState } from "../../src/lifecycle/state.ts";
import type { RepoPublicKey, SecretsTarget } from "../../src/ports.ts";
import { type AwsCallRecorder, startAwsCallRecorder } from "../support/aws-call-recorder.ts";
import { type FakeWorld, fakeWorld } from "../support/fakes.ts";

const endpoint = inject("motoEndpoint");
const HOUR = 60 * 60_000;
const DAY = 24 * HOUR;
/** The shortest rotation interval the template allows (pHoursToRotate MinValue). */
const SHORTEST_INTERVAL_MS = 2 * HOUR;
/** Secrets Manager's reported quota of versions younger than 24 hours. */
const VERSIONS_QUOTA = 100;
/** A Lambda step's time for writing: the function keeps back a minute of its 290 s. */
const STEP_MS = 230_000;
/** The Rotate runbook's aws:loop MaxIterations. */
const LOOP_ITERATIONS = 100;

let recorder: AwsCallRecorder;
beforeAll(async () => {
  recorder = await startAwsCallRecorder(endpoint);
});
afterAll(async () => {
  await recorder.close();
});

interface ScaledWorld {
  readonly world: FakeWorld;
  readonly secretArn: string;
  readonly bucket: string;
  /** Fake-clock time of each secret write. */
  readonly secretWrites: number[];
  /** PutSecretValue calls on this world's secret that reached AWS (the recorder's count). */
  putSecretValues(): number;
  /** Deps for one Lambda invocation: a fresh state store, write budget and paced GitHub, as the handler makes. */
  invocation(): RotationDeps;
}

/** A fake world whose state lives in moto, through the real adapters, with GitHub's real write limits. */
async function scaledWorld(repoCount: number, graceMinutes: number): Promise<ScaledWorld> {
  const world = fakeWorld(repoCount, graceMinutes);
  const userName = uniqueName("akm-scale");
  const stack = await createStackSecrets(endpoint, {
    userName,
    machineUser: "machine",
    token: `emulated-token-${uniqueName("t")}`,
    keyDescription: `state key for ${userName}`,
  });
  const bucket = await createConfigBucket(endpoint);
  const secrets = new SecretsManagerClient(awsClientConfig(recorder.endpoint));
  const s3 = new S3Client(awsClientConfig(recorder.endpoint));
  const secretWrites: number[] = [];
  const keys = new SecretsManagerKeyStore(secrets, stack.stateSecretArn, world.clock);
  const countedKeys = {
    id: keys.id,
    location: keys.location,
    read: () => keys.read(),
    async write(text: string) {
      secretWrites.push(world.clock.now().getTime());
      await keys.write(text);
    },
  };
  // The default batch size: fakeWorld saves every 2 repositories to exercise batching in small tests.
  const { saveEvery: _, ...settings }: RotationSettings = world.deps.settings;
  return {
    world,
    secretArn: stack.stateSecretArn,
    bucket,
    secretWrites,
    putSecretValues: () =>
      recorder.calls.filter(
        (call) => call.operation === "PutSecretValue" && call.params.SecretId === stack.stateSecretArn,
      ).length,
    invocation() {
      const pacer = new WritePacer({ clock: world.clock });
      const github: SecretsTarget = {
        whoAmI: () => world.github.whoAmI(),
        publicKey: (target: Target) => world.github.publicKey(target),
        checkWritable: (target: Target) => world.github.checkWritable(target),
        secretUpdatedAt: (target: Target, name: string) => world.github.secretUpdatedAt(target, name),
        variableValue: (target: Target, name: string) => world.github.variableValue(target, name),
        async writeSecret(target: Target, key: RepoPublicKey, name: string, value: SecretValue) {
          await pacer.take();
          await world.github.writeSecret(target, key, name, value);
        },
        async writeVariable(target: Target, name: string, value: string) {
          await pacer.take();
          await world.github.writeVariable(target, name, value);
        },
      };
      const state = new SplitStateStore(
        countedKeys,
        new S3ProgressStore(s3, { bucket, key: progressKey("repos.json"), kmsKeyArn: stack.kmsKeyArn }),
      );
      return { ...world.deps, settings, state, github, writeBudget: pacer };
    },
  };
}

/**
 * One execution of the Rotate runbook (contract v2): Rotate in an aws:loop while it answers `again` (its
 * WaitForWriteBudget sleep moves the fake clock to `resumeAt`), then RotateResult, the grace-period sleep and
 * Retire. Returns the last Rotate outcome.
 */
async function rotateExecution(scaled: ScaledWorld, owner: string): Promise<RunOutcome> {
  const { world } = scaled;
  let outcome: RunOutcome | undefined;
  for (let i = 0; i < LOOP_ITERATIONS; i++) {
    outcome = await rotate(scaled.invocation(), {
      owner,
      dryRun: false,
      replaceOlderKey: false,
      deadline: new Date(world.clock.now().getTime() + STEP_MS),
    });
    if (outcome.next !== "again") break;
    const wait = (outcome.resumeAt?.getTime() ?? 0) - world.clock.now().getTime();
    if (wait > 0) world.clock.advance(wait);
  }
  if (!outcome || outcome.next === "failed") {
    throw new Error(`the rotation failed: ${outcome?.headline} ${outcome?.error?.message ?? ""}`);
  }
  const result = await rotationResult(scaled.invocation(), { owner, dryRun: false });
  if (result.next === "retire") {
    const wait = (result.retireAfter?.getTime() ?? 0) - world.clock.now().getTime();
    if (wait > 0) world.clock.advance(wait);
    await retire(scaled.invocation(), { owner, dryRun: false });
  }
  return outcome;
}

/** The most values of `times` (ms) within any window of `periodMs`. */
function mostInAnyWindow(times: readonly number[], periodMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let start = 0, end = 0; end < sorted.length; end++) {
    while ((sorted[end] as number) - (sorted[start] as number) >= periodMs) start++;
    most = Math.max(most, end - start + 1);
  }
  return most;
}

function listOf(repos: readonly RepoRef[]): string {
  return JSON.stringify({ Repos: repos.map((r) => ({ Owner: r.owner, Name: r.name })) });
}

async function secretBytes(secretArn: string): Promise<number> {
  const secrets = new SecretsManagerClient(awsClientConfig(endpoint));
  const { SecretString = "" } = await secrets.send(new GetSecretValueCommand({ SecretId: secretArn }));
  return Buffer.byteLength(SecretString, "utf8");
}

describe("the rotation state at scale", () => {
  it("adds fewer than 100 secret versions in any 24 hours of rotations every 2 hours with 400 repositories", async () => {
    // Prepare: the shortest interval, a list whose 800 writes need more than GitHub's 500 an hour, and the
    // user's existing key (adopted by the first rotation).
    const scaled = await scaledWorld(400, 60);
    const { world } = scaled;
    world.iam.addKey("Active");
    const start = world.clock.now().getTime();
    const rotated: string[] = [];

    // Act: each scheduled execution of a day and a half starts on time, or as soon as the one before has ended.
    for (let k = 0; world.clock.now().getTime() < start + 1.5 * DAY; k++) {
      const due = start + k * SHORTEST_INTERVAL_MS;
      if (world.clock.now().getTime() < due) world.clock.advance(due - world.clock.now().getTime());
      const outcome = await rotateExecution(scaled, `scheduled-${k}`);
      if (outcome.newAccessKeyId) rotated.push(outcome.newAccessKeyId);
    }

    // Assess
    const rotations = new Set(rotated).size;
    expect(rotations).toBeGreaterThanOrEqual(12);
    expect(scaled.putSecretValues()).toBe(scaled.secretWrites.length);
    // Adoption once, then a creation and a promotion per rotation.
    expect(scaled.secretWrites.length).toBeLessThanOrEqual(1 + 2 * rotations);
    expect(mostInAnyWindow(scaled.secretWrites, DAY)).toBeLessThan(VERSIONS_QUOTA);
    expect(mostInAnyWindow(scaled.secretWrites, DAY)).toBeLessThanOrEqual(
      1 + 2 * (DAY / SHORTEST_INTERVAL_MS),
    );
    for (const [repo] of world.github.repos) {
      expect(world.github.value(repo, "AWS_ACCESS_KEY_ID")).toBe(rotated.at(-1));
    }
  });

  it("writes the secret as often for 1 repository as for 400", async () => {
    // Prepare
    const one = await scaledWorld(1, 0);
    const many = await scaledWorld(400, 0);

    // Act
    for (const scaled of [one, many]) {
      scaled.world.iam.addKey("Active");
      await rotateExecution(scaled, "first");
      scaled.world.clock.advance(SHORTEST_INTERVAL_MS);
      await rotateExecution(scaled, "second");
    }

    // Assess
    expect(one.secretWrites).toHaveLength(5);
    expect(many.secretWrites).toHaveLength(5);
  });

  it("rotates 380 repositories, then 380 others twice: every run succeeds, the secret stays small, the first 380 are pruned", async () => {
    // Prepare: the reproduction of issue 7 (the whole state in the secret outgrew 64 KB after the new key).
    const scaled = await scaledWorld(0, 60);
    const { world } = scaled;
    const repos = (prefix: string) =>
      Array.from({ length: 380 }, (_, i) =>
        world.github.addRepo("a-rather-long-organization-name", `${prefix}-service-${i}`),
      );
    const first = repos("first");
    const second = repos("second");
    world.iam.addKey("Active");
    world.config.text = listOf(first);

    // Act
    const one = await rotateExecution(scaled, "one");
    world.config.text = listOf(second);
    world.clock.advance(SHORTEST_INTERVAL_MS);
    const two = await rotateExecution(scaled, "two");
    world.clock.advance(SHORTEST_INTERVAL_MS);
    const three = await rotateExecution(scaled, "three");

    // Assess
    expect([one.status, two.status, three.status]).toEqual(["Succeeded", "Succeeded", "Succeeded"]);
    expect(world.iam.keys).toHaveLength(2);
    expect(world.iam.keys.filter((key) => key.status === "Active")).toHaveLength(1);
    expect(await secretBytes(scaled.secretArn)).toBeLessThan(2_000);
    const state = await scaled.invocation().state.load();
    const slugs = Object.keys(state?.holdings ?? {});
    expect(slugs).toHaveLength(380);
    expect(slugs.every((slug) => slug.includes("/second-service-"))).toBe(true);
  });

  it("keeps 10,000 holdings in a compact progress object and loads them back", async () => {
    // Prepare: long, realistic names (a 25-character organization, 20-character repositories).
    const scaled = await scaledWorld(0, 60);
    const holdings: Record<string, Holding> = {};
    for (let i = 0; i < 10_000; i++) {
      holdings[`acme-platform-engineering/payments-service-${String(i).padStart(5, "0")}`] = {
        accessKeyId: i % 2 === 0 ? "FAKECURRENTKEY000001" : "FAKEPENDINGKEY000001",
        writtenAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
      };
    }
    const state: RotationState = { ...emptyState(scaled.world.clock.now()), holdings };

    // Act
    await scaled.invocation().state.save(state);
    const loaded = await scaled.invocation().state.load();

    // Assess
    expect(loaded?.holdings).toEqual(holdings);
    const s3 = new S3Client(awsClientConfig(endpoint));
    const object = await s3.send(
      new GetObjectCommand({ Bucket: scaled.bucket, Key: progressKey("repos.json") }),
    );
    expect(object.ContentLength).toBeLessThan(400_000);
    expect(await secretBytes(scaled.secretArn)).toBeLessThan(200);
  });
});
