import { IAMClient } from "@aws-sdk/client-iam";
import { S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  awsClientConfig,
  createAccessKeyFor,
  createConfigBucket,
  createIamUser,
  type IamUserFixture,
  putObjectText,
  type StaticCredentials,
} from "../../scripts/local-stack/aws-fixtures.ts";
import { enableMotoAuth, type MotoServer, startMoto } from "../../scripts/local-stack/moto.ts";
import { S3ConfigStore } from "../../src/aws/config-store.ts";
import { AwsIamKeys } from "../../src/aws/iam-keys.ts";
import { AkmError } from "../../src/errors.ts";

// moto checks permissions only with authentication on, which the shared server must not have:
// this file runs a moto server of its own, creates everything, then signs as a user without policies.
// Secrets Manager is not covered here: moto answers its auth errors in XML, which the SDK's JSON
// protocol cannot parse, so those denials are simulated in state-store and token-source tests.
let moto: MotoServer;
let managed: IamUserFixture;
let powerless: StaticCredentials;
let bucket: string;

beforeAll(async () => {
  moto = await startMoto();
  managed = await createIamUser(moto.endpoint);
  const caller = await createIamUser(moto.endpoint);
  powerless = await createAccessKeyFor(moto.endpoint, caller.userName);
  bucket = await createConfigBucket(moto.endpoint);
  await putObjectText(moto.endpoint, bucket, "repos.json", '{"repos":[]}');
  await enableMotoAuth(moto.endpoint);
});

afterAll(async () => {
  await moto?.stop();
});

function config() {
  return awsClientConfig(moto.endpoint, powerless);
}

describe("adapters denied access by IAM", () => {
  it("report iam:GetUser as denied on the managed user", async () => {
    // Prepare
    const keys = new AwsIamKeys(new IAMClient(config()), managed);

    // Act
    const error = await keys.checkUser().catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(AkmError);
    expect((error as AkmError).message).toMatch(
      new RegExp(`^iam:GetUser on IAM user ${managed.userName} was denied \\(AccessDenied`),
    );
    expect((error as AkmError).fix).toContain("execution role");
  });

  it("report s3:GetObject as denied on the object, pointing at s3:ListBucket", async () => {
    // Prepare
    const store = new S3ConfigStore(new S3Client(config()), bucket, "repos.json");

    // Act
    const error = await store.read().catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(AkmError);
    expect((error as AkmError).message).toBe(
      `s3:GetObject on s3://${bucket}/repos.json was denied (AccessDenied).`,
    );
    expect((error as AkmError).fix).toContain(`s3:ListBucket on bucket ${bucket}`);
  });

  it("report s3:PutObject as denied on the object", async () => {
    // Prepare
    const store = new S3ConfigStore(new S3Client(config()), bucket, "repos.json");

    // Act
    const error = await store.write('{"repos":[]}', undefined).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(AkmError);
    expect((error as AkmError).message).toMatch(
      new RegExp(`^s3:PutObject on s3://${bucket}/repos.json was denied \\(AccessDenied`),
    );
  });
});
