import { DeleteAccessKeyCommand, IAMClient } from "@aws-sdk/client-iam";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import {
  awsClientConfig,
  createAccessKeyFor,
  createIamUser,
  type IamUserFixture,
  MOTO_REGION,
  type StaticCredentials,
} from "../../scripts/local-stack/aws-fixtures.ts";
import { enableMotoAuth, type MotoServer, startMoto } from "../../scripts/local-stack/moto.ts";
import { StsIdentityProbe } from "../../src/aws/identity-probe.ts";
import type { AccessKeyPair } from "../../src/domain/access-key.ts";
import { SecretValue } from "../../src/domain/secret-value.ts";
import { KeyNotAcceptedError, VerificationError } from "../../src/errors.ts";

// STS only refuses unknown keys when moto checks credentials, which the shared server must not do:
// this file runs a moto server of its own, prepares everything, then switches authentication on.
let moto: MotoServer;
let user: IamUserFixture;
let freshKey: StaticCredentials;
let deletedKey: StaticCredentials;

beforeAll(async () => {
  moto = await startMoto();
  user = await createIamUser(moto.endpoint);
  freshKey = await createAccessKeyFor(moto.endpoint, user.userName);
  deletedKey = await createAccessKeyFor(moto.endpoint, user.userName);
  await new IAMClient(awsClientConfig(moto.endpoint)).send(
    new DeleteAccessKeyCommand({ UserName: user.userName, AccessKeyId: deletedKey.accessKeyId }),
  );
  await enableMotoAuth(moto.endpoint);
});

afterAll(async () => {
  await moto?.stop();
});

afterEach(() => {
  vi.unstubAllEnvs();
});

function pair(credentials: StaticCredentials): AccessKeyPair {
  return {
    accessKeyId: credentials.accessKeyId,
    secretAccessKey: new SecretValue(credentials.secretAccessKey),
  };
}

describe("StsIdentityProbe", () => {
  it("returns the ARN of the user a fresh key belongs to", async () => {
    // Prepare
    const probe = new StsIdentityProbe({ region: MOTO_REGION, endpoint: moto.endpoint });

    // Act
    const arn = await probe.callerArn(pair(freshKey));

    // Assess
    expect(arn).toBe(user.userArn);
  });

  it("refuses a deleted key with a retryable KeyNotAcceptedError naming the key", async () => {
    // Prepare
    const probe = new StsIdentityProbe({ region: MOTO_REGION, endpoint: moto.endpoint });

    // Act
    const error = await probe.callerArn(pair(deletedKey)).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(KeyNotAcceptedError);
    expect(error).toBeInstanceOf(VerificationError);
    expect(error).toMatchObject({
      code: "InvalidClientTokenId",
      accessKeyId: deletedKey.accessKeyId,
      fault: "transient",
    });
    expect((error as KeyNotAcceptedError).describe()).not.toContain(deletedKey.secretAccessKey);
  });

  it("refuses a key whose secret does not match with a KeyNotAcceptedError that hides the secret", async () => {
    // Prepare
    const probe = new StsIdentityProbe({ region: MOTO_REGION, endpoint: moto.endpoint });
    const wrongSecret = `${freshKey.secretAccessKey.slice(0, -4)}WXYZ`;

    // Act
    const error = await probe
      .callerArn({ accessKeyId: freshKey.accessKeyId, secretAccessKey: new SecretValue(wrongSecret) })
      .catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(KeyNotAcceptedError);
    expect(error).toMatchObject({ code: "SignatureDoesNotMatch" });
    expect((error as KeyNotAcceptedError).describe()).not.toContain(wrongSecret);
    expect((error as KeyNotAcceptedError).describe()).not.toContain(freshKey.secretAccessKey);
  });

  it("reaches the endpoint in AWS_ENDPOINT_URL when given only a region, as inside the Lambda", async () => {
    // Prepare
    vi.stubEnv("AWS_ENDPOINT_URL", moto.endpoint);
    const probe = new StsIdentityProbe({ region: MOTO_REGION });

    // Act
    const arn = await probe.callerArn(pair(freshKey));

    // Assess
    expect(arn).toBe(user.userArn);
  });
});
