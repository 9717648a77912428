import { type RepositorySelection, selectionLabel } from "../domain/selection.ts";
import { type SecretStore, type Target, targetKey, targetLabel } from "../domain/target.ts";
import { nameLabels } from "./message-text.ts";

/**
 * Places and selections one stack writes (`targets` plus `selections` of a list), and the repositories one
 * organization entry may share its secret with: the progress object records each (src/lifecycle/progress-document.ts).
 */
export const MAX_REPOS = 10_000;

/**
 * One entry of repos.json, in the file's order: a place the key is written to (`target`), the same place marked
 * `Unmanaged` (a copy of the two names there holds another key on purpose: never written, never counted as
 * shadowing), or repositories selected by topic or custom property (`selection`, resolved at each run).
 */
export type ListEntry =
  | { readonly kind: "target"; readonly target: Target; readonly unmanaged: boolean }
  | { readonly kind: "selection"; readonly selection: RepositorySelection };

/** repos.json as the rotation reads it: what to write, what to select, and what to leave alone. */
export interface ReposConfig {
  /** Every place the key is written to, in list order. */
  readonly targets: readonly Target[];
  /** Repositories selected by topic or custom property, resolved at each run. */
  readonly selections: readonly RepositorySelection[];
  /** Places that hold the same names on purpose with another key: not written, not shadowing. */
  readonly unmanaged: readonly Target[];
}

/** The entries grouped as the rotation reads them, each group in list order. */
export function groupEntries(entries: readonly ListEntry[]): ReposConfig {
  const targets: Target[] = [];
  const selections: RepositorySelection[] = [];
  const unmanaged: Target[] = [];
  for (const entry of entries) {
    if (entry.kind === "selection") selections.push(entry.selection);
    else (entry.unmanaged ? unmanaged : targets).push(entry.target);
  }
  return { targets, selections, unmanaged };
}

/** A config's entries in a stable order (targets, unmanaged places, selections), for callers without the file. */
export function entriesOf(config: ReposConfig): ListEntry[] {
  return [
    ...config.targets.map((target) => ({ kind: "target", target, unmanaged: false }) as const),
    ...config.unmanaged.map((target) => ({ kind: "target", target, unmanaged: true }) as const),
    ...config.selections.map((selection) => ({ kind: "selection", selection }) as const),
  ];
}

/**
 * What makes two entries the same entry, compared ignoring letter case as GitHub compares names: a target's
 * `targetKey` (an Unmanaged entry has the same key as a managed one for the same place, so a place is listed once),
 * or for a selection `select:owner@store#topic:t` / `select:owner@store#property:p=value` (the value as written).
 */
export function entryKey(entry: ListEntry): string {
  if (entry.kind === "target") return targetKey(entry.target);
  const { owner, store, by } = entry.selection;
  const head = `select:${owner}@${store}#`.toLowerCase();
  return "topic" in by
    ? `${head}topic:${by.topic}`
    : `${head}property:${by.property.toLowerCase()}=${by.value}`;
}

/** How messages name an entry: its target's label, or `repositories of org with topic t (Dependabot)`. */
export function entryLabel(entry: ListEntry): string {
  if (entry.kind === "target") return targetLabel(entry.target);
  const store = entry.selection.store;
  return store === "actions"
    ? selectionLabel(entry.selection)
    : `${selectionLabel(entry.selection)} (${STORE_NAMES[store]})`;
}

/** The owner (user or organization) an entry sends the key to, which pAllowedGitHubOwners must list. */
export function entryOwner(entry: ListEntry): string {
  return entry.kind === "target" ? entry.target.owner : entry.selection.owner;
}

/**
 * An entry the original tool could read: a repository's Actions secrets under the stack's names, written and
 * named by Owner and Name only. A list of only these is written in the original (v1) format.
 */
export function isPlainEntry(entry: ListEntry): boolean {
  return (
    entry.kind === "target" &&
    !entry.unmanaged &&
    entry.target.kind === "repository" &&
    entry.target.store === "actions" &&
    entry.target.secretNames === undefined &&
    (entry.target.keyIdAs ?? "secret") === "secret"
  );
}

/**
 * Whether two entries say the same: the same place or selection with the same names, visibility, repositories and
 * Unmanaged flag. Names compare as GitHub compares them (ignoring letter case; selected repositories as a set).
 */
export function sameEntry(a: ListEntry, b: ListEntry): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

/** An entry with its defaults spelled out, its names in one letter case and its keys in one order. */
function canonical(entry: ListEntry): unknown {
  const names = (n: { keyId: string; secretKey: string } | undefined) =>
    n && [n.keyId.toUpperCase(), n.secretKey.toUpperCase()];
  if (entry.kind === "selection") {
    const s = entry.selection;
    return [entryKey(entry), names(s.secretNames), s.keyIdAs ?? "secret"];
  }
  const t = entry.target;
  const common = [entryKey(entry), names(t.secretNames), t.keyIdAs ?? "secret", entry.unmanaged];
  return t.kind === "organization"
    ? [...common, t.visibility, t.selectedRepositories.map((r) => r.toLowerCase()).sort()]
    : common;
}

/**
 * What an entry says beyond its label, for Get-RepoList and the announcement of a changed list: "" for a
 * repository's Actions secrets under the stack's names; else e.g. `visibility selected: app-one, app-two; secret
 * names CI_KEY_ID, CI_SECRET; key ID as a variable`.
 */
export function entryDetails(entry: ListEntry): string {
  const parts: string[] = [];
  const common = entry.kind === "target" ? entry.target : entry.selection;
  if (entry.kind === "selection") parts.push("selected at each run");
  else if (entry.target.kind === "organization") {
    const { visibility, selectedRepositories } = entry.target;
    parts.push(
      visibility === "selected"
        ? `visibility selected: ${nameLabels(selectedRepositories)}`
        : `visibility ${visibility}`,
    );
  }
  if (common.secretNames !== undefined) {
    parts.push(`secret names ${common.secretNames.keyId}, ${common.secretNames.secretKey}`);
  }
  if (common.keyIdAs === "variable") parts.push("key ID as an Actions variable");
  if (entry.kind === "target" && entry.unmanaged) {
    parts.push("Unmanaged: never written, its copy holds another key on purpose");
  }
  return parts.join("; ");
}

/** How messages name a store. */
export const STORE_NAMES: Readonly<Record<SecretStore, string>> = {
  actions: "Actions",
  dependabot: "Dependabot",
  codespaces: "Codespaces",
};
