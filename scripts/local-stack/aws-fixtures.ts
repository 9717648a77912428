import { randomBytes } from "node:crypto";
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  IAMClient,
  ListAccessKeysCommand,
  PutUserPolicyCommand,
} from "@aws-sdk/client-iam";
import { CreateKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";

/**
 * Helpers that create AWS resources in moto for tests. Test files share one moto server and run in
 * parallel, so every resource gets a unique name from `uniqueName` instead of moto being reset.
 */

export interface StaticCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** moto's conventional dummy credentials; the shared server does not check them. */
export const MOTO_CREDENTIALS: StaticCredentials = { accessKeyId: "testing", secretAccessKey: "testing" };

export const MOTO_REGION = "us-east-1";

/** moto's default account, in which every resource is created. */
export const MOTO_ACCOUNT_ID = "123456789012";

export interface AwsClientConfig {
  readonly region: string;
  readonly endpoint: string;
  readonly credentials: StaticCredentials;
  /** S3 only: moto serves buckets by path, not by virtual host. Other clients ignore it. */
  readonly forcePathStyle: true;
}

/** Configuration for any AWS SDK client pointed at moto. */
export function awsClientConfig(
  endpoint: string,
  credentials: StaticCredentials = MOTO_CREDENTIALS,
): AwsClientConfig {
  return { region: MOTO_REGION, endpoint, credentials, forcePathStyle: true };
}

/** `prefix-` followed by random characters, valid as an IAM user, secret or S3 bucket name. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(6).toString("hex")}`;
}

export interface IamUserFixture {
  readonly userName: string;
  readonly userArn: string;
}

export async function createIamUser(
  endpoint: string,
  name = uniqueName("akm-user"),
): Promise<IamUserFixture> {
  const iam = new IAMClient(awsClientConfig(endpoint));
  const { User } = await iam.send(new CreateUserCommand({ UserName: name }));
  if (!User?.Arn) throw new Error(`moto returned no ARN for IAM user ${name}`);
  return { userName: name, userArn: User.Arn };
}

/** A key created outside the code under test (plain strings: this is test data, not a managed secret). */
export async function createAccessKeyFor(endpoint: string, userName: string): Promise<StaticCredentials> {
  const iam = new IAMClient(awsClientConfig(endpoint));
  const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: userName }));
  if (!AccessKey?.AccessKeyId || !AccessKey.SecretAccessKey)
    throw new Error(`moto returned no key for ${userName}`);
  return { accessKeyId: AccessKey.AccessKeyId, secretAccessKey: AccessKey.SecretAccessKey };
}

/** Lets the user do everything: for moto servers that check permissions (see `enableMotoAuth`). */
export async function allowEverything(endpoint: string, userName: string): Promise<void> {
  const iam = new IAMClient(awsClientConfig(endpoint));
  await iam.send(
    new PutUserPolicyCommand({
      UserName: userName,
      PolicyName: "allow-everything",
      PolicyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }],
      }),
    }),
  );
}

export interface AccessKeyListing {
  readonly accessKeyId: string;
  readonly status: string;
}

/** The user's keys as IAM reports them, read independently of the adapter under test. */
export async function listAccessKeys(endpoint: string, userName: string): Promise<AccessKeyListing[]> {
  const iam = new IAMClient(awsClientConfig(endpoint));
  const { AccessKeyMetadata } = await iam.send(new ListAccessKeysCommand({ UserName: userName }));
  return (AccessKeyMetadata ?? []).map((key) => ({
    accessKeyId: key.AccessKeyId ?? "",
    status: key.Status ?? "",
  }));
}

/** "Active", "Inactive", or undefined when the user has no such key. */
export async function keyStatus(
  endpoint: string,
  userName: string,
  accessKeyId: string,
): Promise<string | undefined> {
  const keys = await listAccessKeys(endpoint, userName);
  return keys.find((key) => key.accessKeyId === accessKeyId)?.status;
}

export interface StateSecretFixture {
  readonly secretId: string;
  readonly kmsKeyId: string;
}

/** The rotation state secret as the template creates it: a customer KMS key and the value `{}`. */
export async function createStateSecret(
  endpoint: string,
  name = uniqueName("akm-state"),
  initialValue = "{}",
): Promise<StateSecretFixture> {
  const kms = new KMSClient(awsClientConfig(endpoint));
  const { KeyMetadata } = await kms.send(new CreateKeyCommand({ Description: `state key for ${name}` }));
  if (!KeyMetadata?.KeyId) throw new Error(`moto returned no KMS key for ${name}`);
  const secrets = new SecretsManagerClient(awsClientConfig(endpoint));
  const { ARN } = await secrets.send(
    new CreateSecretCommand({ Name: name, KmsKeyId: KeyMetadata.KeyId, SecretString: initialValue }),
  );
  if (!ARN) throw new Error(`moto returned no ARN for secret ${name}`);
  return { secretId: ARN, kmsKeyId: KeyMetadata.KeyId };
}

/** A GitHub token secret; `value` undefined creates the secret without any value. */
export async function createTokenSecret(
  endpoint: string,
  value: string | undefined,
  name = uniqueName("akm-token"),
): Promise<string> {
  const secrets = new SecretsManagerClient(awsClientConfig(endpoint));
  const { ARN } = await secrets.send(
    new CreateSecretCommand({ Name: name, ...(value === undefined ? {} : { SecretString: value }) }),
  );
  if (!ARN) throw new Error(`moto returned no ARN for secret ${name}`);
  return ARN;
}

export async function createConfigBucket(endpoint: string, name = uniqueName("akm-config")): Promise<string> {
  const s3 = new S3Client(awsClientConfig(endpoint));
  await s3.send(new CreateBucketCommand({ Bucket: name }));
  return name;
}

/** Writes an object directly, as a person editing repos.json would; returns its ETag. */
export async function putObjectText(
  endpoint: string,
  bucket: string,
  key: string,
  text: string,
): Promise<string> {
  const s3 = new S3Client(awsClientConfig(endpoint));
  const { ETag } = await s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: key, Body: text, ContentType: "application/json" }),
  );
  if (!ETag) throw new Error(`moto returned no ETag for s3://${bucket}/${key}`);
  return ETag;
}

export interface StackSecretsFixture {
  readonly kmsKeyId: string;
  readonly kmsKeyArn: string;
  readonly tokenSecretArn: string;
  readonly stateSecretArn: string;
}

/**
 * The stack's two secrets as the template names them, under one customer KMS key: the GitHub token
 * (`GHS-AKM-<user>-GitHubToken-<machine user>`) and the empty rotation state (`GHS-AKM-<user>-RotationState`).
 */
export async function createStackSecrets(
  endpoint: string,
  options: { userName: string; machineUser: string; token: string; keyDescription: string },
): Promise<StackSecretsFixture> {
  const kms = new KMSClient(awsClientConfig(endpoint));
  const { KeyMetadata } = await kms.send(new CreateKeyCommand({ Description: options.keyDescription }));
  kms.destroy();
  if (!KeyMetadata?.KeyId || !KeyMetadata.Arn) throw new Error("aws-fixtures: moto returned no KMS key");
  const secrets = new SecretsManagerClient(awsClientConfig(endpoint));
  const create = async (Name: string, SecretString: string): Promise<string> => {
    const { ARN } = await secrets.send(
      new CreateSecretCommand({ Name, SecretString, KmsKeyId: KeyMetadata.Arn }),
    );
    if (!ARN) throw new Error(`aws-fixtures: moto returned no ARN for secret ${Name}`);
    return ARN;
  };
  try {
    return {
      kmsKeyId: KeyMetadata.KeyId,
      kmsKeyArn: KeyMetadata.Arn,
      tokenSecretArn: await create(
        `GHS-AKM-${options.userName}-GitHubToken-${options.machineUser}`,
        options.token,
      ),
      stateSecretArn: await create(`GHS-AKM-${options.userName}-RotationState`, "{}"),
    };
  } finally {
    secrets.destroy();
  }
}
