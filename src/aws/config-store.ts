import { GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { MAX_CONFIG_BYTES, MAX_REPOS } from "../config/repos-config.ts";
import { AkmError, ConfigError } from "../errors.ts";
import type { ConfigDocument, ConfigStore } from "../ports.ts";
import { awsErrorCode } from "./aws-error-code.ts";
import { awsFailure, isAccessDenied } from "./aws-failure.ts";
import { ConfigConflictError } from "./config-conflict-error.ts";

// Answers to a conditional PutObject whose condition no longer holds: the object's ETag changed (412),
// another conditional write raced this one (409), or the object was deleted since it was read (404).
const CONFLICT = new Set(["PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey"]);

/**
 * ConfigStore over one S3 object. `version` is the object's ETag, and writes are conditional on it
 * (S3 conditional writes: If-Match, or If-None-Match: * when the object did not exist), so two runs
 * editing the list at once cannot silently drop each other's change.
 */
export class S3ConfigStore implements ConfigStore {
  readonly location: string;
  readonly #s3: S3Client;
  readonly #bucket: string;
  readonly #key: string;

  constructor(s3: S3Client, bucket: string, key: string) {
    this.#s3 = s3;
    this.#bucket = bucket;
    this.#key = key;
    this.location = `s3://${bucket}/${key}`;
  }

  async read(): Promise<ConfigDocument | undefined> {
    try {
      const response = await this.#s3.send(new GetObjectCommand({ Bucket: this.#bucket, Key: this.#key }));
      // Refuse an oversized object before reading it: reading first could exhaust the function's memory.
      if ((response.ContentLength ?? 0) > MAX_CONFIG_BYTES) {
        (response.Body as { destroy?: () => void } | undefined)?.destroy?.();
        throw new ConfigError(
          this.location,
          [`the file is ${response.ContentLength} bytes, larger than the ${MAX_CONFIG_BYTES} bytes accepted`],
          `Upload a repos.json that lists only the repositories to update (at most ${MAX_REPOS.toLocaleString("en-US")}).`,
        );
      }
      const text = (await response.Body?.transformToString("utf-8")) ?? "";
      return { text, version: response.ETag };
    } catch (error) {
      if (awsErrorCode(error) === "NoSuchKey") return undefined;
      throw this.#failure(error, "s3:GetObject");
    }
  }

  /** `expectedVersion` undefined means "create": the write fails if the object appeared meanwhile. */
  async write(text: string, expectedVersion: string | undefined): Promise<void> {
    try {
      await this.#s3.send(
        new PutObjectCommand({
          Bucket: this.#bucket,
          Key: this.#key,
          Body: text,
          ContentType: "application/json",
          ...(expectedVersion === undefined ? { IfNoneMatch: "*" } : { IfMatch: expectedVersion }),
        }),
      );
    } catch (error) {
      const code = awsErrorCode(error);
      if (code !== undefined && CONFLICT.has(code)) throw new ConfigConflictError(this.location, error);
      throw this.#failure(error, "s3:PutObject");
    }
  }

  #failure(error: unknown, action: string): AkmError {
    if (awsErrorCode(error) === "NoSuchBucket") {
      return new AkmError(
        `The configuration bucket ${this.#bucket} does not exist (${action} on ${this.location}).`,
        {
          fix: "Update the stack from the published template so it recreates its configuration bucket, or correct the bucket name the Lambda is configured with.",
          fault: "user",
          cause: error,
        },
      );
    }
    if (isAccessDenied(error) && action === "s3:GetObject") {
      // Without s3:ListBucket, S3 reports a missing object as AccessDenied rather than NoSuchKey.
      return new AkmError(`${action} on ${this.location} was denied (${awsErrorCode(error)}).`, {
        fix: `Check that the Lambda function's execution role (created by the stack) allows s3:GetObject on ${this.location} and s3:ListBucket on bucket ${this.#bucket} (without it a missing object reads as denied), and that no bucket policy or service control policy denies it.`,
        fault: "user",
        cause: error,
      });
    }
    return awsFailure(error, { action, resource: this.location });
  }
}
