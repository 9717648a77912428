import {
  DeleteObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { describe, expect, inject, it } from "vitest";
import { awsClientConfig, createConfigBucket } from "../../scripts/local-stack/aws-fixtures.ts";
import { S3ConfigHistory } from "../../src/aws/config-history.ts";

const endpoint = inject("motoEndpoint");
const KEY = "repos.json";

/** A versioned bucket, as the template makes it, and a writer that returns each new version's ID. */
async function versionedBucket() {
  const s3 = new S3Client(awsClientConfig(endpoint));
  const bucket = await createConfigBucket(endpoint);
  await s3.send(
    new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: "Enabled" } }),
  );
  const put = async (text: string, key = KEY): Promise<string> =>
    (await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: text }))).VersionId ?? "";
  const remove = async (): Promise<string> =>
    (await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: KEY }))).VersionId ?? "";
  return { s3, bucket, put, remove, history: new S3ConfigHistory(s3, bucket, KEY) };
}

describe("S3ConfigHistory against moto", () => {
  it("reads a version of the list and the one before it", async () => {
    // Prepare
    const { put, history } = await versionedBucket();
    const first = await put("one");
    const second = await put("two");
    await put("three");

    // Act
    const found = await history.versionAndPrevious(second);

    // Assess
    expect(found).toEqual({
      version: { versionId: second, text: "two" },
      previous: { versionId: first, text: "one" },
    });
  });

  it("has nothing before the first version", async () => {
    // Prepare
    const { put, history } = await versionedBucket();
    const first = await put("one");

    // Act
    const found = await history.versionAndPrevious(first);

    // Assess
    expect(found?.previous).toBeUndefined();
  });

  it("reads a deletion as a version without text, after the version it deleted", async () => {
    // Prepare
    const { put, remove, history } = await versionedBucket();
    const first = await put("one");
    const marker = await remove();

    // Act
    const found = await history.versionAndPrevious(marker);

    // Assess
    expect(found).toEqual({
      version: { versionId: marker, text: undefined },
      previous: { versionId: first, text: "one" },
    });
  });

  it("ignores objects whose keys start with the list's (the lock, the progress object)", async () => {
    // Prepare
    const { put, history } = await versionedBucket();
    const first = await put("one");
    await put("lock", `${KEY}.lock`);
    await put("progress", `${KEY}.progress.json`);
    const second = await put("two");

    // Act
    const found = await history.versionAndPrevious(second);

    // Assess
    expect(found?.previous).toEqual({ versionId: first, text: "one" });
  });

  it("finds nothing for a version the list never had", async () => {
    // Prepare
    const { put, history } = await versionedBucket();
    await put("one");

    // Act
    const found = await history.versionAndPrevious("no-such-version");

    // Assess
    expect(found).toBeUndefined();
  });
});
