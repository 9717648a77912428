/**
 * GitHub answered a request with a redirect (3xx), which this tool never follows. GitHub redirects a renamed or
 * transferred repository's old name to its new location — 301 for GET, 307 for other methods, with `Location`
 * `…/repositories/{id}` — and a server may redirect anywhere, another origin or plain http included. Following
 * would send the token, and for a write the sealed key, somewhere the list does not name.
 * https://developer.github.com/changes/2015-04-17-preview-repository-redirects/
 * https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api#follow-redirects
 *
 * Shaped like Octokit's RequestError (`status`, `response.headers`, `response.data`), so the error mapping in
 * to-github-access-error.ts reads it like any other answer; it carries no request (and so no token).
 */
export class GitHubRedirect extends Error {
  readonly status: number;
  readonly response: { readonly headers: Record<string, unknown>; readonly data: unknown };

  constructor(status: number, headers: Record<string, unknown>, data: unknown) {
    super(`GitHub answered ${status} (a redirect, not followed)`);
    this.name = "GitHubRedirect";
    this.status = status;
    this.response = { headers, data };
  }
}

/** Whether an HTTP status is a redirect (3xx other than 304 Not Modified, which Octokit reports itself). */
export function isRedirectStatus(status: number): boolean {
  return status >= 300 && status < 400 && status !== 304;
}

/**
 * The repository ID a redirect's `Location` names (`https://api.github.com/repositories/42` → 42), or undefined
 * when it names something else.
 */
export function redirectRepositoryId(location: unknown): number | undefined {
  if (typeof location !== "string" || !URL.canParse(location)) return undefined;
  const match = /\/repositories\/(\d+)(?:\/|$)/.exec(new URL(location).pathname);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}
