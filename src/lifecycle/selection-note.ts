import { selectionLabel } from "../domain/selection.ts";
import { targetLabel } from "../domain/target.ts";
import { type MergedSelection, type SelectionChanges, selectedTarget } from "./selection.ts";

/** How many names a line shows before "and N more": the summary stays within its 4 KB at any list size. */
const SHOWN = 5;

/**
 * The summary lines about dynamic selection, for DryRun and the rotation's preflight: per selection, how many
 * repositories it found (the first names), how many were listed by name already and which archived ones were left
 * out; a selection that found nothing is a `Warning:` line (most likely a typo); then what changed since the last
 * run when `changes` is given.
 */
export function selectionNotes(
  selections: readonly MergedSelection[],
  changes: SelectionChanges | undefined,
): string[] {
  const lines = selections.map(foundNote);
  if (changes !== undefined && selections.length > 0) lines.push(changesNote(changes));
  return lines;
}

function foundNote({ resolved, covered }: MergedSelection): string {
  const { selection, repositories, archived } = resolved;
  const label = selectionLabel(selection);
  const leftOut =
    archived.length === 0
      ? ""
      : `; ${count(archived.length, "archived repository", "archived repositories")} left out, as GitHub refuses to write secrets to an archived repository (${nameSome(archived.map((name) => `${selection.owner}/${name}`))})`;
  if (repositories.length === 0) {
    const check =
      "topic" in selection.by
        ? "the topic's spelling (GitHub keeps topics in lowercase)"
        : "the property's name and value (values compare exactly, letter case included)";
    return `Warning: found no ${label}${leftOut}. Check ${check}, and that the token can see the organization's repositories (a fine-grained token or a GitHub App installation sees only the repositories it was given). The run goes on without them.`;
  }
  const already = covered === 0 ? "" : `, ${covered.toLocaleString("en-US")} of them listed by name already`;
  const names = repositories.map(({ name }) => targetLabel(selectedTarget(selection, name)));
  return `${label[0]?.toUpperCase()}${label.slice(1)}: ${repositories.length.toLocaleString("en-US")} (${nameSome(names)})${already}${leftOut}.`;
}

function changesNote(changes: SelectionChanges): string {
  if (changes.since === undefined) {
    return "Selected repositories changed since the last run: not known yet (the next rotation records the set; the runs after it name what changed).";
  }
  const parts: string[] = [];
  if (changes.added.length > 0) {
    parts.push(
      `added ${nameSome(changes.added.map(targetLabel))} (${changes.added.length.toLocaleString("en-US")})`,
    );
  }
  if (changes.removed.length > 0) {
    parts.push(
      `no longer selected ${nameSome(changes.removed.map(targetLabel))} (${changes.removed.length.toLocaleString("en-US")}; they keep the key they hold until it is retired)`,
    );
  }
  if (changes.renamed.length > 0) {
    parts.push(
      `renamed ${nameSome(changes.renamed.map(({ from, to }) => `${targetLabel(from)} → ${to.name}`))}`,
    );
  }
  if (changes.replaced.length > 0) {
    parts.push(
      `a different repository under the same name ${nameSome(changes.replaced.map(targetLabel))} (GitHub's ID changed)`,
    );
  }
  return `Selected repositories changed since the last run (${changes.since}): ${parts.length === 0 ? "none" : parts.join("; ")}.`;
}

function count(n: number, one: string, many: string): string {
  return `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;
}

/** "a, b, c and 9,997 more". */
function nameSome(labels: readonly string[]): string {
  const more = labels.length - SHOWN;
  const shown = labels.slice(0, SHOWN).join(", ");
  return more > 0 ? `${shown} and ${more.toLocaleString("en-US")} more` : shown;
}

/**
 * The summary line of a rotation under way that keeps the set its selections found when it began (`at`): what
 * changed on GitHub since is the next rotation's.
 */
export function keptSetNote(at: string): string {
  return `Selected repositories: the set found when this rotation began (${at}); repositories that gained or lost the topic or property since are the next rotation's.`;
}

/**
 * Alerts for the stack's topic about what the selections of the list at `location` changed since the last
 * rotation: repositories that now receive the key without anyone editing the list (they gained a topic or a
 * property value), and selected names that are another repository now. Empty when nothing was added.
 */
export function selectionAlerts(changes: SelectionChanges, location: string): string[] {
  if (changes.since === undefined) return [];
  const alerts: string[] = [];
  if (changes.added.length > 0) {
    alerts.push(
      `The selections of the repository list ${location} found ${count(changes.added.length, "repository", "repositories")} that they did not find at the last rotation (${changes.since}): ${nameSome(changes.added.map(targetLabel))}. They receive the key from this rotation on. If nobody you know gave them the topic or property value, someone who can edit a repository's topics or properties brought it into the list.`,
    );
  }
  if (changes.replaced.length > 0) {
    alerts.push(
      `The selections of the repository list ${location} found ${nameSome(changes.replaced.map(targetLabel))} under a name a different repository had at the last rotation (${changes.since}; GitHub's ID changed): the one there now has the topic or property value, so it receives the key. If nobody you know deleted and re-created it, someone may have taken over the name.`,
    );
  }
  return alerts;
}
