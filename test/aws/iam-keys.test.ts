import { IAMClient } from "@aws-sdk/client-iam";
import { describe, expect, inject, it, onTestFinished, vi } from "vitest";
import {
  awsClientConfig,
  createAccessKeyFor,
  createIamUser,
  keyStatus,
  listAccessKeys,
  MOTO_ACCOUNT_ID,
} from "../../scripts/local-stack/aws-fixtures.ts";
import { AwsIamKeys } from "../../src/aws/iam-keys.ts";
import { IamStateError } from "../../src/errors.ts";
import { type InjectedAnswer, startCallProxy } from "../support/aws-proxy.ts";
import { FakeClock } from "../support/fakes.ts";

const endpoint = inject("motoEndpoint");

async function keysOfNewUser() {
  const user = await createIamUser(endpoint);
  const keys = new AwsIamKeys(new IAMClient(awsClientConfig(endpoint)), user);
  return { user, keys };
}

describe("AwsIamKeys", () => {
  it("creates an Active key and hands its secret over only as a SecretValue", async () => {
    // Prepare
    const { user, keys } = await keysOfNewUser();

    // Act
    const created = await keys.create();

    // Assess
    expect(await keyStatus(endpoint, user.userName, created.accessKeyId)).toBe("Active");
    expect(created.secretAccessKey.reveal()).toMatch(/^\S{20,}$/);
    expect(String(created.secretAccessKey)).toBe("[redacted]");
    expect(JSON.stringify(created)).not.toContain(created.secretAccessKey.reveal());
    expect(created.createdAt).toBeInstanceOf(Date);
  });

  it("lists the user's keys oldest first with their status", async () => {
    // Prepare
    const { keys } = await keysOfNewUser();
    const older = await keys.create();
    const newer = await keys.create();
    await keys.deactivate(older.accessKeyId);

    // Act
    const listed = await keys.list();

    // Assess
    expect(listed.map((key) => [key.accessKeyId, key.status])).toEqual([
      [older.accessKeyId, "Inactive"],
      [newer.accessKeyId, "Active"],
    ]);
    expect(listed[0]?.createdAt.getTime()).toBeLessThanOrEqual(listed[1]?.createdAt.getTime() ?? 0);
  });

  it("sorts keys by creation date even when IAM lists the newest first", async () => {
    // Prepare
    const iam = new IAMClient(awsClientConfig(endpoint));
    const keys = new AwsIamKeys(iam, {
      userName: "someone",
      userArn: `arn:aws:iam::${MOTO_ACCOUNT_ID}:user/someone`,
    });
    vi.spyOn(iam, "send").mockResolvedValue({
      AccessKeyMetadata: [
        {
          AccessKeyId: "TESTNEWERKEY0000001",
          Status: "Active",
          CreateDate: new Date("2025-02-01T00:00:00Z"),
        },
        {
          AccessKeyId: "TESTOLDERKEY0000001",
          Status: "Inactive",
          CreateDate: new Date("2025-01-01T00:00:00Z"),
        },
      ],
      IsTruncated: false,
    } as never);

    // Act
    const listed = await keys.list();

    // Assess
    expect(listed.map((key) => key.accessKeyId)).toEqual(["TESTOLDERKEY0000001", "TESTNEWERKEY0000001"]);
  });

  it("deactivates a key, leaving it listed as Inactive", async () => {
    // Prepare
    const { user, keys } = await keysOfNewUser();
    const key = await keys.create();

    // Act
    await keys.deactivate(key.accessKeyId);

    // Assess
    expect(await keyStatus(endpoint, user.userName, key.accessKeyId)).toBe("Inactive");
  });

  it("deletes a key, removing it from the user's keys", async () => {
    // Prepare
    const { user, keys } = await keysOfNewUser();
    const kept = await keys.create();
    const deleted = await keys.create();

    // Act
    await keys.delete(deleted.accessKeyId);

    // Assess
    expect(await listAccessKeys(endpoint, user.userName)).toEqual([
      { accessKeyId: kept.accessKeyId, status: "Active" },
    ]);
  });

  it("treats deleting an already deleted key as done, so a retried run can finish", async () => {
    // Prepare
    const { user, keys } = await keysOfNewUser();
    const key = await keys.create();
    await keys.delete(key.accessKeyId);

    // Act
    const again = keys.delete(key.accessKeyId);

    // Assess
    await expect(again).resolves.toBeUndefined();
    expect(await listAccessKeys(endpoint, user.userName)).toEqual([]);
  });

  it("reports deactivating an unknown key as an IamStateError naming the key and the user", async () => {
    // Prepare
    const { user, keys } = await keysOfNewUser();

    // Act
    const attempt = keys.deactivate("FAKEUNKNOWNKEY000001");

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(IamStateError);
    await expect(attempt).rejects.toThrow(
      `access key FAKEUNKNOWNKEY000001 of IAM user ${user.userName} does not exist`,
    );
  });

  it("refuses a third key with an IamStateError that names the user and never the existing secrets", async () => {
    // Prepare
    const { user, keys } = await keysOfNewUser();
    const first = await keys.create();
    const second = await keys.create();

    // Act
    const error = await keys.create().catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(IamStateError);
    const text = (error as IamStateError).describe();
    expect(text).toContain(`IAM user ${user.userName} already has the maximum number of access keys`);
    expect(text).not.toContain(first.secretAccessKey.reveal());
    expect(text).not.toContain(second.secretAccessKey.reveal());
  });

  it("accepts a user whose ARN matches the configured one", async () => {
    // Prepare
    const { keys } = await keysOfNewUser();

    // Act
    const check = keys.checkUser();

    // Assess
    await expect(check).resolves.toBeUndefined();
  });

  it("reports a missing user by name, with pIamUserName as the fix", async () => {
    // Prepare
    const keys = new AwsIamKeys(new IAMClient(awsClientConfig(endpoint)), {
      userName: "akm-user-that-does-not-exist",
      userArn: `arn:aws:iam::${MOTO_ACCOUNT_ID}:user/akm-user-that-does-not-exist`,
    });

    // Act
    const error = await keys.checkUser().catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(IamStateError);
    expect((error as IamStateError).message).toBe(
      "IAM user akm-user-that-does-not-exist does not exist in this account.",
    );
    expect((error as IamStateError).fix).toContain("pIamUserName");
  });

  it("reports an ARN in another account naming both ARNs, with pIamUserArn as the fix", async () => {
    // Prepare
    const user = await createIamUser(endpoint);
    const configuredArn = `arn:aws:iam::999999999999:user/${user.userName}`;
    const keys = new AwsIamKeys(new IAMClient(awsClientConfig(endpoint)), {
      userName: user.userName,
      userArn: configuredArn,
    });

    // Act
    const error = await keys.checkUser().catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(IamStateError);
    expect((error as IamStateError).message).toContain(user.userArn);
    expect((error as IamStateError).message).toContain(configuredArn);
    expect((error as IamStateError).fix).toBe(`Update the stack parameter pIamUserArn to ${user.userArn}.`);
  });

  it("reports an ARN of another user as parameters describing different users", async () => {
    // Prepare
    const user = await createIamUser(endpoint);
    const other = await createIamUser(endpoint);
    const keys = new AwsIamKeys(new IAMClient(awsClientConfig(endpoint)), {
      userName: user.userName,
      userArn: other.userArn,
    });

    // Act
    const error = await keys.checkUser().catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(IamStateError);
    expect((error as IamStateError).fix).toContain("pIamUserName and pIamUserArn describe the same user");
    expect((error as IamStateError).fix).toContain(other.userName);
  });

  it("lists a key created outside the tool alongside its own", async () => {
    // Prepare
    const { user, keys } = await keysOfNewUser();
    const outside = await createAccessKeyFor(endpoint, user.userName);

    // Act
    const listed = await keys.list();

    // Assess
    expect(listed).toEqual([
      { accessKeyId: outside.accessKeyId, status: "Active", createdAt: expect.any(Date) },
    ]);
  });
});

/**
 * IAM answers from servers that may not have seen a change made moments ago. A proxy in front of moto answers
 * chosen calls the way such a server does (in IAM's own wire format), then lets the next ones through.
 */
describe("AwsIamKeys while IAM propagates a change", () => {
  /** A user whose keys are reached through the proxy; `lag[action]` holds the answers to give first. */
  async function laggingIam() {
    const lag: Record<string, InjectedAnswer[]> = {};
    const proxy = await startCallProxy({ aws: endpoint, answer: (call) => lag[call.action]?.shift() });
    onTestFinished(() => proxy.close());
    const user = await createIamUser(endpoint);
    const clock = new FakeClock();
    // One attempt per call: the SDK's own retries (it takes LimitExceededException for throttling) would wait
    // in real time and hide what the adapter does.
    const iam = new IAMClient({ ...awsClientConfig(proxy.url), maxAttempts: 1 });
    const keys = new AwsIamKeys(iam, user, { clock });
    return { user, keys, clock, lag };
  }

  const noSuchKey = (accessKeyId: string): InjectedAnswer => ({
    status: 404,
    error: { code: "NoSuchEntity", message: `The Access Key with id ${accessKeyId} cannot be found.` },
  });
  const limitExceeded: InjectedAnswer = {
    status: 409,
    error: { code: "LimitExceeded", message: "Cannot exceed quota for AccessKeysPerUser: 2" },
  };

  it("creates the key once IAM stops counting a key deleted moments ago against the limit of two", async () => {
    // Prepare
    const { user, keys, clock, lag } = await laggingIam();
    await createAccessKeyFor(endpoint, user.userName);
    lag.CreateAccessKey = [limitExceeded, limitExceeded];

    // Act
    const created = await keys.create();

    // Assess
    expect(await keyStatus(endpoint, user.userName, created.accessKeyId)).toBe("Active");
    expect(clock.sleeps).toEqual([1000, 2000]);
  });

  it("still refuses a third key at once when IAM lists two", async () => {
    // Prepare
    const { user, keys, clock } = await laggingIam();
    await createAccessKeyFor(endpoint, user.userName);
    await createAccessKeyFor(endpoint, user.userName);

    // Act
    const error = await keys.create().catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(IamStateError);
    expect(clock.sleeps).toEqual([]);
  });

  it("deactivates and deletes a key created moments ago once every IAM server knows it", async () => {
    // Prepare
    const { user, keys, clock, lag } = await laggingIam();
    const deactivated = await createAccessKeyFor(endpoint, user.userName);
    const deleted = await createAccessKeyFor(endpoint, user.userName);
    lag.UpdateAccessKey = [noSuchKey(deactivated.accessKeyId)];
    lag.DeleteAccessKey = [noSuchKey(deleted.accessKeyId), noSuchKey(deleted.accessKeyId)];

    // Act
    await keys.deactivate(deactivated.accessKeyId);
    await keys.delete(deleted.accessKeyId);

    // Assess
    expect(await listAccessKeys(endpoint, user.userName)).toEqual([
      { accessKeyId: deactivated.accessKeyId, status: "Inactive" },
    ]);
    expect(clock.sleeps).toEqual([1000, 1000, 2000]);
  });

  it("waits for a listing that shows a key created moments ago, and gives up on it after about a minute", async () => {
    // Prepare
    const { user, keys, clock, lag } = await laggingIam();
    const key = await createAccessKeyFor(endpoint, user.userName);
    const withoutKeys: InjectedAnswer = {
      status: 200,
      contentType: "text/xml",
      body: "<ListAccessKeysResponse><ListAccessKeysResult><AccessKeyMetadata/><IsTruncated>false</IsTruncated></ListAccessKeysResult></ListAccessKeysResponse>",
    };
    lag.ListAccessKeys = [withoutKeys, withoutKeys];

    // Act
    const listed = await keys.list([key.accessKeyId]);
    const gone = await keys.list(["FAKEDELETEDKEY000001"]);

    // Assess
    expect(listed.map((k) => k.accessKeyId)).toEqual([key.accessKeyId]);
    expect(gone.map((k) => k.accessKeyId)).toEqual([key.accessKeyId]);
    expect(clock.sleeps).toEqual([1000, 2000, 1000, 2000, 4000, 8000, 15_000, 15_000, 15_000]);
  });
});
