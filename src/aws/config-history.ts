import {
  GetObjectCommand,
  ListObjectVersionsCommand,
  type ListObjectVersionsCommandOutput,
  type S3Client,
} from "@aws-sdk/client-s3";
import { MAX_CONFIG_BYTES } from "../config/repos-config.ts";
import { ConfigError } from "../errors.ts";
import type { ConfigHistory, ConfigVersion } from "../ports.ts";
import { awsFailure } from "./aws-failure.ts";

/** One entry of ListObjectVersions for the list's key: a version or a delete marker. */
interface Entry {
  readonly versionId: string;
  readonly lastModified: number;
  readonly deleteMarker: boolean;
  readonly isLatest: boolean;
}

/**
 * ConfigHistory over the versions of one S3 object. ListObjectVersions lists versions and delete markers in two
 * arrays, each newest first per key (https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html);
 * both are merged by LastModified (the latest first among equal times, each array's own order otherwise). The prefix is the key itself, so
 * objects named like it (`repos.json.lock`) are listed after it and skipped.
 */
export class S3ConfigHistory implements ConfigHistory {
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

  async versionAndPrevious(
    versionId: string,
  ): Promise<{ version: ConfigVersion; previous: ConfigVersion | undefined } | undefined> {
    const entries = await this.#entriesUntilAfter(versionId);
    const at = entries.findIndex((entry) => entry.versionId === versionId);
    const found = entries[at];
    if (found === undefined) return undefined;
    const before = entries[at + 1];
    return {
      version: await this.#read(found),
      previous: before === undefined ? undefined : await this.#read(before),
    };
  }

  /** The list's versions and delete markers, newest first, up to the one after `versionId` (or all). */
  async #entriesUntilAfter(versionId: string): Promise<Entry[]> {
    const entries: Entry[] = [];
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    for (;;) {
      let page: ListObjectVersionsCommandOutput;
      try {
        page = await this.#s3.send(
          new ListObjectVersionsCommand({
            Bucket: this.#bucket,
            Prefix: this.#key,
            ...(keyMarker === undefined ? {} : { KeyMarker: keyMarker }),
            ...(versionIdMarker === undefined ? {} : { VersionIdMarker: versionIdMarker }),
          }),
        );
      } catch (error) {
        throw awsFailure(error, { action: "s3:ListBucketVersions", resource: this.location });
      }
      const ours = (key: string | undefined) => key === this.#key;
      const pageEntries: Entry[] = [
        ...(page.Versions ?? [])
          .filter((v) => ours(v.Key))
          .map((v) => ({
            versionId: v.VersionId ?? "null",
            lastModified: v.LastModified?.getTime() ?? 0,
            deleteMarker: false,
            isLatest: v.IsLatest === true,
          })),
        ...(page.DeleteMarkers ?? [])
          .filter((m) => ours(m.Key))
          .map((m) => ({
            versionId: m.VersionId ?? "null",
            lastModified: m.LastModified?.getTime() ?? 0,
            deleteMarker: true,
            isLatest: m.IsLatest === true,
          })),
      ];
      // S3 keeps LastModified to the second: among equal times the latest goes first, and a stable sort keeps
      // each array's own newest-first order for the rest.
      entries.push(...pageEntries);
      entries.sort((a, b) => b.lastModified - a.lastModified || Number(b.isLatest) - Number(a.isLatest));
      const at = entries.findIndex((entry) => entry.versionId === versionId);
      const pastOurKey = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].some(
        (item) => item.Key !== undefined && item.Key > this.#key,
      );
      if ((at !== -1 && at + 1 < entries.length) || pastOurKey || page.IsTruncated !== true) return entries;
      keyMarker = page.NextKeyMarker;
      versionIdMarker = page.NextVersionIdMarker;
    }
  }

  async #read(entry: Entry): Promise<ConfigVersion> {
    if (entry.deleteMarker) return { versionId: entry.versionId, text: undefined };
    try {
      const response = await this.#s3.send(
        new GetObjectCommand({ Bucket: this.#bucket, Key: this.#key, VersionId: entry.versionId }),
      );
      if ((response.ContentLength ?? 0) > MAX_CONFIG_BYTES) {
        (response.Body as { destroy?: () => void } | undefined)?.destroy?.();
        throw new ConfigError(
          `${this.location} (version ${entry.versionId})`,
          [`the file is ${response.ContentLength} bytes, larger than the ${MAX_CONFIG_BYTES} bytes accepted`],
          "Upload a smaller repos.json.",
        );
      }
      return { versionId: entry.versionId, text: (await response.Body?.transformToString("utf-8")) ?? "" };
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      throw awsFailure(error, {
        action: "s3:GetObjectVersion",
        resource: `${this.location} (version ${entry.versionId})`,
      });
    }
  }
}
