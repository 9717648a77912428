import type { SelectedIds } from "./selected-ids.ts";
import type { ShadowCheckRound } from "./shadow-check-document.ts";
import type {
  CheckedRepos,
  Holding,
  ManagedKey,
  PendingKey,
  PreviousKey,
  RepoSeen,
  RotationState,
  SelectedRecord,
  WritingBatch,
} from "./state.ts";

/**
 * The keys: the part of the rotation state kept in the Secrets Manager secret. It changes only when IAM's keys
 * do — a key adopted or created, the new key promoted (`current`, `pending` and `previous` move together, in one
 * write) — so the secret gets a few versions per rotation whatever the list's length. `previous` rides along:
 * it is set only by a promotion, which writes the secret anyway, and a `previous` that IAM no longer has is
 * forgotten by reconcile, so dropping it alone needs no write.
 */
export interface KeyPart {
  readonly current: ManagedKey | undefined;
  /** The unfinished rotation's key; whether STS accepted it yet is progress (`ProgressPart.verified`). */
  readonly pending: Omit<PendingKey, "verifiedAt"> | undefined;
  readonly previous: PreviousKey | undefined;
}

/** Everything else: no secret in it, written as often as the rotation advances (the S3 progress object). */
export interface ProgressPart {
  readonly creating: { readonly startedAt: string } | undefined;
  /** STS accepted this key (the pending one, when the IDs match) at `at`. */
  readonly verified: { readonly accessKeyId: string; readonly at: string } | undefined;
  readonly holdings: Readonly<Record<string, Holding>>;
  /** Epoch seconds, ascending. */
  readonly githubWrites: readonly number[];
  readonly writing: WritingBatch | undefined;
  /** Where the key goes (see RotationState): repository IDs, the last promotion, the last token alert. */
  readonly repoIds?: Readonly<Record<string, RepoSeen>> | undefined;
  readonly promotedAt?: string | undefined;
  readonly tokenExpiryAlertedAt?: string | undefined;
  readonly checked?: CheckedRepos | undefined;
  readonly shadowCheck?: ShadowCheckRound | undefined;
  readonly selected?: SelectedRecord | undefined;
  readonly selectedIds?: Readonly<Record<string, SelectedIds>> | undefined;
  readonly updatedAt: string;
}

export const NO_KEYS: KeyPart = { current: undefined, pending: undefined, previous: undefined };

export function emptyProgress(updatedAt: string): ProgressPart {
  return {
    creating: undefined,
    verified: undefined,
    holdings: {},
    githubWrites: [],
    writing: undefined,
    updatedAt,
  };
}

/** Splits the state into what goes to the secret and what goes to the progress object. */
export function splitState(state: RotationState): { keys: KeyPart; progress: ProgressPart } {
  const { pending } = state;
  return {
    keys: {
      current: state.current,
      pending: pending && {
        accessKeyId: pending.accessKeyId,
        secretAccessKey: pending.secretAccessKey,
        createdAt: pending.createdAt,
      },
      previous: state.previous,
    },
    progress: {
      creating: state.creating,
      verified:
        pending?.verifiedAt === undefined
          ? undefined
          : { accessKeyId: pending.accessKeyId, at: pending.verifiedAt },
      holdings: state.holdings,
      githubWrites: state.githubWrites ?? [],
      writing: state.writing,
      repoIds: state.repoIds,
      promotedAt: state.promotedAt,
      tokenExpiryAlertedAt: state.tokenExpiryAlertedAt,
      ...(state.checked ? { checked: state.checked } : {}),
      ...(state.shadowCheck ? { shadowCheck: state.shadowCheck } : {}),
      ...(state.selected ? { selected: state.selected } : {}),
      ...(state.selectedIds ? { selectedIds: state.selectedIds } : {}),
      updatedAt: state.updatedAt,
    },
  };
}

/** The state the two parts make together. A verification of another key than the pending one is ignored. */
export function joinState(keys: KeyPart, progress: ProgressPart): RotationState {
  const { pending } = keys;
  return {
    current: keys.current,
    pending: pending && {
      ...pending,
      verifiedAt: progress.verified?.accessKeyId === pending.accessKeyId ? progress.verified.at : undefined,
    },
    creating: progress.creating,
    previous: keys.previous,
    holdings: progress.holdings,
    ...(progress.githubWrites.length > 0 ? { githubWrites: progress.githubWrites } : {}),
    ...(progress.writing ? { writing: progress.writing } : {}),
    ...(progress.repoIds ? { repoIds: progress.repoIds } : {}),
    ...(progress.promotedAt ? { promotedAt: progress.promotedAt } : {}),
    ...(progress.tokenExpiryAlertedAt ? { tokenExpiryAlertedAt: progress.tokenExpiryAlertedAt } : {}),
    ...(progress.checked ? { checked: progress.checked } : {}),
    ...(progress.shadowCheck ? { shadowCheck: progress.shadowCheck } : {}),
    ...(progress.selected ? { selected: progress.selected } : {}),
    ...(progress.selectedIds ? { selectedIds: progress.selectedIds } : {}),
    updatedAt: progress.updatedAt,
  };
}
