import type { OwnerAllowList } from "../config/owner-allow-list.ts";
import type { RepositorySelection } from "../domain/selection.ts";
import { selectionLabel } from "../domain/selection.ts";
import type { Target } from "../domain/target.ts";
import { AkmError } from "../errors.ts";
import type { RepositoryFinder } from "../ports.ts";
import type { RotationDeps } from "./rotation-context.ts";
import {
  type MergedTargets,
  mergeSelections,
  type ResolvedSelection,
  resolvedFromRecord,
  resolveSelections,
  type SelectionChanges,
  selectedRecord,
  selectionChanges,
} from "./selection.ts";
import type { RepoSeen, RotationState, SelectedRecord } from "./state.ts";

/** What dynamic selection needs from the run. */
export interface SelectionContext {
  readonly finder: RepositoryFinder;
  readonly allowedOwners: OwnerAllowList;
  /** The list's location, for messages (`s3://bucket/repos.json`). */
  readonly location: string;
  /** The most targets one stack rotates (MAX_REPOS). */
  readonly max: number;
}

/** Where a run's targets come from, and what the progress object should remember of the selections. */
export interface TargetSet extends MergedTargets {
  /** The selected set to keep in the progress object; undefined when the list has no selection. */
  readonly record: SelectedRecord | undefined;
  /**
   * What the selections found differently from the recorded set; undefined when the set was not resolved anew
   * (a rotation under way uses the set it started with) or the list has no selection.
   */
  readonly changes: SelectionChanges | undefined;
}

/**
 * The targets of a run: the listed ones and what the selections find. A rotation under way (`underWay`: its key
 * exists, or its preflight round has begun) uses the set `recorded` when it began, so that every invocation of one
 * rotation writes the same repositories; a selection the record lacks (added to the list meanwhile) is resolved now
 * and added to the record. Any other run (a new rotation, DryRun, the result and Retire steps after a rotation)
 * resolves every selection anew and compares with `recorded`, IDs from `known` (the progress object's `repoIds`).
 * Without selections nothing is asked from GitHub and nothing is recorded.
 */
export async function selectTargets(
  listed: {
    readonly targets: readonly Target[];
    readonly selections: readonly RepositorySelection[];
    /** The list's Unmanaged entries: a repository one of them names is never a selected target. */
    readonly unmanaged?: readonly Target[];
  },
  run: {
    readonly recorded: SelectedRecord | undefined;
    readonly underWay: boolean;
    readonly known: Readonly<Record<string, RepoSeen>> | undefined;
    readonly now: Date;
  },
  context: SelectionContext,
): Promise<TargetSet> {
  const { selections } = listed;
  const limits = { max: context.max, location: context.location, unmanaged: listed.unmanaged ?? [] };
  if (selections.length === 0) {
    return { ...mergeSelections(listed.targets, [], limits), record: undefined, changes: undefined };
  }
  if (run.underWay && run.recorded !== undefined) {
    const kept = resolvedFromRecord(selections, run.recorded);
    const added = await resolveSelections(kept.unresolved, context.finder, context.allowedOwners);
    const resolved = inListOrder(selections, [...kept.resolved, ...added]);
    const record =
      added.length === 0
        ? run.recorded
        : { at: run.recorded.at, sets: [...run.recorded.sets, ...selectedRecord(added, run.now).sets] };
    return { ...mergeSelections(listed.targets, resolved, limits), record, changes: undefined };
  }
  const resolved = await resolveSelections(selections, context.finder, context.allowedOwners);
  return {
    ...mergeSelections(listed.targets, resolved, limits),
    record: selectedRecord(resolved, run.now),
    changes: selectionChanges(run.recorded, resolved, run.known),
  };
}

/**
 * Reads the list (`ownersChecked` as `TargetList.load`) and resolves its selections with `deps.selection` (see
 * `selectTargets`; `underWay`: a rotation under way, which keeps the set recorded in `state`), with the list's
 * Unmanaged entries (for the shadowing check). Without
 * `deps.selection`, a list with selections is refused (AkmError) before anything changes.
 */
export async function loadTargets(
  deps: Pick<RotationDeps, "list" | "selection" | "clock">,
  run: {
    readonly state: RotationState | undefined;
    readonly underWay: boolean;
    readonly ownersChecked: boolean;
  },
): Promise<TargetSet & { readonly unmanaged: readonly Target[] }> {
  const listed = await deps.list.load({ ownersChecked: run.ownersChecked });
  const unmanaged = listed.unmanaged ?? [];
  const selections = listed.selections ?? [];
  if (selections.length > 0 && deps.selection === undefined) {
    const count = selections.length;
    throw new AkmError(
      `The repository list ${deps.list.location} selects repositories by topic or property (${selections.map(selectionLabel).slice(0, 5).join(", ")}${count > 5 ? ` and ${count - 5} more` : ""}), which this run cannot resolve. Nothing was changed.`,
      {
        fix: "Name those repositories one by one instead (Add-RepoConfig), or remove the selections (Delete-RepoConfig).",
        fault: "tool",
      },
    );
  }
  if (deps.selection === undefined) {
    return {
      targets: listed.targets,
      selections: [],
      ids: new Map(),
      record: undefined,
      changes: undefined,
      unmanaged,
    };
  }
  const selected = await selectTargets(
    { targets: listed.targets, selections, unmanaged },
    {
      recorded: run.state?.selected,
      underWay: run.underWay,
      known: run.state?.repoIds,
      now: deps.clock.now(),
    },
    deps.selection,
  );
  return { ...selected, unmanaged };
}

/** `resolved` in the order of `selections` (the list's order decides which selection a repository belongs to). */
function inListOrder(
  selections: readonly RepositorySelection[],
  resolved: readonly ResolvedSelection[],
): ResolvedSelection[] {
  return selections.flatMap((selection) => resolved.filter((one) => one.selection === selection));
}
