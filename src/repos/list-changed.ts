import { ALLOWED_OWNERS_PARAMETER, type OwnerAllowList } from "../config/owner-allow-list.ts";
import { parseReposConfig } from "../config/repos-config.ts";
import { nameRepos, type RepoRef, repoSlug } from "../domain/repo.ts";
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
 * Announces a change of the repository list on the stack's alert topic: which repositories it added and removed,
 * compared with the version before it (the bucket is versioned), and which of them pAllowedGitHubOwners does not
 * allow. Every change of the list reaches someone, whoever made it and however (an upload, the runbooks, the
 * function). A change that adds and removes nothing (the same list uploaded again) is not announced. Reads only.
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
    const now = reposOf(found.version, history.location);
    const before = found.previous === undefined ? { repos: [] } : reposOf(found.previous, history.location);
    const added = difference(now.repos, before.repos);
    const removed = difference(before.repos, now.repos);
    const foreign = allowedOwners.foreign(added);
    for (const repo of added) {
      report.repo({
        repo: `${repo.owner}/${repo.name}`,
        result: allowedOwners.allows(repo.owner) ? "listed" : "failed",
        detail: allowedOwners.allows(repo.owner)
          ? "added"
          : `added; its owner is not in ${ALLOWED_OWNERS_PARAMETER}`,
      });
    }
    const what = describeChange(history.location, change, found.version.versionId);
    if (now.problem === undefined && added.length === 0 && removed.length === 0) {
      return report.finish("Succeeded", `${what}: no repository added or removed; nothing to announce.`);
    }
    const lines = [`${what}.`];
    if (now.problem === undefined) {
      lines.push(
        `Added (${added.length}): ${added.length === 0 ? "none" : nameRepos(added, 50)}.`,
        `Removed (${removed.length}): ${removed.length === 0 ? "none" : nameRepos(removed, 50)}.`,
      );
    }
    if (foreign.length > 0) {
      lines.push(
        `Refused: ${nameRepos(foreign, 50)} — ${foreign.length === 1 ? "its owner is" : "their owners are"} not in ${ALLOWED_OWNERS_PARAMETER} (${allowedOwners.describe()}). No rotation runs while the list names ${foreign.length === 1 ? "it" : "them"}: remove ${foreign.length === 1 ? "it" : "them"} (Delete-RepoConfig). If nobody you know added ${foreign.length === 1 ? "it" : "them"}, someone who can write the list tried to send the CI key to a GitHub account you do not control.`,
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

/** The repositories of a version (none for a deleted one); an unreadable version counts as none, with why. */
function reposOf(version: ConfigVersion, location: string): { repos: readonly RepoRef[]; problem?: string } {
  if (version.text === undefined) return { repos: [] };
  try {
    return { repos: parseReposConfig(version.text, `${location} (version ${version.versionId})`).repos };
  } catch (error) {
    return { repos: [], problem: toAkmError(error, "Reading the list").message };
  }
}

function difference(from: readonly RepoRef[], without: readonly RepoRef[]): RepoRef[] {
  const gone = new Set(without.map(repoSlug));
  return from.filter((repo) => !gone.has(repoSlug(repo)));
}
