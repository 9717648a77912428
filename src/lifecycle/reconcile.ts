import type { AccessKeyInfo } from "../domain/access-key.ts";
import { IamStateError } from "../errors.ts";
import type { RotationState } from "./state.ts";

/** A key this run will delete before anything else, and why (shown in the summary). */
export interface KeyCleanup {
  readonly accessKeyId: string;
  readonly reason: string;
}

export interface Reconciliation {
  /** The state corrected to match IAM (keys deleted outside this tool forgotten, adoption applied). */
  readonly state: RotationState;
  /** Keys safe to delete now: orphans of a crashed run, or the older key the user opted to replace. */
  readonly deleteNow: readonly KeyCleanup[];
  /** Inactive keys nobody manages; deleted only when a slot is needed for the new key. */
  readonly spareInactive: readonly AccessKeyInfo[];
  readonly notes: readonly string[];
}

export interface ReconcileOptions {
  readonly replaceOlderKey: boolean;
  readonly userName: string;
  /** A DryRun saves nothing: its notes say what a rotation would do ("Would adopt …"). */
  readonly dryRun?: boolean;
}

/**
 * Compares what the state remembers with the keys IAM actually has (pure; R3/R4).
 * Throws IamStateError when the keys are in a state that only a person should resolve.
 */
export function reconcile(
  state: RotationState,
  keys: readonly AccessKeyInfo[],
  options: ReconcileOptions,
): Reconciliation {
  const byId = new Map(keys.map((key) => [key.accessKeyId, key]));
  const notes: string[] = [];
  let { current, pending, previous, creating } = state;
  let holdings = state.holdings;

  if (pending && !byId.has(pending.accessKeyId)) {
    notes.push(
      `The unfinished new key ${pending.accessKeyId} no longer exists in IAM; a new one will be created.`,
    );
    holdings = withoutKey(holdings, pending.accessKeyId);
    pending = undefined;
  }
  if (current && !byId.has(current.accessKeyId)) {
    notes.push(
      `The current key ${current.accessKeyId} was deleted outside this tool; repositories still holding it cannot authenticate until this rotation completes.`,
    );
    holdings = withoutKey(holdings, current.accessKeyId);
    current = undefined;
  }
  if (previous && !byId.has(previous.accessKeyId)) {
    previous = undefined;
  }

  const known = new Set([current?.accessKeyId, pending?.accessKeyId, previous?.accessKeyId]);
  const unknown = keys.filter((key) => !known.has(key.accessKeyId));
  const deleteNow: KeyCleanup[] = [];

  // R3: a key created after the write-ahead intent that is not `pending` was created by a run that
  // stopped before it could save the secret. Nobody has its secret, so no repository can hold it.
  let unmanaged = unknown;
  if (creating) {
    const startedAt = Date.parse(creating.startedAt) - 1000; // IAM CreateDate has whole seconds
    const orphans = unknown.filter((key) => key.createdAt.getTime() >= startedAt);
    for (const orphan of orphans) {
      deleteNow.push({
        accessKeyId: orphan.accessKeyId,
        reason: "created by an earlier run that stopped before saving it; no repository can hold it",
      });
    }
    unmanaged = unknown.filter((key) => !orphans.includes(key));
    creating = undefined;
  }

  const unmanagedActive = sortByAge(unmanaged.filter((key) => key.status === "Active"));
  const spareInactive = sortByAge(unmanaged.filter((key) => key.status === "Inactive"));

  const managedActive = keys.filter(
    (key) => key.accessKeyId === current?.accessKeyId || key.accessKeyId === pending?.accessKeyId,
  );
  if (unmanagedActive.length > 0 && managedActive.length > 0) {
    throw new IamStateError(
      `IAM user ${options.userName} has an active access key created outside this tool (${unmanagedActive.map(describeKey).join(", ")}) next to the managed key ${managedActive.map((k) => k.accessKeyId).join(", ")}. Nothing was changed.`,
      "Delete the key that was created by hand (IAM console → Users → Security credentials) once nothing uses it, then run Rotate again.",
    );
  }
  if (unmanagedActive.length === 2 && !options.replaceOlderKey) {
    throw new IamStateError(
      `IAM user ${options.userName} has two active access keys (${unmanagedActive.map(describeKey).join(", ")}) and this tool cannot know which one your workflows use. Nothing was changed.`,
      "If the older key is no longer used, run Rotate with ReplaceOlderKey=true to delete it and adopt the newer one; otherwise delete the unused key in the IAM console first.",
    );
  }
  if (unmanagedActive.length === 2) {
    const [older] = unmanagedActive;
    if (older) {
      deleteNow.push({
        accessKeyId: older.accessKeyId,
        reason: "older of two active keys, replaced because ReplaceOlderKey=true",
      });
    }
  }
  const adopted = unmanagedActive.at(-1);
  if (adopted && managedActive.length === 0) {
    current = {
      accessKeyId: adopted.accessKeyId,
      secretAccessKey: undefined,
      createdAt: adopted.createdAt.toISOString(),
      origin: "adopted",
    };
    notes.push(
      options.dryRun
        ? `Would adopt the existing active key ${adopted.accessKeyId} as the old key; it would stay active until every listed repository holds the new one.`
        : `Adopted the existing active key ${adopted.accessKeyId} as the old key; it stays active until every listed repository holds the new one.`,
    );
  }

  return {
    state: { ...state, current, pending, previous, creating, holdings },
    deleteNow,
    spareInactive,
    notes,
  };
}

function sortByAge(keys: readonly AccessKeyInfo[]): AccessKeyInfo[] {
  // Never trust list order for key age: sort by CreateDate, then by ID for a stable order.
  return [...keys].sort(
    (a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.accessKeyId.localeCompare(b.accessKeyId),
  );
}

function describeKey(key: AccessKeyInfo): string {
  return `${key.accessKeyId} created ${key.createdAt.toISOString()}`;
}

function withoutKey<T extends { accessKeyId: string }>(
  holdings: Readonly<Record<string, T>>,
  accessKeyId: string,
): Record<string, T> {
  return Object.fromEntries(Object.entries(holdings).filter(([, h]) => h.accessKeyId !== accessKeyId));
}
