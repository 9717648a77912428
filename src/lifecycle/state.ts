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

export interface RotationState {
  readonly schemaVersion: 1;
  readonly current: ManagedKey | undefined;
  readonly pending: PendingKey | undefined;
  readonly creating: { readonly startedAt: string } | undefined;
  readonly previous: PreviousKey | undefined;
  readonly holdings: Readonly<Record<string, Holding>>;
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
  return JSON.stringify(stored);
}
