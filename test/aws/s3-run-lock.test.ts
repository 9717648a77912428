import { S3Client } from "@aws-sdk/client-s3";
import { describe, expect, inject, it } from "vitest";
import {
  awsClientConfig,
  createConfigBucket,
  putObjectText,
} from "../../scripts/local-stack/aws-fixtures.ts";
import { S3RunLock } from "../../src/aws/s3-run-lock.ts";

const endpoint = inject("motoEndpoint");
const KEY = "repos.json.lock";
const TTL = 600_000;
const T0 = new Date("2026-05-01T10:00:00Z");

async function lockInNewBucket(): Promise<{ bucket: string; lock: S3RunLock }> {
  const bucket = await createConfigBucket(endpoint);
  return { bucket, lock: new S3RunLock(new S3Client(awsClientConfig(endpoint)), bucket, KEY) };
}

describe("S3RunLock", () => {
  it("gives the lease to the first run and names it to the second", async () => {
    const { lock } = await lockInNewBucket();

    const first = await lock.acquire("exec-a", T0, TTL);
    const second = await lock.acquire("exec-b", T0, TTL);

    expect(first).toBeUndefined();
    expect(second).toEqual({
      owner: "exec-a",
      acquiredAt: T0.toISOString(),
      expiresAt: new Date(T0.getTime() + TTL).toISOString(),
    });
  });

  it("lets the holder renew its lease across the steps of one execution", async () => {
    const { lock } = await lockInNewBucket();
    await lock.acquire("exec-a", T0, TTL);

    const renewed = await lock.acquire("exec-a", new Date(T0.getTime() + 300_000), TTL);
    const other = await lock.acquire("exec-b", new Date(T0.getTime() + TTL + 1), TTL);

    expect(renewed).toBeUndefined();
    expect(other?.owner).toBe("exec-a");
  });

  it("hands an expired lease of a crashed run to the next one", async () => {
    const { lock } = await lockInNewBucket();
    await lock.acquire("crashed", T0, TTL);

    const next = await lock.acquire("exec-b", new Date(T0.getTime() + TTL), TTL);

    expect(next).toBeUndefined();
    expect((await lock.acquire("exec-c", new Date(T0.getTime() + TTL), TTL))?.owner).toBe("exec-b");
  });

  it("frees the lease on release, but only for its holder", async () => {
    const { lock } = await lockInNewBucket();
    await lock.acquire("exec-a", T0, TTL);

    await lock.release("exec-b");
    const stillHeld = await lock.acquire("exec-b", T0, TTL);
    await lock.release("exec-a");
    const free = await lock.acquire("exec-b", T0, TTL);

    expect(stillHeld?.owner).toBe("exec-a");
    expect(free).toBeUndefined();
  });

  it("treats an unreadable lease object as expired", async () => {
    const { bucket, lock } = await lockInNewBucket();
    await putObjectText(endpoint, bucket, KEY, "not json");

    expect(await lock.acquire("exec-a", T0, TTL)).toBeUndefined();
  });

  it("lets exactly one of many simultaneous runs take the lease", async () => {
    const { lock } = await lockInNewBucket();

    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => lock.acquire(`exec-${i}`, T0, TTL)),
    );

    expect(results.filter((r) => r === undefined)).toHaveLength(1);
  });
});
