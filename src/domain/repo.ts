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
