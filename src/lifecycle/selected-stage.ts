import { type OrganizationTarget, type Target, targetKey } from "../domain/target.ts";
import { type AkmError, GitHubRateLimitError, toAkmError } from "../errors.ts";
import type { Clock, SecretsTarget } from "../ports.ts";
import { selectedChange } from "./repo-identity.ts";
import { resolveSelectedIds, type SelectedIds } from "./selected-ids.ts";
import type { RepoSeen } from "./state.ts";

/** What resolving every `selected` organization target of a run came to. */
export type SelectedStage =
  | {
      readonly kind: "done";
      /** The record to keep (by targetKey); undefined when the run has no such target and nothing was kept. */
      readonly records: Readonly<Record<string, SelectedIds>> | undefined;
      /** The records differ from those kept (something was resolved now, or a target left the list). */
      readonly changed: boolean;
    }
  | {
      readonly kind: "unfinished";
      readonly records: Readonly<Record<string, SelectedIds>>;
      /** Names resolved so far over all targets, of `total`. */
      readonly resolved: number;
      readonly total: number;
    }
  | {
      readonly kind: "failed";
      /** Every target that failed (in list order); the others were resolved, checked and handed over as usual. */
      readonly failures: readonly { readonly target: Target; readonly error: AkmError }[];
    };

/**
 * The stage of Rotate that resolves the selected repositories of every organization target with visibility
 * `selected` to IDs (src/lifecycle/selected-ids.ts), continuing from `kept` (what this rotation resolved in earlier
 * invocations), and hands the IDs of each target resolved in full to the adapter, whose writes send them. No request
 * but the first starts after `deadline`: what is left is `unfinished`, for the next invocation. An adapter without
 * the lookups (`SecretsTarget.organizationRepositories`) resolves the names itself: then nothing is done here.
 *
 * Each selected repository is pinned to its GitHub ID like a listed one (src/lifecycle/repo-identity.ts): a name
 * that resolves to another ID than the one `known` (the progress object's `repoIds`) recorded for it is another
 * repository now, which would see the secret: `failed` with RepositoryReplacedError, before its IDs reach the
 * adapter. The caller records the IDs of `records` as seen (`recordRepoIds`, from `RotationState.selectedIds`).
 *
 * A target that fails does not stop the others (so one run names every failure); GitHub's primary rate limit
 * (GitHubRateLimitError) is thrown, for the caller to wait for its reset. A `failed` target's IDs never reach the
 * adapter, which would resolve its names again, unchecked: the caller writes no `failed` target.
 */
export async function resolveSelectedTargets(
  deps: { readonly github: SecretsTarget; readonly clock: Clock },
  targets: readonly Target[],
  recorded: {
    /** What this rotation resolved in its earlier invocations, by targetKey. */
    readonly kept: Readonly<Record<string, SelectedIds>> | undefined;
    /** The IDs first seen under each name (RotationState.repoIds). */
    readonly known: Readonly<Record<string, RepoSeen>> | undefined;
  },
  deadline: Date,
): Promise<SelectedStage> {
  const { kept, known } = recorded;
  const { github, clock } = deps;
  const { organizationRepositories, selectedRepositoryId } = github;
  if (organizationRepositories === undefined || selectedRepositoryId === undefined) {
    return { kind: "done", records: kept, changed: false };
  }
  const source = {
    organizationRepositories: organizationRepositories.bind(github),
    selectedRepositoryId: selectedRepositoryId.bind(github),
  };
  const selected = targets.filter(
    (target): target is OrganizationTarget =>
      target.kind === "organization" && target.visibility === "selected",
  );
  const records: Record<string, SelectedIds> = {};
  const failures: { target: Target; error: AkmError }[] = [];
  let requests = 0;
  let unfinished = false;
  let resolved = 0;
  let total = 0;
  const late = () => clock.now().getTime() >= deadline.getTime();
  for (const target of selected) {
    const key = targetKey(target);
    const from = kept?.[key];
    total += new Set(target.selectedRepositories.map((name) => name.toLowerCase())).size;
    // A failed target's requests are not counted: that it failed is enough to stop at the deadline.
    if (unfinished || ((requests > 0 || failures.length > 0) && late())) {
      unfinished = true;
      if (from !== undefined) records[key] = from;
      resolved += Object.keys(from?.found ?? {}).length;
      continue;
    }
    try {
      const result = await resolveSelectedIds(target, from, source, { now: clock.now(), stop: late });
      requests += result.requests;
      const replaced = selectedChange(target, result.record.found, known);
      if (replaced !== undefined) {
        failures.push({ target, error: replaced });
        continue;
      }
      records[key] = result.record;
      if (result.kind === "done") {
        github.useSelectedRepositoryIds?.(target, result.ids);
        resolved += result.ids.length;
      } else {
        unfinished = true;
        resolved += result.resolved;
      }
    } catch (error) {
      if (error instanceof GitHubRateLimitError) throw error;
      failures.push({ target, error: toAkmError(error, "Resolving the selected repositories") });
    }
  }
  if (failures.length > 0) return { kind: "failed", failures };
  if (unfinished) return { kind: "unfinished", records, resolved, total };
  const none = Object.keys(records).length === 0;
  const changed = requests > 0 || Object.keys(kept ?? {}).length !== Object.keys(records).length;
  return { kind: "done", records: none && kept === undefined ? undefined : records, changed };
}
