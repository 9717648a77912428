import {
  entryDetails,
  entryKey,
  entryLabel,
  entryOwner,
  isPlainEntry,
  type ListEntry,
  sameEntry,
} from "../config/list-entry.ts";
import {
  ALLOWED_OWNERS_PARAMETER,
  foreignOwnersError,
  type OwnerAllowList,
} from "../config/owner-allow-list.ts";
import { isRepositoryLike, MAX_REPOS, parseReposEntries, renderReposList } from "../config/repos-config.ts";
import { ConfigError, toAkmError } from "../errors.ts";
import { OutcomeRecorder, type RunOutcome } from "../lifecycle/outcome.ts";
import type { ConfigStore } from "../ports.ts";

/**
 * Get-RepoList: shows every entry of repos.json — repositories, environments, organization secrets, selections and
 * Unmanaged places — with what each says beyond its name. An entry of an owner pAllowedGitHubOwners does not list
 * is shown as failed, and the run ends Failed: no rotation runs while the list names it.
 */
export async function listRepos(store: ConfigStore, allowedOwners: OwnerAllowList): Promise<RunOutcome> {
  const report = new OutcomeRecorder("list-repos", false);
  try {
    const document = await store.read();
    if (!document) {
      throw new ConfigError(
        store.location,
        ["the object does not exist"],
        `Upload repos.json to ${store.location} (format: {"Repos":[{"Owner":"my-org","Name":"my-repo"}]}) or run the Add-RepoConfig runbook.`,
      );
    }
    const entries = parseReposEntries(document.text, store.location);
    for (const entry of entries) {
      const allowed = allowedOwners.allows(entryOwner(entry));
      const details = entryDetails(entry);
      report.repo({
        repo: entryLabel(entry),
        result: allowed ? "listed" : "failed",
        detail: allowed
          ? details
          : `its owner is not in ${ALLOWED_OWNERS_PARAMETER} (${allowedOwners.describe()}): no rotation runs until it is removed`,
      });
    }
    const listed = `${count(entries)} listed in ${store.location}`;
    const foreign = entries.flatMap((entry, index) =>
      allowedOwners.allows(entryOwner(entry)) ? [] : [{ entry, index }],
    );
    if (foreign.length > 0) {
      return report.finish(
        "Failed",
        `${listed}; ${foreign.length} of them belong to owners the stack does not allow:`,
        foreignOwnersError(
          `The repository list ${store.location}`,
          foreign.map(({ entry, index }) => ({
            label: entryLabel(entry),
            owner: entryOwner(entry),
            where: `Repos[${index}]`,
            repository: isRepositoryLike(entry),
          })),
          allowedOwners,
        ),
      );
    }
    return report.finish("Succeeded", `${listed}:`);
  } catch (error) {
    return report.finish("Failed", "Get-RepoList Failed.", toAkmError(error, "Reading the repository list"));
  }
}

/**
 * Add-RepoConfig: appends an entry (a repository, an environment, an organization secret, a selection, an Unmanaged
 * place). Adding one that is already listed as given (names compare case-insensitively, as GitHub compares them) is
 * a successful no-op; one listed with other settings (its visibility, its names, Unmanaged, ...) is updated in place.
 * A missing repos.json is created; an invalid one is left untouched. An entry of an owner `allowedOwners`
 * (pAllowedGitHubOwners) does not list is refused before the list is read, and the refusal is alerted: the runbook
 * and a direct invocation of the function both end here.
 */
export async function addRepo(
  store: ConfigStore,
  entry: ListEntry,
  allowedOwners: OwnerAllowList,
): Promise<RunOutcome> {
  if (!allowedOwners.allows(entryOwner(entry))) {
    const report = new OutcomeRecorder("add-repo", false);
    const refused = foreignOwnersError(
      "Add-RepoConfig",
      [
        {
          label: entryLabel(entry),
          owner: entryOwner(entry),
          where: "GITHUBOWNER",
          repository: isRepositoryLike(entry),
        },
      ],
      allowedOwners,
      false,
    );
    report.alert(refused.alert);
    return report.finish("Failed", `Add-RepoConfig Failed; ${store.location} was not changed.`, refused);
  }
  return editList(store, "add-repo", entry, (entries, index) => {
    const listed = entries[index];
    if (listed === undefined) return { next: [...entries, entry], change: "added" };
    if (sameEntry(listed, entry)) return undefined;
    return { next: entries.map((e, i) => (i === index ? entry : e)), change: "updated" };
  });
}

/**
 * Delete-RepoConfig: removes the entry that names the same place or selection as `entry` (only what names it counts:
 * owner, repository, environment, store, topic or property); removing one that is not listed is a successful no-op.
 */
export async function deleteRepo(store: ConfigStore, entry: ListEntry): Promise<RunOutcome> {
  return editList(store, "delete-repo", entry, (entries, index) =>
    index === -1 ? undefined : { next: entries.filter((_, i) => i !== index), change: "removed" },
  );
}

type Change = "added" | "updated" | "removed";

async function editList(
  store: ConfigStore,
  action: "add-repo" | "delete-repo",
  entry: ListEntry,
  edit: (
    entries: readonly ListEntry[],
    index: number,
  ) => { next: readonly ListEntry[]; change: Change } | undefined,
): Promise<RunOutcome> {
  const report = new OutcomeRecorder(action, false);
  const label = entryLabel(entry);
  const verb = action === "add-repo" ? "Add-RepoConfig" : "Delete-RepoConfig";
  try {
    const document = await store.read();
    // A missing list may be created by Add; an existing one must parse, or it is left exactly as it is.
    const entries = document ? parseReposEntries(document.text, store.location) : [];
    const key = entryKey(entry);
    const edited = edit(
      entries,
      entries.findIndex((e) => entryKey(e) === key),
    );
    if (!edited) {
      return report.finish(
        "Succeeded",
        action === "add-repo"
          ? `${label} is already listed in ${store.location}; nothing changed.`
          : `${label} is not listed in ${store.location}; nothing changed.`,
      );
    }
    const { next, change } = edited;
    const written = next.filter((e) => e.kind === "selection" || !e.unmanaged).length;
    if (written === 0) {
      return report.finish(
        "Failed",
        `${verb} Failed: ${label} is the last ${entries.every(isPlainEntry) ? "repository" : "entry the key is written to"} in ${store.location}; a list without one would make every rotation fail.`,
      );
    }
    if (written > MAX_REPOS) {
      throw new ConfigError(
        store.location,
        [
          `adding ${label} would list ${written} ${next.every(isPlainEntry) ? "repositories" : "places and selections"}, more than the ${MAX_REPOS} one stack rotates`,
        ],
        "Split the repositories over several stacks, each with its own IAM user.",
      );
    }
    const text = renderReposList(next);
    // The list written must be one every reader accepts: read it back before writing it.
    parseReposEntries(text, store.location);
    await store.write(text, document?.version);
    return report.finish("Succeeded", editedHeadline(change, entry, store.location, next));
  } catch (error) {
    return report.finish(
      "Failed",
      `${verb} Failed; ${store.location} was not changed.`,
      toAkmError(error, verb),
    );
  }
}

function editedHeadline(
  change: Change,
  entry: ListEntry,
  location: string,
  next: readonly ListEntry[],
): string {
  const label = entryLabel(entry);
  const details = entryDetails(entry);
  const size = count(next);
  switch (change) {
    case "removed":
      return `Removed ${label} from ${location} (${size}). ${entry.kind === "selection" ? "The secrets of the repositories it selected are" : "Its secrets are"} left as they are.`;
    case "updated":
      return `Updated ${label} in ${location} (${size}): it now reads ${details || "as a repository's Actions secrets under the stack's names"}.${nextRotation(entry)}`;
    case "added":
      return `Added ${label}${details ? ` (${details})` : ""} to ${location} (${size}).${nextRotation(entry)}`;
  }
}

function nextRotation(entry: ListEntry): string {
  if (entry.kind === "target" && entry.unmanaged) return " Rotations leave it alone.";
  return entry.kind === "selection"
    ? " The next rotation writes the key to the repositories it selects."
    : " The next rotation writes the key to it.";
}

/** "3 repositories" for a list the original tool could read, else "5 entries". */
function count(entries: readonly ListEntry[]): string {
  const n = entries.length;
  return entries.every(isPlainEntry)
    ? `${n} repositor${n === 1 ? "y" : "ies"}`
    : `${n} entr${n === 1 ? "y" : "ies"}`;
}
