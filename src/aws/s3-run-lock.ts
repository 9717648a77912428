import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import * as v from "valibot";
import type { LockHolder, RunLock } from "../ports.ts";
import { awsErrorCode } from "./aws-error-code.ts";
import { awsFailure } from "./aws-failure.ts";

// A conditional write lost to another writer: the object exists (If-None-Match), changed (If-Match),
// raced (409) or vanished.
const LOST = new Set(["PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey"]);

const Lease = v.object({ owner: v.string(), acquiredAt: v.string(), expiresAt: v.string() });

/**
 * RunLock as one small S3 object beside repos.json. S3 conditional writes make taking it atomic:
 * If-None-Match: * creates it only when absent; If-Match: <etag> renews or takes over an expired lease
 * only if nobody changed it since it was read.
 */
export class S3RunLock implements RunLock {
  readonly #s3: S3Client;
  readonly #bucket: string;
  readonly #key: string;

  constructor(s3: S3Client, bucket: string, key: string) {
    this.#s3 = s3;
    this.#bucket = bucket;
    this.#key = key;
  }

  async acquire(owner: string, now: Date, ttlMs: number): Promise<LockHolder | undefined> {
    const lease: LockHolder = {
      owner,
      acquiredAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + ttlMs).toISOString(),
    };
    if (await this.#put(lease, { IfNoneMatch: "*" })) return undefined;
    const current = await this.#read();
    if (!current)
      return (await this.#put(lease, { IfNoneMatch: "*" })) ? undefined : this.#unknownHolder(now);
    const mine = current.lease?.owner === owner;
    const expired = !current.lease || Date.parse(current.lease.expiresAt) <= now.getTime();
    if (!mine && !expired && current.lease) return current.lease;
    const renewed = mine && current.lease ? { ...lease, acquiredAt: current.lease.acquiredAt } : lease;
    if (await this.#put(renewed, { IfMatch: current.etag })) return undefined;
    return (await this.#read())?.lease ?? this.#unknownHolder(now);
  }

  /**
   * Deletes the lease only if `owner` holds it, with a conditional delete (`If-Match` on the ETag read), so a
   * lease another run took over in between is never removed. Conditional deletes:
   * https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObject.html (If-Match).
   */
  async release(owner: string): Promise<void> {
    const current = await this.#read();
    if (current?.lease?.owner !== owner) return;
    try {
      await this.#s3.send(
        new DeleteObjectCommand({ Bucket: this.#bucket, Key: this.#key, IfMatch: current.etag }),
      );
    } catch (error) {
      const code = awsErrorCode(error);
      if (code !== undefined && LOST.has(code)) return; // changed or gone since read: not ours to delete
      throw awsFailure(error, { action: "s3:DeleteObject", resource: this.#location() });
    }
  }

  async #put(lease: LockHolder, condition: { IfNoneMatch: string } | { IfMatch: string }): Promise<boolean> {
    try {
      await this.#s3.send(
        new PutObjectCommand({
          Bucket: this.#bucket,
          Key: this.#key,
          Body: JSON.stringify(lease),
          ContentType: "application/json",
          ...condition,
        }),
      );
      return true;
    } catch (error) {
      const code = awsErrorCode(error);
      if (code !== undefined && LOST.has(code)) return false;
      throw awsFailure(error, { action: "s3:PutObject", resource: this.#location() });
    }
  }

  async #read(): Promise<{ lease: LockHolder | undefined; etag: string } | undefined> {
    try {
      const response = await this.#s3.send(new GetObjectCommand({ Bucket: this.#bucket, Key: this.#key }));
      const text = (await response.Body?.transformToString("utf-8")) ?? "";
      let lease: LockHolder | undefined;
      try {
        const parsed = v.safeParse(Lease, JSON.parse(text));
        lease = parsed.success ? parsed.output : undefined;
      } catch {
        lease = undefined; // an unreadable lease is treated as expired and taken over
      }
      return { lease, etag: response.ETag ?? "" };
    } catch (error) {
      if (awsErrorCode(error) === "NoSuchKey") return undefined;
      throw awsFailure(error, { action: "s3:GetObject", resource: this.#location() });
    }
  }

  #unknownHolder(now: Date): LockHolder {
    // Lost a race to a writer we could not read back; report it as held for now.
    return { owner: "(another run)", acquiredAt: now.toISOString(), expiresAt: now.toISOString() };
  }

  #location(): string {
    return `s3://${this.#bucket}/${this.#key}`;
  }
}
