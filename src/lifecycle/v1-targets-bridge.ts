import type { ReposConfig } from "../config/repos-config.ts";
import type { RepoRef } from "../domain/repo.ts";
import { selectionLabel } from "../domain/selection.ts";
import { type RepositoryTarget, type Target, targetLabel } from "../domain/target.ts";
import { AkmError } from "../errors.ts";

/**
 * BRIDGE (issue 10), to be removed when the lifecycle works on `targets` (helper D2's part): the rotation still
 * writes only repositories' Actions secrets under the stack's names, so it reads the list as v1's repositories.
 * Every other entry the list format now takes (environments, organizations, Dependabot and Codespaces secrets,
 * per-entry names, the key ID as a variable, selections) stops the run before anything changes, saying so.
 * Unmanaged places are never written, so they need nothing here.
 */
export type RotationConfig = ReposConfig & {
  /** The repositories whose Actions secrets the rotation writes, in list order. */
  readonly repos: readonly RepoRef[];
};

/** The config with its repositories' Actions targets as v1's list; refuses any other target or a selection. */
export function withActionsRepos(config: ReposConfig, location: string): RotationConfig {
  const unsupported = [
    ...config.targets
      .filter((target): boolean => !isV1(target))
      .map((target) =>
        target.kind === "repository" && target.store === "actions"
          ? `${targetLabel(target)} (own secret names or KeyIdAs "variable")`
          : targetLabel(target),
      ),
    ...config.selections.map(selectionLabel),
  ];
  if (unsupported.length > 0) {
    const count = unsupported.length;
    throw new AkmError(
      `The repository list ${location} names ${count} entr${count === 1 ? "y" : "ies"} this version's rotation does not write yet: ${unsupported.slice(0, 10).join(", ")}${count > 10 ? ` and ${count - 10} more` : ""}. Nothing was changed.`,
      {
        fix: "Not supported yet: this build rotates repositories' Actions secrets under the stack's secret names only. Remove those entries (Delete-RepoConfig) to rotate the others, or deploy a version that writes them.",
        fault: "user",
      },
    );
  }
  return {
    ...config,
    repos: config.targets.filter(isV1).map((target) => ({ owner: target.owner, name: target.name })),
  };
}

function isV1(target: Target): target is RepositoryTarget {
  return (
    target.kind === "repository" &&
    target.store === "actions" &&
    target.secretNames === undefined &&
    (target.keyIdAs ?? "secret") === "secret"
  );
}
