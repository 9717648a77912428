import { HeadObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { describe, expect, inject, it } from "vitest";
import {
  awsClientConfig,
  createConfigBucket,
  putObjectText,
  uniqueName,
} from "../../scripts/local-stack/aws-fixtures.ts";
import { ConfigConflictError } from "../../src/aws/config-conflict-error.ts";
import { S3ConfigStore } from "../../src/aws/config-store.ts";
import { MAX_CONFIG_BYTES } from "../../src/config/repos-config.ts";
import { AkmError } from "../../src/errors.ts";

const endpoint = inject("motoEndpoint");
const KEY = "repos.json";

function s3(): S3Client {
  return new S3Client(awsClientConfig(endpoint));
}

async function storeInNewBucket() {
  const bucket = await createConfigBucket(endpoint);
  return { bucket, store: new S3ConfigStore(s3(), bucket, KEY) };
}

describe("S3ConfigStore", () => {
  it("names its object as an s3:// URL", () => {
    // Prepare
    const store = new S3ConfigStore(s3(), "my-bucket", "config/repos.json");

    // Act
    const location = store.location;

    // Assess
    expect(location).toBe("s3://my-bucket/config/repos.json");
  });

  it("refuses a repos.json larger than 4 MiB without reading it, naming its size", async () => {
    // Prepare
    const { bucket, store } = await storeInNewBucket();
    await putObjectText(endpoint, bucket, KEY, " ".repeat(MAX_CONFIG_BYTES + 1));

    // Act
    const read = store.read();

    // Assess
    await expect(read).rejects.toThrowError(
      `${MAX_CONFIG_BYTES + 1} bytes, larger than the ${MAX_CONFIG_BYTES} bytes accepted`,
    );
  });

  it("reads nothing when the object does not exist", async () => {
    // Prepare
    const { store } = await storeInNewBucket();

    // Act
    const document = await store.read();

    // Assess
    expect(document).toBeUndefined();
  });

  it("creates the object as JSON and reads it back with its ETag as version", async () => {
    // Prepare
    const { bucket, store } = await storeInNewBucket();
    const text = '{"repos":[{"owner":"octo","name":"hello"}]}\n';

    // Act
    await store.write(text, undefined);

    // Assess
    const document = await store.read();
    expect(document?.text).toBe(text);
    const head = await s3().send(new HeadObjectCommand({ Bucket: bucket, Key: KEY }));
    expect(document?.version).toBe(head.ETag);
    expect(head.ContentType).toBe("application/json");
  });

  it("replaces the object when it is unchanged since it was read", async () => {
    // Prepare
    const { bucket, store } = await storeInNewBucket();
    await putObjectText(endpoint, bucket, KEY, '{"repos":[]}');
    const before = await store.read();

    // Act
    await store.write('{"repos":[{"owner":"octo","name":"added"}]}', before?.version);

    // Assess
    const after = await store.read();
    expect(after?.text).toBe('{"repos":[{"owner":"octo","name":"added"}]}');
    expect(after?.version).not.toBe(before?.version);
  });

  it("refuses to overwrite a change made since the object was read", async () => {
    // Prepare
    const { bucket, store } = await storeInNewBucket();
    await putObjectText(endpoint, bucket, KEY, '{"repos":[]}');
    const before = await store.read();
    await putObjectText(endpoint, bucket, KEY, '{"repos":[{"owner":"someone","name":"else"}]}');

    // Act
    const error = await store
      .write('{"repos":[{"owner":"octo","name":"mine"}]}', before?.version)
      .catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(ConfigConflictError);
    expect((error as ConfigConflictError).message).toContain(`s3://${bucket}/${KEY} changed`);
    expect((await store.read())?.text).toBe('{"repos":[{"owner":"someone","name":"else"}]}');
  });

  it("refuses to create the object when someone else created it since it was read as missing", async () => {
    // Prepare
    const { bucket, store } = await storeInNewBucket();
    const before = await store.read();
    await putObjectText(endpoint, bucket, KEY, '{"repos":[{"owner":"someone","name":"else"}]}');

    // Act
    const error = await store.write('{"repos":[]}', before?.version).catch((caught: unknown) => caught);

    // Assess
    expect(before).toBeUndefined();
    expect(error).toBeInstanceOf(ConfigConflictError);
    expect((await store.read())?.text).toBe('{"repos":[{"owner":"someone","name":"else"}]}');
  });

  it("reports a missing bucket by name, with a fix", async () => {
    // Prepare
    const bucket = uniqueName("akm-config-missing");
    const store = new S3ConfigStore(s3(), bucket, KEY);

    // Act
    const error = await store.read().catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(AkmError);
    expect((error as AkmError).message).toBe(
      `The configuration bucket ${bucket} does not exist (s3:GetObject on s3://${bucket}/${KEY}).`,
    );
    expect((error as AkmError).fix).toContain("Update the stack");
  });
});
