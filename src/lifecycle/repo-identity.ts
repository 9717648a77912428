import { nameTargets, targetNoun } from "../domain/name-targets.ts";
import { type OrganizationTarget, type Target, targetKey, targetLabel } from "../domain/target.ts";
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

/** The refusal for `target` when GitHub's `identity` differs from the ID `known` recorded for it, else undefined. */
export function identityChange(
  target: Target,
  identity: TargetIdentity,
  known: Readonly<Record<string, RepoSeen>> | undefined,
): RepositoryReplacedError | undefined {
  const seen = known?.[targetKey(target)];
  return seen !== undefined && seen.id !== identity.id
    ? new RepositoryReplacedError(target, seen.id, identity.id)
    : undefined;
}

/**
 * The refusal for the first of `target`'s selected repositories whose ID as resolved now (`found`: by the name in
 * lower case, as `SelectedIds.found` keeps it; a name not resolved yet is skipped) differs from the ID `known`
 * recorded for that name, else undefined.
 */
export function selectedChange(
  target: OrganizationTarget,
  found: Readonly<Record<string, number>>,
  known: Readonly<Record<string, RepoSeen>> | undefined,
): RepositoryReplacedError | undefined {
  for (const name of target.selectedRepositories) {
    const id = found[name.toLowerCase()];
    const seen = known?.[selectedKey(target, name)];
    if (id !== undefined && seen !== undefined && seen.id !== id)
      return new RepositoryReplacedError(target, seen.id, id, name);
  }
  return undefined;
}

/**
 * The state with the IDs of the listed targets (by targetKey: a repository's Actions target keeps v1's key; from
 * `identities`) and of organization targets' selected repositories (`org:octo@actions#web`; from the IDs this
 * rotation resolved, `state.selectedIds`): those seen before keep their first sighting, new ones are recorded as
 * seen `now`, and targets and selected names no longer listed are forgotten (one listed again is then taken as new).
 * Returns `state` itself when nothing changes.
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
  const keep = (key: string, id: number | undefined): void => {
    const before = known[key];
    if (before !== undefined) next[key] = before;
    else if (id !== undefined) {
      next[key] = { id, seenAt };
      changed = true;
    }
  };
  for (const target of targets) {
    const key = targetKey(target);
    keep(key, identities.get(key)?.id);
    if (target.kind !== "organization") continue;
    const found = state.selectedIds?.[key]?.found;
    for (const name of target.selectedRepositories) {
      keep(selectedKey(target, name), found?.[name.toLowerCase()]);
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
