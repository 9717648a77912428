/**
 * The call proxy the crash matrix relies on (test/support/aws-proxy.ts): that it names calls as the matrix
 * expects, counts retries as attempts of one call, fails or drops every attempt of the chosen call and only
 * that one, and makes S3 conditional writes atomic as S3 does.
 */
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { afterEach, describe, expect, inject, it } from "vitest";
import { awsClientConfig, uniqueName } from "../../scripts/local-stack/aws-fixtures.ts";
import { type CallProxy, startCallProxy } from "../support/aws-proxy.ts";

const endpoint = inject("motoEndpoint");
const proxies: CallProxy[] = [];
const clients: { destroy(): void }[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
});

async function proxy(): Promise<CallProxy> {
  const started = await startCallProxy({ aws: endpoint });
  proxies.push(started);
  return started;
}

function sts(url: string): STSClient {
  const client = new STSClient({ ...awsClientConfig(url), maxAttempts: 3 });
  clients.push(client);
  return client;
}

function s3(url: string): S3Client {
  const client = new S3Client(awsClientConfig(url));
  clients.push(client);
  return client;
}

describe("the call proxy", () => {
  it("names each call by service, action and object, and counts repeated labels", async () => {
    // Prepare
    const p = await proxy();
    const bucket = uniqueName("akm-proxy");

    // Act
    await s3(p.url).send(new CreateBucketCommand({ Bucket: bucket }));
    await s3(p.url).send(new PutObjectCommand({ Bucket: bucket, Key: "repos.json", Body: "{}" }));
    await s3(p.url).send(new PutObjectCommand({ Bucket: bucket, Key: "repos.json", Body: "{}" }));
    await sts(p.url).send(new GetCallerIdentityCommand({}));

    // Assess
    expect(p.calls.map((call) => [call.label, call.occurrence, call.attempts])).toEqual([
      ["s3:PUTBucket", 1, 1],
      ["s3:PutObject repos.json", 1, 1],
      ["s3:PutObject repos.json", 2, 1],
      ["sts:GetCallerIdentity", 1, 1],
    ]);
  });

  it("answers every attempt of the chosen call 500, as one call, and lets the next call through", async () => {
    // Prepare
    const p = await proxy();
    p.arm({ at: { label: "sts:GetCallerIdentity", occurrence: 1 }, effect: "error" });

    // Act
    const failed = await sts(p.url)
      .send(new GetCallerIdentityCommand({}))
      .then(
        () => undefined,
        (error: { name?: string; $metadata?: { httpStatusCode?: number } }) => error,
      );
    const next = await sts(p.url).send(new GetCallerIdentityCommand({}));

    // Assess
    expect(failed?.$metadata?.httpStatusCode).toBe(500);
    expect(failed?.name).toBe("InternalFailure");
    expect(next.Arn).toBeDefined();
    expect(p.calls.map((call) => [call.occurrence, call.attempts, call.fault, call.status])).toEqual([
      [1, 3, "error", 500],
      [2, 1, undefined, 200],
    ]);
  });

  it("forwards a dropped call, so it takes effect, but the client never gets an answer", async () => {
    // Prepare
    const p = await proxy();
    const bucket = uniqueName("akm-proxy");
    await s3(endpoint).send(new CreateBucketCommand({ Bucket: bucket }));
    p.arm({ at: { label: "s3:PutObject lock", occurrence: 1 }, effect: "drop" });

    // Act
    const put = (url: string) =>
      s3(url).send(new PutObjectCommand({ Bucket: bucket, Key: "lock", Body: "x", IfNoneMatch: "*" }));
    const dropped = await put(p.url).then(
      () => "answered",
      () => "failed",
    );
    const again = await put(endpoint).then(
      () => "written",
      (error: { name?: string }) => error.name,
    );

    // Assess
    expect(dropped).toBe("failed");
    expect(again, "the dropped write took effect").toBe("PreconditionFailed");
    expect(p.calls[0]?.attempts).toBeGreaterThan(1);
    expect(p.calls[0]?.fault).toBe("drop");
  });

  it("lets only one of two conditional writes that arrive at the same instant succeed, as S3 does", async () => {
    // Prepare: hold both writes until both arrived, then send them on together.
    const waiting: (() => void)[] = [];
    const p = await startCallProxy({
      aws: endpoint,
      beforeCall: (call) =>
        call.label === "s3:PutObject lease"
          ? new Promise<void>((resolve) => {
              waiting.push(resolve);
              if (waiting.length === 2) for (const release of waiting) release();
            })
          : undefined,
    });
    proxies.push(p);
    const bucket = uniqueName("akm-proxy");
    await s3(endpoint).send(new CreateBucketCommand({ Bucket: bucket }));
    const client = new S3Client({ ...awsClientConfig(p.url), maxAttempts: 1 });
    clients.push(client);

    // Act
    const outcomes = await Promise.all(
      ["a", "b"].map((body) =>
        client
          .send(new PutObjectCommand({ Bucket: bucket, Key: "lease", Body: body, IfNoneMatch: "*" }))
          .then(
            () => "written",
            (error: { name?: string }) => error.name,
          ),
      ),
    );

    // Assess
    expect(outcomes.sort()).toEqual(["PreconditionFailed", "written"]);
  });
});
