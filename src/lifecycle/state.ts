import type { SecretValue } from "../domain/secret-value.ts";
import type { RepositorySelection } from "../domain/selection.ts";
import type { SecretStore } from "../domain/target.ts";
import type { SelectedIds } from "./selected-ids.ts";
import type { ShadowCheckRound } from "./shadow-check-document.ts";

/**
 * What the rotation remembers between runs, as the lifecycle sees it: one value, loaded and saved whole through
 * the `StateStore` port. The store keeps it in two places (src/lifecycle/split-state-store.ts): the keys — the
 * only part that holds secrets, written only when a key is created or promoted — in a Secrets Manager secret,
 * and the progress (holdings, the write log, the batch being written, intents) in an S3 object beside the list.
 *
 * - `current`: the key every listed target should hold. `secretAccessKey` is absent for a key that was
 *   adopted (created outside this tool), because nobody gave us its secret.
 * - `pending`: a key created by an unfinished rotation. Persisted right after CreateAccessKey (R3).
 * - `creating`: write-ahead intent saved just before CreateAccessKey; a key created after `startedAt`
 *   that is not `pending` was created by a run that crashed before saving it, so no target can hold it.
 * - `previous`: the key `current` replaced, kept Active until `retireAfter` (grace, R2).
 * - `holdings`: which key each target (by targetKey, src/domain/target.ts: a repository's Actions secrets keep
 *   v1's `owner/name`) was last verified to hold; `writtenAt` has whole seconds.
 * - `githubWrites`: when (epoch seconds, rounded up, ascending) this tool sent each GitHub write of the last
 *   hour, so GitHub's hourly limit for content-creating requests holds across invocations.
 * - `writing`: the batch of targets the running sync may write before its next save (holdings are saved
 *   in batches). A run that resumes after a crash checks these targets' `updated_at` against `since`
 *   instead of writing them again.
 * - `repoIds`: GitHub's numeric ID of each listed target's repository, or organization (by targetKey), and of each
 *   selected repository of an organization target (`org:octo@actions#web`), when a rotation first saw it, and
 *   when. A name that later answers with another ID is a different repository or organization (deleted and
 *   re-created, or the name taken by another one) and is refused; a target no longer listed is forgotten.
 * - `promotedAt`: when the last rotation finished (its key became current): targets first seen after it
 *   are the ones "added since the previous rotation".
 * - `tokenExpiryAlertedAt`: when the stack's topic was last told that the GitHub token expires soon (at most
 *   once a day).
 * - `selected`: the repositories the list's selections (by topic or custom property) found when the current or
 *   last rotation began: every invocation of a rotation writes that set, and the next rotation compares with it.
 * - `selectedIds`: for each organization target with visibility `selected` (by targetKey), its repositories' IDs as
 *   the current rotation resolved them (src/lifecycle/selected-ids.ts), possibly partly: resolved once per rotation,
 *   forgotten when the rotation finishes.
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
  /** targetKeys. */
  readonly repos: readonly string[];
}

/** A target's repository (or organization) as a rotation first saw it on GitHub. */
export interface RepoSeen {
  /** GitHub's repository (or organization) ID. */
  readonly id: number;
  /** When it was first seen (ISO 8601, whole seconds). */
  readonly seenAt: string;
}

export interface RotationState {
  readonly current: ManagedKey | undefined;
  readonly pending: PendingKey | undefined;
  readonly creating: { readonly startedAt: string } | undefined;
  readonly previous: PreviousKey | undefined;
  readonly holdings: Readonly<Record<string, Holding>>;
  readonly githubWrites?: readonly number[];
  readonly writing?: WritingBatch | undefined;
  readonly repoIds?: Readonly<Record<string, RepoSeen>>;
  readonly promotedAt?: string;
  readonly tokenExpiryAlertedAt?: string;
  /** Repositories whose preflight checks passed in the current round (before a new key is created). */
  readonly checked?: CheckedRepos | undefined;
  /**
   * The shadowing check spread over invocations (src/lifecycle/shadowing.ts): before a key is created (cleared
   * when it is), or before the previous key is deactivated.
   */
  readonly shadowCheck?: ShadowCheckRound | undefined;
  /** What the list's selections found when the current (or last) rotation began (src/lifecycle/selection.ts). */
  readonly selected?: SelectedRecord | undefined;
  /** Organization targets' selected repositories resolved to IDs by the current rotation, by targetKey. */
  readonly selectedIds?: Readonly<Record<string, SelectedIds>> | undefined;
  readonly updatedAt: string;
}

/**
 * A preflight spread over several invocations (a long list at GitHub's pace): the targets (targetKeys) that
 * passed every check since `since`. Cleared when the new key is created; a round older than a day starts over.
 */
export interface CheckedRepos {
  readonly since: string;
  readonly repos: readonly string[];
}

/** What one selection found, as the progress object keeps it. */
export interface SelectedSet {
  readonly owner: string;
  readonly by: RepositorySelection["by"];
  readonly store: SecretStore;
  /** The names of the repositories it found, A to Z. */
  readonly repos: readonly string[];
}

/**
 * Dynamic selection: what the list's selections found when the current (or last) rotation began, kept in the
 * progress object. Every invocation of one rotation uses this set, and the next rotation compares its own with it.
 * Names only (IDs are in `repoIds` once a rotation checked the repository): some 25 bytes a repository.
 */
export interface SelectedRecord {
  /** When the set was resolved (ISO 8601). */
  readonly at: string;
  readonly sets: readonly SelectedSet[];
}

/** The state of a stack that has not rotated yet. */
export function emptyState(now: Date): RotationState {
  return {
    current: undefined,
    pending: undefined,
    creating: undefined,
    previous: undefined,
    holdings: {},
    updatedAt: now.toISOString(),
  };
}
