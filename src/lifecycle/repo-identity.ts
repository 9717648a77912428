import type { RepoRef } from "../domain/repo.ts";
import { nameRepos, repoLabel, repoSlug } from "../domain/repo.ts";
import { GitHubAccessError } from "../errors.ts";
import type { RepoIdentity } from "../ports.ts";
import type { RepoSeen, RotationState } from "./state.ts";

/**
 * A listed name now belongs to another repository than the one a rotation first saw under it (GitHub's IDs
 * differ): the first was deleted, renamed or transferred and another repository took the name. The key is not
 * written to it, and the stack's topic is alerted.
 */
export class RepositoryReplacedError extends GitHubAccessError {
  readonly previousId: number;
  readonly currentId: number;

  constructor(repo: RepoRef, previousId: number, currentId: number) {
    const label = repoLabel(repo);
    super(
      `${label} is a different repository now (ID ${previousId} → ${currentId}): the repository first listed under this name was deleted, renamed or transferred, and another one has the name. Nothing was sent to it.`,
      {
        repo: label,
        fix: `If ${label} (ID ${currentId}) is yours and should receive the key: remove it from the list (Delete-RepoConfig), run Rotate once so the stack forgets repository ID ${previousId}, then add it again (Add-RepoConfig). Otherwise just remove it from the list.`,
      },
    );
    this.name = "RepositoryReplacedError";
    this.previousId = previousId;
    this.currentId = currentId;
  }

  /** The alert for the stack's topic. */
  get alert(): string {
    return `${this.repo ?? "A listed repository"} is a different repository on GitHub than the one first listed under that name (ID ${this.previousId} → ${this.currentId}). The function refused to send the key to it and changed nothing. If nobody you know deleted and re-created it, someone may have taken over the name.`;
  }
}

/** The refusal for `repo` when GitHub's `identity` differs from the ID `known` recorded for it, else undefined. */
export function identityChange(
  repo: RepoRef,
  identity: RepoIdentity,
  known: Readonly<Record<string, RepoSeen>> | undefined,
): RepositoryReplacedError | undefined {
  const seen = known?.[repoSlug(repo)];
  return seen === undefined || seen.id === identity.id
    ? undefined
    : new RepositoryReplacedError(repo, seen.id, identity.id);
}

/**
 * The state with the IDs of the listed repositories: those seen before keep their first sighting, new ones are
 * recorded as seen `now`, and repositories no longer listed are forgotten (a repository listed again is then
 * taken as new). Returns `state` itself when nothing changes.
 */
export function recordRepoIds(
  state: RotationState,
  repos: readonly RepoRef[],
  identities: ReadonlyMap<string, RepoIdentity>,
  now: Date,
): RotationState {
  const known = state.repoIds ?? {};
  const next: Record<string, RepoSeen> = {};
  const seenAt = `${now.toISOString().slice(0, 19)}Z`;
  let changed = state.repoIds === undefined;
  for (const repo of repos) {
    const slug = repoSlug(repo);
    const before = known[slug];
    const identity = identities.get(slug);
    if (before !== undefined) next[slug] = before;
    else if (identity !== undefined) {
      next[slug] = { id: identity.id, seenAt };
      changed = true;
    }
  }
  if (Object.keys(next).length !== Object.keys(known).length) changed = true;
  return changed ? { ...state, repoIds: next } : state;
}

/**
 * The summary line naming the repositories added since the previous rotation finished (first seen after
 * `promotedAt`), or, before any rotation recorded them, that this one starts keeping track.
 */
export function addedSinceNote(state: RotationState, repos: readonly RepoRef[]): string {
  const { promotedAt, repoIds } = state;
  if (promotedAt === undefined || repoIds === undefined) {
    return "Repositories added since the previous rotation: not known yet (this is the first rotation that records the listed repositories; the next one names those added since).";
  }
  const after = Date.parse(promotedAt);
  const added = repos.filter((repo) => {
    const seen = repoIds[repoSlug(repo)];
    return seen === undefined || Date.parse(seen.seenAt) > after;
  });
  return `Repositories added since the previous rotation (${promotedAt}): ${added.length === 0 ? "none" : `${nameRepos(added)} (${added.length})`}.`;
}
