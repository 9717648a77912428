import * as v from "valibot";
import { SecretValue } from "../domain/secret-value.ts";
import { StateStoreError } from "../errors.ts";

/**
 * What the rotation remembers between runs. Stored as one JSON document in a Secrets Manager
 * secret encrypted with the stack's KMS key, so the secrets it holds never touch logs or S3.
 *
 * - `current`: the key every listed repo should hold. `secretAccessKey` is absent for a key that was
 *   adopted (created outside this tool), because nobody gave us its secret.
 * - `pending`: a key created by an unfinished rotation. Persisted right after CreateAccessKey (R3).
 * - `creating`: write-ahead intent saved just before CreateAccessKey; a key created after `startedAt`
 *   that is not `pending` was created by a run that crashed before saving it, so no repo can hold it.
 * - `previous`: the key `current` replaced, kept Active until `retireAfter` (grace, R2).
 * - `holdings`: which key each repo (by slug) was last verified to hold.
 * - `githubWrites`: when (epoch seconds, rounded up, ascending) this tool sent each GitHub write of the last
 *   hour, so GitHub's hourly limit for content-creating requests holds across invocations. Stored as the first
 *   time followed by the gaps between writes (a few bytes each: the document must stay under Secrets Manager's
 *   65,536 bytes).
 * - `writing`: the batch of repositories the running sync may write before its next save (holdings are saved
 *   in batches). A run that resumes after a crash checks these repositories' `updated_at` against `since`
 *   instead of writing them again.
 */
export interface ManagedKey {
  readonly accessKeyId: string;
  readonly secretAccessKey: SecretValue | undefined;
  readonly createdAt: string;
  readonly origin: "created" | "adopted";
}

export interface PendingKey {
  readonly accessKeyId: string;
  readonly secretAccessKey: SecretValue;
  readonly createdAt: string;
  readonly verifiedAt: string | undefined;
}

export interface PreviousKey {
  readonly accessKeyId: string;
  readonly origin: "created" | "adopted";
  readonly retireAfter: string;
}

export interface Holding {
  readonly accessKeyId: string;
  readonly writtenAt: string;
}

export interface WritingBatch {
  readonly accessKeyId: string;
  /** Saved before the batch's first write: any write of the batch happened after it. */
  readonly since: string;
  /** Repository slugs. */
  readonly repos: readonly string[];
}

export interface RotationState {
  readonly schemaVersion: 1;
  readonly current: ManagedKey | undefined;
  readonly pending: PendingKey | undefined;
  readonly creating: { readonly startedAt: string } | undefined;
  readonly previous: PreviousKey | undefined;
  readonly holdings: Readonly<Record<string, Holding>>;
  readonly githubWrites?: readonly number[];
  readonly writing?: WritingBatch | undefined;
  readonly updatedAt: string;
}

export function emptyState(now: Date): RotationState {
  return {
    schemaVersion: 1,
    current: undefined,
    pending: undefined,
    creating: undefined,
    previous: undefined,
    holdings: {},
    updatedAt: now.toISOString(),
  };
}

const IsoDate = v.pipe(v.string(), v.isoTimestamp());
const KeyId = v.pipe(v.string(), v.regex(/^[A-Z0-9]{16,128}$/));
const Origin = v.picklist(["created", "adopted"]);

const StoredState = v.strictObject({
  schemaVersion: v.literal(1),
  current: v.optional(
    v.strictObject({
      accessKeyId: KeyId,
      secretAccessKey: v.optional(v.string()),
      createdAt: IsoDate,
      origin: Origin,
    }),
  ),
  pending: v.optional(
    v.strictObject({
      accessKeyId: KeyId,
      secretAccessKey: v.string(),
      createdAt: IsoDate,
      verifiedAt: v.optional(IsoDate),
    }),
  ),
  creating: v.optional(v.strictObject({ startedAt: IsoDate })),
  previous: v.optional(v.strictObject({ accessKeyId: KeyId, origin: Origin, retireAfter: IsoDate })),
  holdings: v.record(v.string(), v.strictObject({ accessKeyId: KeyId, writtenAt: IsoDate })),
  githubWrites: v.optional(v.array(v.pipe(v.number(), v.integer(), v.minValue(0)))),
  writing: v.optional(v.strictObject({ accessKeyId: KeyId, since: IsoDate, repos: v.array(v.string()) })),
  updatedAt: IsoDate,
});

/** Parses the stored JSON; a corrupt document is a tool fault that must stop the run before any change. */
export function parseState(text: string, location: string): RotationState {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new StateStoreError(
      `The rotation state in ${location} is not valid JSON.`,
      "Restore the previous version of the secret in the Secrets Manager console (Retrieve secret value → versions).",
    );
  }
  const result = v.safeParse(StoredState, json);
  if (!result.success) {
    const where = result.issues.map((issue) => `${v.getDotPath(issue) ?? "(root)"}: ${issue.message}`);
    throw new StateStoreError(
      `The rotation state in ${location} does not match the expected format (${where.join("; ")}).`,
      "Restore the previous version of the secret in the Secrets Manager console, or delete its value to start over (existing keys are then adopted).",
    );
  }
  const s = result.output;
  return {
    schemaVersion: 1,
    current: s.current && {
      accessKeyId: s.current.accessKeyId,
      secretAccessKey:
        s.current.secretAccessKey === undefined ? undefined : new SecretValue(s.current.secretAccessKey),
      createdAt: s.current.createdAt,
      origin: s.current.origin,
    },
    pending: s.pending && {
      accessKeyId: s.pending.accessKeyId,
      secretAccessKey: new SecretValue(s.pending.secretAccessKey),
      createdAt: s.pending.createdAt,
      verifiedAt: s.pending.verifiedAt,
    },
    creating: s.creating,
    previous: s.previous,
    holdings: s.holdings,
    ...(s.githubWrites ? { githubWrites: decodeWriteTimes(s.githubWrites) } : {}),
    ...(s.writing ? { writing: s.writing } : {}),
    updatedAt: s.updatedAt,
  };
}

/** Serializes the state, revealing the secrets it holds: only the state store adapter calls this. */
export function serializeState(state: RotationState): string {
  const stored: v.InferInput<typeof StoredState> = {
    schemaVersion: 1,
    holdings: { ...state.holdings },
    updatedAt: state.updatedAt,
  };
  if (state.current) {
    stored.current = {
      accessKeyId: state.current.accessKeyId,
      createdAt: state.current.createdAt,
      origin: state.current.origin,
      ...(state.current.secretAccessKey ? { secretAccessKey: state.current.secretAccessKey.reveal() } : {}),
    };
  }
  if (state.pending) {
    stored.pending = {
      accessKeyId: state.pending.accessKeyId,
      secretAccessKey: state.pending.secretAccessKey.reveal(),
      createdAt: state.pending.createdAt,
      ...(state.pending.verifiedAt ? { verifiedAt: state.pending.verifiedAt } : {}),
    };
  }
  if (state.creating) stored.creating = state.creating;
  if (state.previous) stored.previous = state.previous;
  if (state.githubWrites && state.githubWrites.length > 0)
    stored.githubWrites = encodeWriteTimes(state.githubWrites);
  if (state.writing) stored.writing = { ...state.writing, repos: [...state.writing.repos] };
  return JSON.stringify(stored);
}

/** Ascending epoch seconds → [first, gap, gap, ...]. */
export function encodeWriteTimes(times: readonly number[]): number[] {
  const sorted = [...times].sort((a, b) => a - b);
  return sorted.map((at, i) => (i === 0 ? at : at - (sorted[i - 1] as number)));
}

/** [first, gap, gap, ...] → ascending epoch seconds. */
export function decodeWriteTimes(stored: readonly number[]): number[] {
  const times: number[] = [];
  for (const value of stored) times.push(times.length === 0 ? value : (times.at(-1) as number) + value);
  return times;
}
