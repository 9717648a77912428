import { ALLOWED_OWNERS_PARAMETER, type OwnerAllowList } from "../config/owner-allow-list.ts";
import { type RepositorySelection, selectionLabel } from "../domain/selection.ts";
import { type RepositoryTarget, type Target, targetKey } from "../domain/target.ts";
import { ConfigError, KeyDestinationRefusedError } from "../errors.ts";
import type { RepositoryFinder } from "../ports.ts";
import type { RepoSeen, SelectedRecord, SelectedSet } from "./state.ts";

/**
 * Dynamic selection, as pure logic over the RepositoryFinder port: each list entry that selects repositories by
 * topic or custom property (src/domain/selection.ts) is resolved into one RepositoryTarget per repository found,
 * merged with the explicitly listed targets, recorded in the progress object so that every invocation of one
 * rotation uses the same set, and compared with the previous run's set.
 */

/** A repository a selection found; `id` is undefined when the set was read back from the progress record. */
export interface SelectedRepository {
  readonly name: string;
  readonly id: number | undefined;
}

/** One selection and what it found. */
export interface ResolvedSelection {
  readonly selection: RepositorySelection;
  /** The repositories found, A to Z by name, each once. */
  readonly repositories: readonly SelectedRepository[];
  /** Matching archived repositories, left out (GitHub refuses secret writes to an archived repository). */
  readonly archived: readonly string[];
}

/**
 * Resolves every selection with `finder`, one after the other (GitHub asks for no needless concurrency), after
 * asserting that each selection's organization is one `allowed` (pAllowedGitHubOwners) lists: parsing the list
 * refuses a selection of another owner already, so a refusal here (KeyDestinationRefusedError, before any request)
 * means a caller skipped that check. An empty resolution is not an error (the summary warns about it).
 */
export async function resolveSelections(
  selections: readonly RepositorySelection[],
  finder: RepositoryFinder,
  allowed: OwnerAllowList,
): Promise<ResolvedSelection[]> {
  const foreign = selections.filter((selection) => !allowed.allows(selection.owner));
  if (foreign.length > 0) throw foreignSelectionError(foreign, allowed);
  const resolved: ResolvedSelection[] = [];
  for (const selection of selections) {
    const { by, owner } = selection;
    const matches =
      "topic" in by
        ? await finder.withTopic(owner, by.topic.toLowerCase())
        : await finder.withProperty(owner, by.property, by.value);
    const byName = new Map<string, SelectedRepository>();
    for (const { name, id } of matches.repositories) {
      if (!byName.has(name.toLowerCase())) byName.set(name.toLowerCase(), { name, id });
    }
    resolved.push({
      selection,
      repositories: [...byName.values()].sort((a, b) => compareNames(a.name, b.name)),
      archived: [...matches.archived].sort(compareNames),
    });
  }
  return resolved;
}

/** One selection's part of the merged targets. */
export interface MergedSelection {
  readonly resolved: ResolvedSelection;
  /** The targets this selection adds, A to Z. */
  readonly targets: readonly RepositoryTarget[];
  /** Repositories it found that were targets already (listed by name, or found by an earlier selection). */
  readonly covered: number;
}

/** The targets of a run: the listed ones and the selected ones, each targetKey once. */
export interface MergedTargets {
  /** The listed targets in list order, then each selection's new targets (first selection first). */
  readonly targets: readonly Target[];
  readonly selections: readonly MergedSelection[];
  /** GitHub's repository ID of each selected target whose ID the finder reported, by targetKey. */
  readonly ids: ReadonlyMap<string, number>;
}

/**
 * Merges the listed targets with the selected ones: a repository both listed and selected for the same store is
 * the listed entry (its secret names and KeyIdAs win), and one that two selections find belongs to the first. A
 * repository the list marks `Unmanaged` for that store (`options.unmanaged`: its copy holds another key on purpose)
 * is never a target, whatever topic or property it gets: it counts as covered. Throws ConfigError (naming
 * `location`, the list) when the targets would exceed `max`, the most one stack rotates.
 */
export function mergeSelections(
  listed: readonly Target[],
  resolved: readonly ResolvedSelection[],
  options: { readonly max: number; readonly location: string; readonly unmanaged?: readonly Target[] },
): MergedTargets {
  const keys = new Set([...listed, ...(options.unmanaged ?? [])].map(targetKey));
  const targets: Target[] = [...listed];
  const ids = new Map<string, number>();
  const selections = resolved.map((one): MergedSelection => {
    const added: RepositoryTarget[] = [];
    let covered = 0;
    for (const repository of one.repositories) {
      const target = selectedTarget(one.selection, repository.name);
      const key = targetKey(target);
      if (keys.has(key)) {
        covered++;
        continue;
      }
      keys.add(key);
      added.push(target);
      if (repository.id !== undefined) ids.set(key, repository.id);
    }
    targets.push(...added);
    return { resolved: one, targets: added, covered };
  });
  if (targets.length > options.max) {
    const selected = targets.length - listed.length;
    throw new ConfigError(
      options.location,
      [
        `its selections find ${selected.toLocaleString("en-US")} repositories; with the ${listed.length.toLocaleString("en-US")} listed targets that makes ${targets.length.toLocaleString("en-US")}, more than the ${options.max.toLocaleString("en-US")} one stack rotates (${resolved
          .map(
            (one) => `${selectionLabel(one.selection)}: ${one.repositories.length.toLocaleString("en-US")}`,
          )
          .join("; ")})`,
      ],
      "Narrow the selections (a more specific topic or property value), or split the repositories between two stacks with a list each. Nothing was changed.",
    );
  }
  return { targets, selections, ids };
}

/** The target a selection makes of a repository it found: that repository's secrets for the selection's store. */
export function selectedTarget(
  selection: Pick<RepositorySelection, "owner" | "store" | "secretNames" | "keyIdAs">,
  name: string,
): RepositoryTarget {
  return {
    kind: "repository",
    owner: selection.owner,
    name,
    store: selection.store,
    ...(selection.secretNames === undefined ? {} : { secretNames: selection.secretNames }),
    ...(selection.keyIdAs === undefined ? {} : { keyIdAs: selection.keyIdAs }),
  };
}

/** The record of `resolved`, resolved at `at`. */
export function selectedRecord(resolved: readonly ResolvedSelection[], at: Date): SelectedRecord {
  const sets: SelectedSet[] = [];
  for (const { selection, repositories } of resolved) {
    // Two entries with the same criteria and store find the same repositories: one set serves both.
    if (sets.some((set) => sameCriteria(set, selection))) continue;
    sets.push({
      owner: selection.owner,
      by: selection.by,
      store: selection.store,
      repos: repositories.map((repository) => repository.name),
    });
  }
  return { at: `${at.toISOString().slice(0, 19)}Z`, sets };
}

/**
 * The selections as the record resolved them (for the invocations that continue a rotation): each selection of
 * the list whose criteria the record holds gets the recorded repositories (IDs unknown, nothing archived), the
 * others are returned as `unresolved` (a selection added to the list while the rotation runs: resolve those).
 */
export function resolvedFromRecord(
  selections: readonly RepositorySelection[],
  record: SelectedRecord,
): { readonly resolved: readonly ResolvedSelection[]; readonly unresolved: readonly RepositorySelection[] } {
  const resolved: ResolvedSelection[] = [];
  const unresolved: RepositorySelection[] = [];
  for (const selection of selections) {
    const set = record.sets.find((one) => sameCriteria(one, selection));
    if (set === undefined) unresolved.push(selection);
    else {
      resolved.push({
        selection,
        repositories: set.repos.map((name) => ({ name, id: undefined })),
        archived: [],
      });
    }
  }
  return { resolved, unresolved };
}

/** A repository that a selection found under a new name (GitHub's ID is the same). */
export interface RenamedRepository {
  readonly from: RepositoryTarget;
  readonly to: RepositoryTarget;
}

/** How the selected repositories changed since the previous resolution. */
export interface SelectionChanges {
  /** When the previous set was resolved; undefined when no run has recorded one yet. */
  readonly since: string | undefined;
  /** Selected now, not then (A to Z). */
  readonly added: readonly RepositoryTarget[];
  /** Selected then, not now (A to Z): they no longer receive the key. */
  readonly removed: readonly RepositoryTarget[];
  /** Selected then and now under another name: the same repository by GitHub's ID. */
  readonly renamed: readonly RenamedRepository[];
  /**
   * Selected then and now under the same name, but GitHub's ID differs from the one recorded: the repository was
   * deleted and another one took its name (the rotation refuses to write to it, see repo-identity.ts).
   */
  readonly replaced: readonly RepositoryTarget[];
}

/**
 * What changed between the `previous` record and `current`, by targetKey (repository and store), over every
 * selection together: a repository found by another selection than before has not changed. Where both IDs are
 * known (`known`: the progress object's `repoIds`, by targetKey; `current`: the finder's), a repository that went
 * away under one name and came under another is `renamed`, and one whose name stayed but whose ID changed is
 * `replaced`.
 */
export function selectionChanges(
  previous: SelectedRecord | undefined,
  current: readonly ResolvedSelection[],
  known: Readonly<Record<string, RepoSeen>> | undefined,
): SelectionChanges {
  const before = new Map<string, RepositoryTarget>();
  for (const set of previous?.sets ?? []) {
    for (const name of set.repos) {
      const target = selectedTarget(set, name);
      before.set(targetKey(target), target);
    }
  }
  const now = new Map<string, { readonly target: RepositoryTarget; readonly id: number | undefined }>();
  for (const { selection, repositories } of current) {
    for (const { name, id } of repositories) {
      const target = selectedTarget({ owner: selection.owner, store: selection.store }, name);
      if (!now.has(targetKey(target))) now.set(targetKey(target), { target, id });
    }
  }
  const added = [...now].filter(([key]) => !before.has(key));
  const removed = [...before].filter(([key]) => !now.has(key));
  const replaced = [...now]
    .filter(([key, { id }]) => {
      const seen = known?.[key];
      return before.has(key) && seen !== undefined && id !== undefined && seen.id !== id;
    })
    .map(([, { target }]) => target);
  const renamed: RenamedRepository[] = [];
  const renamedFrom = new Set<string>();
  const renamedTo = new Set<string>();
  // One pass each way (10,000 repositories): the added ones by repository ID and store.
  const addedById = new Map<string, [string, RepositoryTarget]>();
  for (const [key, { target, id }] of added) {
    if (id !== undefined) addedById.set(`${id}@${target.store}`, [key, target]);
  }
  for (const [fromKey, from] of removed) {
    const id = known?.[fromKey]?.id;
    const match = id === undefined ? undefined : addedById.get(`${id}@${from.store}`);
    if (match === undefined || renamedTo.has(match[0])) continue;
    renamed.push({ from, to: match[1] });
    renamedFrom.add(fromKey);
    renamedTo.add(match[0]);
  }
  return {
    since: previous?.at,
    added: added
      .filter(([key]) => !renamedTo.has(key))
      .map(([, { target }]) => target)
      .sort(byLabel),
    removed: removed
      .filter(([key]) => !renamedFrom.has(key))
      .map(([, target]) => target)
      .sort(byLabel),
    renamed: renamed.sort((a, b) => byLabel(a.from, b.from)),
    replaced: replaced.sort(byLabel),
  };
}

/** Whether a recorded set has `selection`'s criteria: the same organization, topic or property value, and store. */
function sameCriteria(
  set: Pick<SelectedSet, "owner" | "by" | "store">,
  selection: RepositorySelection,
): boolean {
  if (set.owner.toLowerCase() !== selection.owner.toLowerCase() || set.store !== selection.store)
    return false;
  const [a, b] = [set.by, selection.by];
  if ("topic" in a) return "topic" in b && a.topic.toLowerCase() === b.topic.toLowerCase();
  return "property" in b && a.property.toLowerCase() === b.property.toLowerCase() && a.value === b.value;
}

/** GitHub compares repository names ignoring case; the order is A to Z the same way. */
function compareNames(a: string, b: string): number {
  const [x, y] = [a.toLowerCase(), b.toLowerCase()];
  return x < y ? -1 : x > y ? 1 : 0;
}

function byLabel(a: RepositoryTarget, b: RepositoryTarget): number {
  return compareNames(`${a.owner}/${a.name}@${a.store}`, `${b.owner}/${b.name}@${b.store}`);
}

/** The refusal of selections whose organization pAllowedGitHubOwners does not list (a security event). */
function foreignSelectionError(
  foreign: readonly RepositorySelection[],
  allowed: OwnerAllowList,
): KeyDestinationRefusedError {
  const labels = foreign.map(selectionLabel);
  return new KeyDestinationRefusedError(
    `The list selects ${labels.join("; ")}, of ${foreign.length === 1 ? "an organization" : "organizations"} ${ALLOWED_OWNERS_PARAMETER} does not allow. The key goes only to repositories of ${allowed.describe()}; nothing was changed.`,
    {
      repos: labels,
      fix: `Remove the selection from the list (edit repos.json). If the organization is yours, add it to the stack parameter ${ALLOWED_OWNERS_PARAMETER} (update the stack) and try again.`,
      alert: `The list selects ${labels.join("; ")}, outside ${ALLOWED_OWNERS_PARAMETER} (${allowed.describe()}). The function refused to send the key there and changed nothing. If nobody you know added it, someone who can write the list tried to send the CI key to a GitHub organization you do not control.`,
    },
  );
}
