/**
 * The summary line that says where the key goes: every rotation names the GitHub API it talks to, so a summary
 * shows at a glance whether the key went to github.com or to another server.
 */
export function githubApiNote(apiUrl: string): string {
  return `GitHub API: ${apiUrl}.`;
}
