import * as v from "valibot";
import { SecretValue } from "../domain/secret-value.ts";
import { StateStoreError } from "../errors.ts";
import { decodeWriteTimes } from "./progress-document.ts";
import type { KeyPart, ProgressPart } from "./state-parts.ts";

/**
 * The rotation state secret's value. Version 2 holds the keys only (`KeyPart`). Version 1, written by earlier
 * releases, held the whole state: it is still read, its progress serving until the progress object exists
 * (src/lifecycle/split-state-store.ts migrates it at the first save).
 */
export interface KeyDocument {
  readonly format: 1 | 2;
  readonly keys: KeyPart;
  /** When the secret was last written. */
  readonly updatedAt: string;
  /** Version 1 only: the progress the secret held. */
  readonly legacyProgress: ProgressPart | undefined;
}

const IsoDate = v.pipe(v.string(), v.isoTimestamp());
const KeyId = v.pipe(v.string(), v.regex(/^[A-Z0-9]{16,128}$/));
const Origin = v.picklist(["created", "adopted"]);

const Current = v.strictObject({
  accessKeyId: KeyId,
  secretAccessKey: v.optional(v.string()),
  createdAt: IsoDate,
  origin: Origin,
});
const Previous = v.strictObject({ accessKeyId: KeyId, origin: Origin, retireAfter: IsoDate });

const StoredKeysV2 = v.strictObject({
  schemaVersion: v.literal(2),
  current: v.optional(Current),
  pending: v.optional(
    v.strictObject({ accessKeyId: KeyId, secretAccessKey: v.string(), createdAt: IsoDate }),
  ),
  previous: v.optional(Previous),
  updatedAt: IsoDate,
});

const StoredStateV1 = v.strictObject({
  schemaVersion: v.literal(1),
  current: v.optional(Current),
  pending: v.optional(
    v.strictObject({
      accessKeyId: KeyId,
      secretAccessKey: v.string(),
      createdAt: IsoDate,
      verifiedAt: v.optional(IsoDate),
    }),
  ),
  creating: v.optional(v.strictObject({ startedAt: IsoDate })),
  previous: v.optional(Previous),
  holdings: v.record(v.string(), v.strictObject({ accessKeyId: KeyId, writtenAt: IsoDate })),
  githubWrites: v.optional(v.array(v.pipe(v.number(), v.integer(), v.minValue(0)))),
  writing: v.optional(v.strictObject({ accessKeyId: KeyId, since: IsoDate, repos: v.array(v.string()) })),
  updatedAt: IsoDate,
});

const StoredKeys = v.variant("schemaVersion", [StoredKeysV2, StoredStateV1]);

// The template creates the secret with `{}`: a valid secret that holds no state yet.
const NO_STATE = /^\{\s*\}$/;

/**
 * Reads the secret's value (`location` names it in messages); undefined for a secret that holds no state yet.
 * Throws StateStoreError, saying where and how to recover, for a value that is not a rotation state.
 */
export function parseKeyDocument(text: string | undefined, location: string): KeyDocument | undefined {
  const trimmed = text?.trim();
  if (!trimmed || NO_STATE.test(trimmed)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(trimmed);
  } catch {
    throw new StateStoreError(`The rotation state in ${location} is not valid JSON.`, RESTORE_SECRET);
  }
  const result = v.safeParse(StoredKeys, json);
  if (!result.success) {
    const where = result.issues.map((issue) => `${v.getDotPath(issue) ?? "(root)"}: ${issue.message}`);
    throw new StateStoreError(
      `The rotation state in ${location} does not match the expected format (${where.join("; ")}).`,
      RESTORE_SECRET,
    );
  }
  const stored = result.output;
  const current = stored.current && {
    accessKeyId: stored.current.accessKeyId,
    secretAccessKey:
      stored.current.secretAccessKey === undefined
        ? undefined
        : new SecretValue(stored.current.secretAccessKey),
    createdAt: stored.current.createdAt,
    origin: stored.current.origin,
  };
  const pending = stored.pending && {
    accessKeyId: stored.pending.accessKeyId,
    secretAccessKey: new SecretValue(stored.pending.secretAccessKey),
    createdAt: stored.pending.createdAt,
  };
  const keys: KeyPart = { current, pending, previous: stored.previous };
  if (stored.schemaVersion === 2) {
    return { format: 2, keys, updatedAt: stored.updatedAt, legacyProgress: undefined };
  }
  const verifiedAt = stored.pending?.verifiedAt;
  return {
    format: 1,
    keys,
    updatedAt: stored.updatedAt,
    legacyProgress: {
      creating: stored.creating,
      verified:
        stored.pending && verifiedAt
          ? { accessKeyId: stored.pending.accessKeyId, at: verifiedAt }
          : undefined,
      holdings: stored.holdings,
      githubWrites: decodeWriteTimes(stored.githubWrites ?? []),
      writing: stored.writing,
      updatedAt: stored.updatedAt,
    },
  };
}

const RESTORE_SECRET =
  "Nothing was changed. Make the previous version current again (Secrets Manager console → the secret → Versions; or `aws secretsmanager update-secret-version-stage --secret-id <secret> --version-stage AWSCURRENT --move-to-version-id <AWSPREVIOUS version> --remove-from-version-id <AWSCURRENT version>`), then run the runbook again.";

/**
 * The secret's value for `keys` (version 2), revealing the secrets it holds: only the state store calls this.
 * Without `updatedAt` the text is canonical: equal keys give equal text, so the store can tell a change.
 */
export function serializeKeyDocument(keys: KeyPart, updatedAt?: string): string {
  const stored: Record<string, unknown> = { schemaVersion: 2 };
  if (keys.current) {
    stored.current = {
      accessKeyId: keys.current.accessKeyId,
      ...(keys.current.secretAccessKey ? { secretAccessKey: keys.current.secretAccessKey.reveal() } : {}),
      createdAt: keys.current.createdAt,
      origin: keys.current.origin,
    };
  }
  if (keys.pending) {
    stored.pending = {
      accessKeyId: keys.pending.accessKeyId,
      secretAccessKey: keys.pending.secretAccessKey.reveal(),
      createdAt: keys.pending.createdAt,
    };
  }
  if (keys.previous) {
    stored.previous = {
      accessKeyId: keys.previous.accessKeyId,
      origin: keys.previous.origin,
      retireAfter: keys.previous.retireAfter,
    };
  }
  if (updatedAt !== undefined) stored.updatedAt = updatedAt;
  return JSON.stringify(stored);
}
