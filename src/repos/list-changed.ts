import {
  entryDetails,
  entryKey,
  entryLabel,
  entryOwner,
  type ListEntry,
  sameEntry,
} from "../config/list-entry.ts";
import { nameLabels } from "../config/message-text.ts";
import { ALLOWED_OWNERS_PARAMETER, type OwnerAllowList } from "../config/owner-allow-list.ts";
import { parseReposEntries } from "../config/repos-config.ts";
import { AkmError, toAkmError } from "../errors.ts";
import { OutcomeRecorder, type RunOutcome } from "../lifecycle/outcome.ts";
import type { ConfigHistory, ConfigVersion } from "../ports.ts";

/** A change of repos.json as S3 reports it to EventBridge ("Object Created" / "Object Deleted"). */
export interface ListChange {
  /** The version the change made (a delete marker for a deletion). */
  readonly versionId: string | undefined;
  readonly deleted: boolean;
  /** When S3 says it happened (ISO 8601). */
  readonly time: string | undefined;
  /** The AWS account or service that made it (S3's `requester`), and from where. */
  readonly requester: string | undefined;
  readonly sourceIp: string | undefined;
  /** S3's `reason` (PutObject, CopyObject, DeleteObject, ...). */
  readonly reason: string | undefined;
}

/**
 * Announces a change of the repository list on the stack's alert topic: which entries (repositories, environments,
 * organization secrets, selections, Unmanaged places) it added, removed and changed (same place, other settings;
 * for an organization secret, its selected repositories added and removed, by name), compared with the version
 * before it (the bucket is versioned), and which of the added ones pAllowedGitHubOwners
 * does not allow. Every change of the list reaches someone, whoever made it and however (an upload, the runbooks,
 * the function). A change that adds, removes and changes nothing (the same list uploaded again) is not announced.
 * Reads only.
 */
export async function announceListChange(
  history: ConfigHistory,
  allowedOwners: OwnerAllowList,
  change: ListChange,
): Promise<RunOutcome> {
  const report = new OutcomeRecorder("list-changed", false);
  try {
    if (change.versionId === undefined) {
      throw new AkmError(`S3 reported a change of ${history.location} without a version ID.`, {
        fix: "Turn versioning back on for the stack's bucket (update the stack from the published template): the list's history and every rotation's comparison need it.",
        fault: "user",
      });
    }
    const found = await history.versionAndPrevious(change.versionId);
    if (found === undefined) {
      throw new AkmError(
        `Version ${change.versionId} of ${history.location} is not in the bucket any more, so its change cannot be told.`,
        {
          fix: "Check the list's versions in the S3 console; run Get-RepoList to see the list now.",
          fault: "user",
        },
      );
    }
    const now = entriesOf(found.version, history.location);
    const before =
      found.previous === undefined ? { entries: [] } : entriesOf(found.previous, history.location);
    const added = difference(now.entries, before.entries);
    const removed = difference(before.entries, now.entries);
    const changed = changedEntries(before.entries, now.entries);
    const foreign = added.filter((entry) => !allowedOwners.allows(entryOwner(entry)));
    for (const entry of added) {
      const allowed = allowedOwners.allows(entryOwner(entry));
      report.repo({
        repo: entryLabel(entry),
        result: allowed ? "listed" : "failed",
        detail: allowed ? "added" : `added; its owner is not in ${ALLOWED_OWNERS_PARAMETER}`,
      });
    }
    const what = describeChange(history.location, change, found.version.versionId);
    if (now.problem === undefined && added.length === 0 && removed.length === 0 && changed.length === 0) {
      return report.finish("Succeeded", `${what}: no repository added or removed; nothing to announce.`);
    }
    const lines = [`${what}.`];
    if (now.problem === undefined) {
      lines.push(
        `Added (${added.length}): ${added.length === 0 ? "none" : named(added)}.`,
        `Removed (${removed.length}): ${removed.length === 0 ? "none" : named(removed)}.`,
      );
      if (changed.length > 0) lines.push(`Changed (${changed.length}): ${namedChanges(changed)}.`);
    }
    if (foreign.length > 0) {
      lines.push(
        `Refused: ${nameLabels(foreign.map(entryLabel), 50)} — ${foreign.length === 1 ? "its owner is" : "their owners are"} not in ${ALLOWED_OWNERS_PARAMETER} (${allowedOwners.describe()}). No rotation runs while the list names ${foreign.length === 1 ? "it" : "them"}: remove ${foreign.length === 1 ? "it" : "them"} (Delete-RepoConfig). If nobody you know added ${foreign.length === 1 ? "it" : "them"}, someone who can write the list tried to send the CI key to a GitHub account you do not control.`,
      );
    }
    if (now.problem !== undefined)
      lines.push(`The list is not valid now: ${now.problem} No rotation runs until it is fixed.`);
    if (change.deleted) lines.push("The list was deleted: no rotation runs until it is uploaded again.");
    report.alert(lines.join("\n"));
    for (const line of lines.slice(1)) report.note(line);
    return report.finish(
      foreign.length > 0 || now.problem !== undefined ? "Failed" : "Succeeded",
      `${what}; announced on the stack's alert topic.`,
    );
  } catch (error) {
    return report.finish(
      "Failed",
      `Could not tell what changed in ${history.location}.`,
      toAkmError(error, "Reading the list's versions"),
    );
  }
}

/** "The repository list s3://… changed (version v, PutObject at T by 123456789012 from 203.0.113.9)". */
function describeChange(location: string, change: ListChange, versionId: string): string {
  const how = [
    change.reason,
    change.time && `at ${change.time}`,
    change.requester && `by ${change.requester}`,
  ]
    .filter(Boolean)
    .join(" ");
  const from = change.sourceIp ? ` from ${change.sourceIp}` : "";
  return `The repository list ${location} ${change.deleted ? "was deleted" : "changed"} (version ${versionId}${how ? `, ${how}` : ""}${from})`;
}

/** The entries of a version (none for a deleted one); an unreadable version counts as none, with why. */
function entriesOf(
  version: ConfigVersion,
  location: string,
): { entries: readonly ListEntry[]; problem?: string } {
  if (version.text === undefined) return { entries: [] };
  try {
    return { entries: parseReposEntries(version.text, `${location} (version ${version.versionId})`) };
  } catch (error) {
    return { entries: [], problem: toAkmError(error, "Reading the list").message };
  }
}

/** The entries of `from` that name a place or selection `without` does not. */
function difference(from: readonly ListEntry[], without: readonly ListEntry[]): ListEntry[] {
  const gone = new Set(without.map(entryKey));
  return from.filter((entry) => !gone.has(entryKey(entry)));
}

/** The entries of `now` that name a place `before` named too, with other settings (visibility, names, ...). */
function changedEntries(
  before: readonly ListEntry[],
  now: readonly ListEntry[],
): { was: ListEntry; entry: ListEntry }[] {
  const earlier = new Map(before.map((entry) => [entryKey(entry), entry]));
  return now.flatMap((entry) => {
    const was = earlier.get(entryKey(entry));
    return was !== undefined && !sameEntry(was, entry) ? [{ was, entry }] : [];
  });
}

/**
 * The changed entries as `named` says them, each organization secret whose selected repositories changed with the
 * names added and removed: the entry's own details show only the first names, and a name added (or removed and
 * added again, which makes the rotation take the repository under it as new: README "Renamed, transferred and
 * re-created repositories") must reach someone however long the entry's list is.
 */
function namedChanges(changes: readonly { was: ListEntry; entry: ListEntry }[]): string {
  return nameLabels(
    changes.map(({ was, entry }) => {
      const details = [entryDetails(entry), selectedDelta(was, entry)].filter(Boolean).join("; ");
      return details ? `${entryLabel(entry)} (${details})` : entryLabel(entry);
    }),
    50,
  );
}

/** `Repositories added (1): web; removed (0): none` between two versions of an entry that both select, else "". */
function selectedDelta(was: ListEntry, entry: ListEntry): string {
  const selected = (e: ListEntry) =>
    e.kind === "target" && e.target.kind === "organization" && e.target.visibility === "selected"
      ? e.target.selectedRepositories
      : undefined;
  const before = selected(was);
  const now = selected(entry);
  if (before === undefined || now === undefined) return "";
  const lower = (names: readonly string[]) => new Set(names.map((name) => name.toLowerCase()));
  const [had, has] = [lower(before), lower(now)];
  const added = now.filter((name) => !had.has(name.toLowerCase()));
  const removed = before.filter((name) => !has.has(name.toLowerCase()));
  if (added.length === 0 && removed.length === 0) return "";
  const say = (names: readonly string[]) =>
    `(${names.length}): ${names.length === 0 ? "none" : nameLabels(names, 50)}`;
  return `Repositories added ${say(added)}; removed ${say(removed)}`;
}

/** At most 50 entries named, each with what it says beyond its name: "organization octo-org (Actions) (visibility all)". */
function named(entries: readonly ListEntry[]): string {
  return nameLabels(
    entries.map((entry) => {
      const details = entryDetails(entry);
      return details ? `${entryLabel(entry)} (${details})` : entryLabel(entry);
    }),
    50,
  );
}
