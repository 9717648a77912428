import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import {
  CreateSecretCommand,
  DecryptionFailure,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  SecretsManagerServiceException,
} from "@aws-sdk/client-secrets-manager";
import { describe, expect, inject, it, vi } from "vitest";
import {
  awsClientConfig,
  createConfigBucket,
  createStackSecrets,
  putObjectText,
  uniqueName,
} from "../../scripts/local-stack/aws-fixtures.ts";
import { S3ProgressStore } from "../../src/aws/progress-store.ts";
import { SecretsManagerKeyStore } from "../../src/aws/state-store.ts";
import { SecretValue } from "../../src/domain/secret-value.ts";
import { StateStoreError } from "../../src/errors.ts";
import { serializeKeyDocument } from "../../src/lifecycle/key-document.ts";
import { SplitStateStore } from "../../src/lifecycle/split-state-store.ts";
import type { RotationState } from "../../src/lifecycle/state.ts";
import { splitState } from "../../src/lifecycle/state-parts.ts";
import type { KeyMaterialStore } from "../../src/ports.ts";
import { FakeClock } from "../support/fakes.ts";

const endpoint = inject("motoEndpoint");
const PROGRESS_KEY = "repos.json.progress.json";

const secretsClient = () => new SecretsManagerClient(awsClientConfig(endpoint));
const s3Client = () => new S3Client(awsClientConfig(endpoint));

interface Stores {
  readonly secretId: string;
  readonly bucket: string;
  readonly kmsKeyArn: string;
  readonly keys: SecretsManagerKeyStore;
  readonly progress: S3ProgressStore;
  /** A fresh store over both, as each Lambda invocation makes one. */
  store(keys?: KeyMaterialStore): SplitStateStore;
}

/** The stack's state secret (`{}`, under the stack's KMS key) and its config bucket, as the template makes them. */
async function stackStores(): Promise<Stores> {
  const userName = uniqueName("akm-user");
  const stack = await createStackSecrets(endpoint, {
    userName,
    machineUser: "machine",
    token: `emulated-token-${uniqueName("t")}`,
    keyDescription: `state key for ${userName}`,
  });
  const bucket = await createConfigBucket(endpoint);
  const keys = new SecretsManagerKeyStore(secretsClient(), stack.stateSecretArn);
  const progress = new S3ProgressStore(s3Client(), { bucket, key: PROGRESS_KEY, kmsKeyArn: stack.kmsKeyArn });
  return {
    secretId: stack.stateSecretArn,
    bucket,
    kmsKeyArn: stack.kmsKeyArn,
    keys,
    progress,
    store: (k = keys) => new SplitStateStore(k, progress),
  };
}

function sampleState(pendingSecret: string): RotationState {
  return {
    current: {
      accessKeyId: "FAKECURRENTKEY000001",
      secretAccessKey: new SecretValue(`current/${uniqueName("secret")}`),
      createdAt: "2025-01-01T00:00:00.000Z",
      origin: "created",
    },
    pending: {
      accessKeyId: "FAKEPENDINGKEY000001",
      secretAccessKey: new SecretValue(pendingSecret),
      createdAt: "2025-02-01T00:00:00.000Z",
      verifiedAt: "2025-02-01T00:00:03.000Z",
    },
    creating: undefined,
    previous: { accessKeyId: "FAKEPREVIOUSKEY00001", origin: "adopted", retireAfter: "2025-02-01T01:00:00Z" },
    holdings: {
      "octo/repo": { accessKeyId: "FAKEPENDINGKEY000001", writtenAt: "2025-02-01T00:01:00.000Z" },
      "octo/other": { accessKeyId: "FAKECURRENTKEY000001", writtenAt: "2025-01-01T00:01:00.000Z" },
    },
    githubWrites: [1738368060, 1738368061],
    writing: {
      accessKeyId: "FAKEPENDINGKEY000001",
      since: "2025-02-01T00:01:00.000Z",
      repos: ["octo/other"],
    },
    updatedAt: "2025-02-01T00:01:01.000Z",
  };
}

/** The state as plain data with its secrets revealed, to compare a load with what was saved. */
function plain(state: unknown): unknown {
  return JSON.parse(
    JSON.stringify(state, (_key, value: unknown) => (value instanceof SecretValue ? value.reveal() : value)),
  );
}

async function secretVersions(secretId: string): Promise<number> {
  const { Versions = [] } = await secretsClient().send(
    new ListSecretVersionIdsCommand({ SecretId: secretId, IncludeDeprecated: true }),
  );
  return Versions.length;
}

async function objectText(bucket: string): Promise<string> {
  const response = await s3Client().send(new GetObjectCommand({ Bucket: bucket, Key: PROGRESS_KEY }));
  return (await response.Body?.transformToString("utf-8")) ?? "";
}

describe("the rotation state in Secrets Manager and S3", () => {
  it("loads no state from a secret that still holds the template's {} and no progress object", async () => {
    // Prepare
    const { store } = await stackStores();

    // Act
    const state = await store().load();

    // Assess
    expect(state).toBeUndefined();
  });

  it("loads no state from a secret that has no value yet", async () => {
    // Prepare
    const { progress } = await stackStores();
    const name = uniqueName("akm-state");
    const { ARN = "" } = await secretsClient().send(new CreateSecretCommand({ Name: name }));

    // Act
    const state = await new SplitStateStore(
      new SecretsManagerKeyStore(secretsClient(), ARN),
      progress,
    ).load();

    // Assess
    expect(state).toBeUndefined();
  });

  it("saves a state and loads it back whole, the keys in the secret and the rest in the progress object", async () => {
    // Prepare
    const stores = await stackStores();
    const saved = sampleState(`pending+${uniqueName("secret")}`);

    // Act
    await stores.store().save(saved);
    const loaded = await stores.store().load();

    // Assess
    expect(plain(loaded)).toEqual(plain(saved));
    const { SecretString = "" } = await secretsClient().send(
      new GetSecretValueCommand({ SecretId: stores.secretId }),
    );
    expect(SecretString).toContain(saved.pending?.secretAccessKey.reveal());
    expect(SecretString).not.toContain('"holdings"');
    const progress = await objectText(stores.bucket);
    expect(JSON.parse(progress).holdings.FAKEPENDINGKEY000001.octo.repo).toBe(
      Date.parse("2025-02-01T00:01:00Z") / 1000,
    );
    expect(progress).not.toContain(saved.pending?.secretAccessKey.reveal());
    expect(progress).not.toContain(saved.current?.secretAccessKey?.reveal());
  });

  it("encrypts the progress object with the stack's KMS key", async () => {
    // Prepare
    const stores = await stackStores();

    // Act
    await stores.store().save(sampleState("pending-secret-for-encryption-test"));

    // Assess
    const head = await s3Client().send(new HeadObjectCommand({ Bucket: stores.bucket, Key: PROGRESS_KEY }));
    expect(head.ServerSideEncryption).toBe("aws:kms");
    expect(head.SSEKMSKeyId).toBe(stores.kmsKeyArn);
  });

  it("adds a secret version only when the keys change, however often the progress is saved", async () => {
    // Prepare
    const stores = await stackStores();
    const store = stores.store();
    const state = sampleState("pending-secret-for-version-test");
    await store.save(state);
    const versions = await secretVersions(stores.secretId);

    // Act: thirty progress saves, then a promotion.
    for (let i = 0; i < 30; i++) await store.save({ ...state, githubWrites: [1738368060 + i] });
    await store.save({
      ...state,
      current: { ...(state.pending as NonNullable<RotationState["pending"]>), origin: "created" },
      pending: undefined,
      previous: {
        accessKeyId: "FAKECURRENTKEY000001",
        origin: "created",
        retireAfter: "2025-02-01T02:00:00Z",
      },
    });

    // Assess
    expect(await secretVersions(stores.secretId)).toBe(versions + 1);
  });

  it("migrates a whole state of the previous release at the first save, and loads the same state after", async () => {
    // Prepare
    const stores = await stackStores();
    const v1 = {
      schemaVersion: 1,
      current: {
        accessKeyId: "FAKECURRENTKEY000001",
        secretAccessKey: "fake-v1-current-secret",
        createdAt: "2025-01-01T00:00:00.000Z",
        origin: "created",
      },
      holdings: {
        "octo/repo": { accessKeyId: "FAKECURRENTKEY000001", writtenAt: "2025-01-01T00:01:00.000Z" },
      },
      githubWrites: [1738368060, 1],
      updatedAt: "2025-01-01T00:01:00.000Z",
    };
    await secretsClient().send(
      new PutSecretValueCommand({ SecretId: stores.secretId, SecretString: JSON.stringify(v1) }),
    );
    const before = await stores.store().load();

    // Act
    const store = stores.store();
    await store.save((await store.load()) as RotationState);
    const after = await stores.store().load();

    // Assess
    expect(plain(after)).toEqual(plain(before));
    expect(after?.holdings["octo/repo"]?.accessKeyId).toBe("FAKECURRENTKEY000001");
    const { SecretString = "" } = await secretsClient().send(
      new GetSecretValueCommand({ SecretId: stores.secretId }),
    );
    expect(JSON.parse(SecretString).schemaVersion).toBe(2);
    expect(SecretString).not.toContain('"holdings"');
  });

  it("resumes from the new keys and the previous progress when a run dies between the secret and the progress write", async () => {
    // Prepare: a saved rotation in progress, then the save of the created key loses its progress write.
    const stores = await stackStores();
    const { pending: _, ...rest } = sampleState("unused");
    const before: RotationState = {
      ...rest,
      pending: undefined,
      creating: { startedAt: "2025-02-01T00:00:00Z" },
    };
    await stores.store().save(before);
    const created = sampleState("fake-created-key-secret").pending;
    const keysOnly = new SplitStateStore(stores.keys, {
      location: stores.progress.location,
      read: () => stores.progress.read(),
      write: async () => {
        throw new Error("the Lambda died before the progress write");
      },
    });
    await keysOnly.load();

    // Act
    const failed = await keysOnly
      .save({ ...before, creating: undefined, pending: created })
      .catch((error: unknown) => error);
    const resumed = await stores.store().load();

    // Assess: the key and its secret are known, next to the intent (reconcile drops the intent: the key is known).
    expect(failed).toBeInstanceOf(Error);
    expect(resumed?.pending?.accessKeyId).toBe(created?.accessKeyId);
    expect(resumed?.pending?.secretAccessKey.reveal()).toBe("fake-created-key-secret");
    expect(resumed?.creating).toEqual({ startedAt: "2025-02-01T00:00:00Z" });
    expect(plain(resumed?.holdings)).toEqual(plain(before.holdings));
  });

  it("stops instead of overwriting progress another run saved since this one read it", async () => {
    // Prepare
    const stores = await stackStores();
    const state = sampleState("pending-secret-for-conflict-test");
    await stores.store().save(state);
    const slow = stores.store();
    await slow.load();
    await stores.store().save({ ...state, githubWrites: [1] });

    // Act
    const error = await slow.save({ ...state, githubWrites: [2] }).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(StateStoreError);
    expect((error as StateStoreError).message).toContain(
      `The rotation progress s3://${stores.bucket}/${PROGRESS_KEY} was changed by someone else`,
    );
    expect((await stores.store().load())?.githubWrites).toEqual([1]);
  });

  it("takes a conditional write that took effect although its answer was lost for done", async () => {
    // Prepare: the object already holds exactly what this write sends (the lost attempt wrote it).
    const stores = await stackStores();
    const first = await stores.progress.write('{"a":1}', undefined);
    await putObjectText(endpoint, stores.bucket, PROGRESS_KEY, '{"a":2}');

    // Act
    const version = await stores.progress.write('{"a":2}', first);

    // Assess
    expect(version).not.toBe(first);
    expect(await objectText(stores.bucket)).toBe('{"a":2}');
  });

  it("refuses a progress object it cannot decode, naming it and how to restore it, and changes nothing", async () => {
    // Prepare
    const stores = await stackStores();
    await putObjectText(endpoint, stores.bucket, PROGRESS_KEY, '{"schemaVersion":2,"holdings":"x"');

    // Act
    const error = await stores
      .store()
      .load()
      .catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(StateStoreError);
    expect((error as StateStoreError).message).toBe(
      `The rotation progress in s3://${stores.bucket}/${PROGRESS_KEY} is not valid JSON.`,
    );
    expect((error as StateStoreError).fix).toContain("Restore the object's previous version");
    expect(await objectText(stores.bucket)).toBe('{"schemaVersion":2,"holdings":"x"');
  });

  it("refuses a secret it cannot decode with a StateStoreError naming the secret", async () => {
    // Prepare
    const stores = await stackStores();
    await secretsClient().send(
      new PutSecretValueCommand({ SecretId: stores.secretId, SecretString: "{not json" }),
    );

    // Act
    const loading = stores.store().load();

    // Assess
    await expect(loading).rejects.toBeInstanceOf(StateStoreError);
    await expect(loading).rejects.toThrow(
      `The rotation state in Secrets Manager secret ${stores.secretId} is not valid JSON.`,
    );
  });

  it("says what Secrets Manager's versions quota is and when it clears, instead of blaming the tool", async () => {
    // Prepare (moto does not enforce the versions quota, so AWS's answer is simulated)
    const secrets = secretsClient();
    vi.spyOn(secrets, "send").mockRejectedValue(
      new SecretsManagerServiceException({
        name: "LimitExceededException",
        $fault: "client",
        $metadata: { httpStatusCode: 400 },
        message: "You have exceeded the maximum number of versions for this secret.",
      }),
    );
    const clock = new FakeClock(Date.parse("2026-03-01T10:00:00Z"));
    const keys = new SecretsManagerKeyStore(
      secrets,
      "arn:aws:secretsmanager:us-east-1:123456789012:secret:s",
      clock,
    );

    // Act
    const error = await keys.write('{"schemaVersion":2}').catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(StateStoreError);
    const akm = error as StateStoreError;
    expect(akm.fault).toBe("transient");
    expect(akm.message).toContain("(LimitExceededException): the secret reached its quota of versions");
    expect(akm.message).toContain(
      "the quota clears 24 hours after the oldest of the versions written in the last 24 hours, by 2026-03-02T10:00:00Z at the latest",
    );
    expect(akm.fix).toContain("Run Rotate again after 2026-03-02T10:00:00Z");
    expect(akm.describe()).not.toContain("open an issue");
  });

  it("reports a KMS decryption failure of the secret as a StateStoreError pointing at the KMS key", async () => {
    // Prepare (moto does not encrypt secrets with KMS, so the SDK answer is simulated)
    const secrets = secretsClient();
    vi.spyOn(secrets, "send").mockRejectedValue(
      new DecryptionFailure({ message: "Access to KMS is not allowed", $metadata: { httpStatusCode: 400 } }),
    );
    const keys = new SecretsManagerKeyStore(secrets, "akm-state-kms");

    // Act
    const error = await keys.read().catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(StateStoreError);
    expect((error as StateStoreError).message).toBe(
      "secretsmanager:GetSecretValue on Secrets Manager secret akm-state-kms failed because its KMS key could not be used (DecryptionFailure).",
    );
    expect((error as StateStoreError).fix).toContain("kms:Decrypt");
  });

  it("reports a denied secret write without revealing the secrets of the state", async () => {
    // Prepare (moto answers Secrets Manager auth errors in XML the SDK cannot parse, so AWS's answer is simulated)
    const secrets = secretsClient();
    vi.spyOn(secrets, "send").mockRejectedValue(
      new SecretsManagerServiceException({
        name: "AccessDeniedException",
        $fault: "client",
        $metadata: { httpStatusCode: 400 },
        message: "not authorized to perform: secretsmanager:PutSecretValue",
      }),
    );
    const state = sampleState("denied-pending-secret-value");
    const keys = new SecretsManagerKeyStore(secrets, "akm-state-denied");

    // Act
    const error = await keys
      .write(serializeKeyDocument(splitState(state).keys, state.updatedAt))
      .catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(StateStoreError);
    const text = (error as StateStoreError).describe();
    expect(text).toContain(
      "secretsmanager:PutSecretValue on Secrets Manager secret akm-state-denied was denied",
    );
    expect(text).toContain("kms:GenerateDataKey");
    expect(text).not.toContain("denied-pending-secret-value");
  });

  it("reports a denied progress read naming the object, the S3 action and the KMS permission", async () => {
    // Prepare (simulated: moto does not evaluate policies here)
    const s3 = s3Client();
    vi.spyOn(s3, "send").mockRejectedValue(
      Object.assign(new Error("Access Denied"), {
        name: "AccessDenied",
        $fault: "client",
        $metadata: { httpStatusCode: 403 },
      }),
    );
    const progress = new S3ProgressStore(s3, {
      bucket: "akm-config",
      key: PROGRESS_KEY,
      kmsKeyArn: "arn:aws:kms:us-east-1:123456789012:key/k",
    });

    // Act
    const error = await progress.read().catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(StateStoreError);
    expect((error as StateStoreError).message).toBe(
      `s3:GetObject on s3://akm-config/${PROGRESS_KEY} was denied (AccessDenied).`,
    );
    expect((error as StateStoreError).fix).toContain("kms:Decrypt on the stack's KMS key through S3");
  });

  it("writes the progress object only with a condition: If-None-Match first, then If-Match", async () => {
    // Prepare
    const stores = await stackStores();
    const s3 = s3Client();
    const send = vi.spyOn(s3, "send");
    const progress = new S3ProgressStore(s3, {
      bucket: stores.bucket,
      key: PROGRESS_KEY,
      kmsKeyArn: stores.kmsKeyArn,
    });
    const store = new SplitStateStore(stores.keys, progress);
    const state = sampleState("pending-secret-for-condition-test");

    // Act
    await store.save(state);
    await store.save({ ...state, githubWrites: [1] });

    // Assess
    const puts = send.mock.calls
      .map(([command]) => command)
      .filter((command) => command instanceof PutObjectCommand)
      .map((command) => {
        const { IfNoneMatch, IfMatch } = (command as PutObjectCommand).input;
        return { IfNoneMatch, IfMatch };
      });
    expect(puts[0]).toEqual({ IfNoneMatch: "*", IfMatch: undefined });
    expect(puts.slice(1).every((put) => put.IfMatch !== undefined && put.IfNoneMatch === undefined)).toBe(
      true,
    );
  });
});
