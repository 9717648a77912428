import {
  CreateSecretCommand,
  DecryptionFailure,
  SecretsManagerClient,
  SecretsManagerServiceException,
} from "@aws-sdk/client-secrets-manager";
import { describe, expect, inject, it, vi } from "vitest";
import { SecretsManagerStateStore } from "../../src/aws/state-store.ts";
import { SecretValue } from "../../src/domain/secret-value.ts";
import { StateStoreError } from "../../src/errors.ts";
import type { RotationState } from "../../src/lifecycle/state.ts";
import { awsClientConfig, createStateSecret, uniqueName } from "../support/aws-fixtures.ts";

const endpoint = inject("motoEndpoint");

function client(): SecretsManagerClient {
  return new SecretsManagerClient(awsClientConfig(endpoint));
}

function sampleState(currentSecret: string, pendingSecret: string): RotationState {
  return {
    schemaVersion: 1,
    current: {
      accessKeyId: "FAKECURRENTKEY000001",
      secretAccessKey: new SecretValue(currentSecret),
      createdAt: "2025-01-01T00:00:00.000Z",
      origin: "created",
    },
    pending: {
      accessKeyId: "FAKEPENDINGKEY000001",
      secretAccessKey: new SecretValue(pendingSecret),
      createdAt: "2025-02-01T00:00:00.000Z",
      verifiedAt: undefined,
    },
    creating: undefined,
    previous: {
      accessKeyId: "FAKEPREVIOUSKEY00001",
      origin: "adopted",
      retireAfter: "2025-02-01T01:00:00.000Z",
    },
    holdings: { "octo/repo": { accessKeyId: "FAKECURRENTKEY000001", writtenAt: "2025-01-01T00:01:00.000Z" } },
    updatedAt: "2025-02-01T00:00:01.000Z",
  };
}

describe("SecretsManagerStateStore", () => {
  it("loads no state from a secret that still holds the template's initial {}", async () => {
    // Prepare
    const { secretId } = await createStateSecret(endpoint);
    const store = new SecretsManagerStateStore(client(), secretId);

    // Act
    const state = await store.load();

    // Assess
    expect(state).toBeUndefined();
  });

  it("loads no state from a secret that has no value yet", async () => {
    // Prepare
    const name = uniqueName("akm-state");
    await client().send(new CreateSecretCommand({ Name: name }));
    const store = new SecretsManagerStateStore(client(), name);

    // Act
    const state = await store.load();

    // Assess
    expect(state).toBeUndefined();
  });

  it("saves a state and loads it back with the secrets it holds intact", async () => {
    // Prepare
    const { secretId } = await createStateSecret(endpoint);
    const saved = sampleState(`current/${uniqueName("secret")}`, `pending+${uniqueName("secret")}`);
    await new SecretsManagerStateStore(client(), secretId).save(saved);

    // Act
    const loaded = await new SecretsManagerStateStore(client(), secretId).load();

    // Assess
    expect(loaded?.current?.secretAccessKey?.reveal()).toBe(saved.current?.secretAccessKey?.reveal());
    expect(loaded?.pending?.secretAccessKey.reveal()).toBe(saved.pending?.secretAccessKey.reveal());
    expect(JSON.parse(JSON.stringify(loaded))).toEqual(JSON.parse(JSON.stringify(saved)));
  });

  it("overwrites the previous state on each save", async () => {
    // Prepare
    const { secretId } = await createStateSecret(endpoint);
    const store = new SecretsManagerStateStore(client(), secretId);
    await store.save(sampleState("first-current-secret", "first-pending-secret"));

    // Act
    await store.save({
      ...sampleState("second-current-secret", "second-pending-secret"),
      pending: undefined,
    });

    // Assess
    const loaded = await store.load();
    expect(loaded?.current?.secretAccessKey?.reveal()).toBe("second-current-secret");
    expect(loaded?.pending).toBeUndefined();
  });

  it("rejects a corrupt state with a StateStoreError naming the secret", async () => {
    // Prepare
    const { secretId } = await createStateSecret(endpoint, uniqueName("akm-state"), "{not json");
    const store = new SecretsManagerStateStore(client(), secretId);

    // Act
    const loading = store.load();

    // Assess
    await expect(loading).rejects.toBeInstanceOf(StateStoreError);
    await expect(loading).rejects.toThrow(
      `The rotation state in Secrets Manager secret ${secretId} is not valid JSON.`,
    );
  });

  it("reports saving to a missing secret without revealing the secrets of the state", async () => {
    // Prepare
    const secretId = uniqueName("akm-state-missing");
    const store = new SecretsManagerStateStore(client(), secretId);
    const state = sampleState("current-secret-never-in-messages", "pending-secret-never-in-messages");

    // Act
    const error = await store.save(state).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(StateStoreError);
    const text = (error as StateStoreError).describe();
    expect(text).toContain(`The rotation state secret ${secretId} does not exist`);
    expect(text).not.toContain("current-secret-never-in-messages");
    expect(text).not.toContain("pending-secret-never-in-messages");
  });

  it("reports a KMS decryption failure as a StateStoreError pointing at the KMS key", async () => {
    // Prepare (moto does not encrypt secrets with KMS, so the SDK answer is simulated)
    const secrets = client();
    vi.spyOn(secrets, "send").mockRejectedValue(
      new DecryptionFailure({ message: "Access to KMS is not allowed", $metadata: { httpStatusCode: 400 } }),
    );
    const store = new SecretsManagerStateStore(secrets, "akm-state-kms");

    // Act
    const error = await store.load().catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(StateStoreError);
    expect((error as StateStoreError).message).toBe(
      "secretsmanager:GetSecretValue on Secrets Manager secret akm-state-kms failed because its KMS key could not be used (DecryptionFailure).",
    );
    expect((error as StateStoreError).fix).toContain("kms:Decrypt");
  });

  it("reports a denied read as a StateStoreError naming the action, the secret and the KMS permission", async () => {
    // Prepare (moto answers Secrets Manager auth errors in XML the SDK cannot parse, so AWS's answer is simulated)
    const secrets = client();
    vi.spyOn(secrets, "send").mockRejectedValue(
      new SecretsManagerServiceException({
        name: "AccessDeniedException",
        $fault: "client",
        $metadata: { httpStatusCode: 400 },
        message:
          "User: arn:aws:sts::123456789012:assumed-role/akm/fn is not authorized to perform: secretsmanager:GetSecretValue",
      }),
    );
    const store = new SecretsManagerStateStore(secrets, "akm-state-denied");

    // Act
    const error = await store.load().catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(StateStoreError);
    expect((error as StateStoreError).message).toBe(
      "secretsmanager:GetSecretValue on Secrets Manager secret akm-state-denied was denied (AccessDeniedException).",
    );
    expect((error as StateStoreError).fix).toContain("kms:Decrypt");
  });

  it("reports a denied write as a StateStoreError without revealing the secrets of the state", async () => {
    // Prepare (simulated, as above)
    const secrets = client();
    vi.spyOn(secrets, "send").mockRejectedValue(
      new SecretsManagerServiceException({
        name: "AccessDeniedException",
        $fault: "client",
        $metadata: { httpStatusCode: 400 },
        message: "not authorized to perform: secretsmanager:PutSecretValue",
      }),
    );
    const store = new SecretsManagerStateStore(secrets, "akm-state-denied");

    // Act
    const error = await store
      .save(sampleState("denied-current-secret-value", "denied-pending-secret-value"))
      .catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(StateStoreError);
    const text = (error as StateStoreError).describe();
    expect(text).toContain(
      "secretsmanager:PutSecretValue on Secrets Manager secret akm-state-denied was denied",
    );
    expect(text).toContain("kms:GenerateDataKey");
    expect(text).not.toContain("denied-current-secret-value");
    expect(text).not.toContain("denied-pending-secret-value");
  });
});
