/** A GitHub repository whose Actions secrets receive the key. */
export interface RepoRef {
  readonly owner: string;
  readonly name: string;
}

/** `owner/name`, lower-cased: GitHub treats owner and repository names case-insensitively. */
export function repoSlug(repo: RepoRef): string {
  return `${repo.owner}/${repo.name}`.toLowerCase();
}

/** `owner/name` as the user wrote it, for messages. */
export function repoLabel(repo: RepoRef): string {
  return `${repo.owner}/${repo.name}`;
}

/**
 * Names repositories for a message, at most `max` of them: "a/b, a/c and 9,998 more" — messages stay short
 * at any list size.
 */
export function nameRepos(repos: readonly RepoRef[], max = 10): string {
  const shown = repos.slice(0, max).map(repoLabel).join(", ");
  const more = repos.length - max;
  return more > 0 ? `${shown} and ${more.toLocaleString("en-US")} more` : shown;
}
