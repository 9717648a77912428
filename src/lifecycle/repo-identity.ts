import { nameTargets, targetNoun } from "../domain/name-targets.ts";
import { type Target, targetKey, targetLabel } from "../domain/target.ts";
import { GitHubAccessError } from "../errors.ts";
import type { TargetIdentity } from "../ports.ts";
import type { RepoSeen, RotationState } from "./state.ts";

/**
 * A listed name now belongs to another repository (or organization) than the one a rotation first saw under it
 * (GitHub's IDs differ): the first was deleted, renamed or transferred and another one took the name. The key is
 * not written to it, and the stack's topic is alerted. Repository and environment targets are pinned to their
 * repository's ID, an organization target to the organization's, and each selected repository of an organization
 * secret (visibility `selected`) to its own (`selected`: its name): a repository that took that name would see the
 * secret.
 */
export class RepositoryReplacedError extends GitHubAccessError {
  readonly previousId: number;
  readonly currentId: number;
  readonly #what: string;
  readonly #place: string;

  constructor(target: Target, previousId: number, currentId: number, selected?: string) {
    const label = targetLabel(target);
    const what = target.kind === "organization" && selected === undefined ? "organization" : "repository";
    const place = selected === undefined ? label : `${target.owner}/${selected}`;
    // Whole sentences per kind: README's Troubleshooting quotes the repository's.
    const changed =
      selected !== undefined
        ? `${label}: its selected repository ${place} is a different repository now (ID ${previousId} → ${currentId}): the repository first listed under this name was deleted, renamed or transferred, and another one has the name.`
        : what === "organization"
          ? `${label} is a different organization now (ID ${previousId} → ${currentId}): the organization first listed under this name was deleted or renamed, and another one has the name.`
          : `${label} is a different repository now (ID ${previousId} → ${currentId}): the repository first listed under this name was deleted, renamed or transferred, and another one has the name.`;
    const fix =
      selected !== undefined
        ? `If ${place} (ID ${currentId}) is yours and should see the secret: remove ${selected} from the entry's Repositories (Add-RepoConfig updates the entry in place), run Rotate once so the stack forgets repository ID ${previousId}, then add it again. Otherwise just remove it from Repositories.`
        : `If ${label} (ID ${currentId}) is yours and should receive the key: remove it from the list (Delete-RepoConfig), run Rotate once so the stack forgets ${what} ID ${previousId}, then add it again (Add-RepoConfig). Otherwise just remove it from the list.`;
    super(`${changed} Nothing was sent to it.`, { repo: label, fix });
    this.name = "RepositoryReplacedError";
    this.previousId = previousId;
    this.currentId = currentId;
    this.#what = what;
    this.#place = place;
  }

  /** The alert for the stack's topic. */
  get alert(): string {
    return `${this.#place} is a different ${this.#what} on GitHub than the one first listed under that name (ID ${this.previousId} → ${this.currentId}). The function refused to send the key to it and changed nothing. If nobody you know deleted and re-created it, someone may have taken over the name.`;
  }
}

/**
 * The key under which a selected repository of an organization target is pinned: the target's key, `#` and the
 * repository's name (`org:octo@actions#web`; no owner or repository name holds `#`), lower-cased.
 */
function selectedKey(target: Target, name: string): string {
  return `${targetKey(target)}#${name}`.toLowerCase();
}

/** Every ID `identity` tells about `target`, by the key it is pinned under (the target's, and each selected one's). */
function pinnedIds(
  target: Target,
  identity: TargetIdentity,
): { key: string; id: number; selected?: string }[] {
  const ids: { key: string; id: number; selected?: string }[] = [{ key: targetKey(target), id: identity.id }];
  if (target.kind === "organization" && identity.selectedRepositoryIds !== undefined) {
    target.selectedRepositories.forEach((name, index) => {
      const id = identity.selectedRepositoryIds?.[index];
      if (id !== undefined) ids.push({ key: selectedKey(target, name), id, selected: name });
    });
  }
  return ids;
}

/**
 * The refusal for `target` when GitHub's `identity` differs from an ID `known` recorded for it (its own, or one of
 * its selected repositories'), else undefined.
 */
export function identityChange(
  target: Target,
  identity: TargetIdentity,
  known: Readonly<Record<string, RepoSeen>> | undefined,
): RepositoryReplacedError | undefined {
  for (const { key, id, selected } of pinnedIds(target, identity)) {
    const seen = known?.[key];
    if (seen !== undefined && seen.id !== id)
      return new RepositoryReplacedError(target, seen.id, id, selected);
  }
  return undefined;
}

/**
 * The state with the IDs of the listed targets (by targetKey: a repository's Actions target keeps v1's key) and of
 * organization targets' selected repositories: those seen before keep their first sighting, new ones are recorded
 * as seen `now`, and targets no longer listed are forgotten (a target listed again is then taken as new). Returns
 * `state` itself when nothing changes.
 */
export function recordRepoIds(
  state: RotationState,
  targets: readonly Target[],
  identities: ReadonlyMap<string, TargetIdentity>,
  now: Date,
): RotationState {
  const known = state.repoIds ?? {};
  const next: Record<string, RepoSeen> = {};
  const seenAt = `${now.toISOString().slice(0, 19)}Z`;
  let changed = state.repoIds === undefined;
  for (const target of targets) {
    const identity = identities.get(targetKey(target));
    const keys =
      target.kind === "organization"
        ? [targetKey(target), ...target.selectedRepositories.map((name) => selectedKey(target, name))]
        : [targetKey(target)];
    const ids = new Map(identity === undefined ? [] : pinnedIds(target, identity).map((p) => [p.key, p.id]));
    for (const key of keys) {
      const before = known[key];
      const id = ids.get(key);
      if (before !== undefined) next[key] = before;
      else if (id !== undefined) {
        next[key] = { id, seenAt };
        changed = true;
      }
    }
  }
  if (Object.keys(next).length !== Object.keys(known).length) changed = true;
  return changed ? { ...state, repoIds: next } : state;
}

/**
 * The summary line naming the targets added since the previous rotation finished (first seen after `promotedAt`),
 * or, before any rotation recorded them, that this one starts keeping track.
 */
export function addedSinceNote(state: RotationState, targets: readonly Target[]): string {
  const { promotedAt, repoIds } = state;
  const noun = targetNoun(targets);
  const Nouns = `${noun.many[0]?.toUpperCase()}${noun.many.slice(1)}`;
  if (promotedAt === undefined || repoIds === undefined) {
    return `${Nouns} added since the previous rotation: not known yet (this is the first rotation that records the listed ${noun.many}; the next one names those added since).`;
  }
  const after = Date.parse(promotedAt);
  const added = targets.filter((target) => {
    const seen = repoIds[targetKey(target)];
    return seen === undefined || Date.parse(seen.seenAt) > after;
  });
  return `${Nouns} added since the previous rotation (${promotedAt}): ${added.length === 0 ? "none" : `${nameTargets(added)} (${added.length})`}.`;
}
