import { GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { type AkmError, StateStoreError } from "../errors.ts";
import type { ProgressStore, VersionedText } from "../ports.ts";
import { awsErrorCode } from "./aws-error-code.ts";
import { awsFailure, isAccessDenied } from "./aws-failure.ts";

// A conditional write whose condition no longer holds: the object changed or appeared (412), another
// conditional write to it raced this one (409), or it was deleted since it was read (404).
const CONFLICT = new Set(["PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey"]);
/** Far beyond what 10,000 repositories need (about 0.5 MB); refuses a foreign object before reading it. */
const MAX_PROGRESS_BYTES = 32 * 1024 * 1024;

/**
 * The rotation's progress as one S3 object beside repos.json, encrypted with the stack's KMS key (SSE-KMS,
 * without an S3 Bucket Key, so KMS sees the object's ARN as encryption context and the function's role can be
 * limited to exactly this object: https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html,
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-key.html).
 *
 * Writes are conditional (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html):
 * `If-Match` on the ETag last read or written, `If-None-Match: *` for the first one, so two writers never
 * clobber each other. A write whose answer was lost although it took effect (the SDK's retry then meets 412)
 * is recognised by reading the object back.
 */
export class S3ProgressStore implements ProgressStore {
  readonly location: string;
  readonly #s3: S3Client;
  readonly #bucket: string;
  readonly #key: string;
  readonly #kmsKeyArn: string;

  constructor(s3: S3Client, options: { bucket: string; key: string; kmsKeyArn: string }) {
    this.#s3 = s3;
    this.#bucket = options.bucket;
    this.#key = options.key;
    this.#kmsKeyArn = options.kmsKeyArn;
    this.location = `s3://${options.bucket}/${options.key}`;
  }

  async read(): Promise<VersionedText | undefined> {
    try {
      const response = await this.#s3.send(new GetObjectCommand({ Bucket: this.#bucket, Key: this.#key }));
      if ((response.ContentLength ?? 0) > MAX_PROGRESS_BYTES) {
        (response.Body as { destroy?: () => void } | undefined)?.destroy?.();
        throw new StateStoreError(
          `The rotation progress ${this.location} is ${response.ContentLength} bytes, far more than a rotation writes (at most ${MAX_PROGRESS_BYTES}); it is not this tool's. Nothing was changed.`,
          `Restore the object's previous version (S3 console → ${this.location} → Versions), or delete it to start over.`,
        );
      }
      const text = (await response.Body?.transformToString("utf-8")) ?? "";
      return { text, version: response.ETag ?? "" };
    } catch (error) {
      if (awsErrorCode(error) === "NoSuchKey") return undefined;
      throw this.#failure(error, "s3:GetObject", "kms:Decrypt");
    }
  }

  async write(text: string, expectedVersion: string | undefined): Promise<string> {
    try {
      const response = await this.#s3.send(
        new PutObjectCommand({
          Bucket: this.#bucket,
          Key: this.#key,
          Body: text,
          ContentType: "application/json",
          ServerSideEncryption: "aws:kms",
          SSEKMSKeyId: this.#kmsKeyArn,
          BucketKeyEnabled: false,
          ...(expectedVersion === undefined ? { IfNoneMatch: "*" } : { IfMatch: expectedVersion }),
        }),
      );
      return response.ETag ?? "";
    } catch (error) {
      const code = awsErrorCode(error);
      if (code === undefined || !CONFLICT.has(code))
        throw this.#failure(error, "s3:PutObject", "kms:GenerateDataKey");
      const stored = await this.read();
      if (stored?.text === text) return stored.version;
      throw new StateStoreError(
        `The rotation progress ${this.location} was changed by someone else while this run was using it (${code}); this run stopped without overwriting it.`,
        "Make sure only this stack's runbooks rotate this key (one execution at a time; the run lock normally ensures it) and nobody edits the object, then run Rotate again: it resumes from what is saved.",
        error,
        "transient",
      );
    }
  }

  #failure(error: unknown, action: string, kmsAction: string): AkmError {
    const code = awsErrorCode(error);
    if (code?.startsWith("KMS")) {
      return new StateStoreError(
        `${action} on ${this.location} failed because the stack's KMS key could not be used (${code}).`,
        `Check that the stack's KMS key is enabled (not disabled or pending deletion) and that the Lambda function's execution role may use it for ${kmsAction} through S3 on this object.`,
        error,
      );
    }
    if (isAccessDenied(error)) {
      return new StateStoreError(
        `${action} on ${this.location} was denied (${code}).`,
        `Check that the Lambda function's execution role (created by the stack) allows ${action} on ${this.location} and ${kmsAction} on the stack's KMS key through S3 for this object, and that no bucket policy, permissions boundary or service control policy denies it; if the role's policy was edited, update the stack to restore it.`,
        error,
        "user",
      );
    }
    if (code === "NoSuchBucket") {
      return new StateStoreError(
        `The configuration bucket ${this.#bucket} does not exist (${action} on ${this.location}).`,
        "Update the stack from the published template so it recreates its configuration bucket.",
        error,
        "user",
      );
    }
    return awsFailure(error, { action, resource: this.location });
  }
}
