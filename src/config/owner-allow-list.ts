import { KeyDestinationRefusedError } from "../errors.ts";
import { OWNER_PATTERN } from "./github-login.ts";
import { nameLabels, quote } from "./message-text.ts";

/** The stack parameter that lists the allowed owners, named in every message about them. */
export const ALLOWED_OWNERS_PARAMETER = "pAllowedGitHubOwners";

/**
 * The GitHub owners (users and organizations) whose repositories may receive the key: the stack parameter
 * pAllowedGitHubOwners, wired to the function as a comma-separated environment variable. A repository of any
 * other owner is refused wherever it could enter the list (repos.json, Add-RepoConfig, a direct invocation) and
 * before any rotation changes anything. GitHub compares owner names case-insensitively, and so does this list.
 */
export class OwnerAllowList {
  readonly #owners: ReadonlyMap<string, string>;

  private constructor(owners: readonly string[]) {
    this.#owners = new Map(owners.map((owner) => [owner.toLowerCase(), owner]));
  }

  /**
   * Parses `octo-org,alice_acme` (spaces around commas are ignored). Returns the problem as text instead when
   * the value is empty or an entry is not a GitHub login (OWNER_PATTERN).
   */
  static parse(value: string): OwnerAllowList | { readonly problem: string } {
    const owners = value.split(",").map((owner) => owner.trim());
    if (owners.every((owner) => owner === "")) return { problem: "lists no owner" };
    const invalid = owners.filter((owner) => !OWNER_PATTERN.test(owner));
    if (invalid.length > 0) {
      return {
        problem: `has entries that are not GitHub logins: ${invalid.map((o) => JSON.stringify(o)).join(", ")}`,
      };
    }
    return new OwnerAllowList(owners);
  }

  /** For tests and in-process callers: the list of these owners (each a valid login). */
  static of(...owners: readonly string[]): OwnerAllowList {
    const parsed = OwnerAllowList.parse(owners.join(","));
    if (!(parsed instanceof OwnerAllowList)) throw new Error(`OwnerAllowList.of: ${parsed.problem}`);
    return parsed;
  }

  /** Whether `owner` is listed, ignoring letter case as GitHub does. */
  allows(owner: string): boolean {
    return this.#owners.has(owner.toLowerCase());
  }

  /** The items (repositories, targets, selections: anything with an owner) whose owners are not listed, in order. */
  foreign<T extends { readonly owner: string }>(items: readonly T[]): T[] {
    return items.filter((item) => !this.allows(item.owner));
  }

  /** The owners as the parameter lists them, for messages: `octo-org, alice_acme`. */
  describe(): string {
    return [...this.#owners.values()].join(", ");
  }
}

/**
 * One list entry refused for its owner, and where it was found (`Repos[2]` in repos.json, `GITHUBOWNER`): a
 * repository (its secrets or an environment's: `repository`), an organization secret or a selection.
 */
export interface ForeignEntry {
  /** How messages name it: `evil-corp/app`, `organization evil-corp (Actions)`. */
  readonly label: string;
  readonly owner: string;
  readonly where: string;
  /** One repository's secrets (messages then say "repository"); false for an organization or a selection. */
  readonly repository: boolean;
}

/**
 * The error for entries whose owners `allowed` does not list: names each one and where it came from, says that
 * nothing was changed, and carries the alert for the stack's topic. `source` says where the entries were about to
 * enter: "The repository list s3://…" (`inList`: they are in it) or "Add-RepoConfig" (not `inList`).
 */
export function foreignOwnersError(
  source: string,
  foreign: readonly ForeignEntry[],
  allowed: OwnerAllowList,
  inList = true,
): KeyDestinationRefusedError {
  const count = foreign.length;
  const labels = foreign.map((f) => f.label);
  const repositories = foreign.every((f) => f.repository);
  const what =
    count === 1
      ? repositories
        ? "a repository"
        : "an entry"
      : `${count} ${repositories ? "repositories" : "entries"}`;
  const listed = foreign
    .slice(0, 10)
    .map((f) => `${f.where} ${quote(f.label)} (owner ${quote(f.owner)})`)
    .join(", ");
  const more = count > 10 ? ` and ${count - 10} more` : "";
  const destinations = repositories ? `repositories of ${allowed.describe()}` : allowed.describe();
  return new KeyDestinationRefusedError(
    `${source} names ${what} of ${count === 1 ? "an owner" : "owners"} ${ALLOWED_OWNERS_PARAMETER} does not allow: ${listed}${more}. The key goes only to ${destinations}; nothing was changed.`,
    {
      repos: labels,
      fix: inList
        ? `Remove ${count === 1 ? "it" : "them"} from the list (the Delete-RepoConfig runbook, or edit repos.json). If an owner is yours, add it to the stack parameter ${ALLOWED_OWNERS_PARAMETER} (update the stack) and try again.`
        : `Add only entries of ${allowed.describe()}. If the owner is yours, add it to the stack parameter ${ALLOWED_OWNERS_PARAMETER} (update the stack) and try again.`,
      alert: `${source} names ${nameLabels(labels)}, of ${count === 1 ? "an owner" : "owners"} outside ${ALLOWED_OWNERS_PARAMETER} (${allowed.describe()}). The function refused to send the key there and changed nothing. If nobody you know added ${count === 1 ? "it" : "them"}, someone who can write the list or invoke the function tried to send the CI key to a GitHub account you do not control.`,
    },
  );
}
