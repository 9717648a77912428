import { GitHubAccessError } from "../errors.ts";
import { API_URL_FIX } from "./to-github-access-error.ts";

/** Longest part of a URL quoted in a message. */
const MAX_QUOTED_URL = 200;

/**
 * A request the client was about to send to another server than the API URL: a URL taken from an answer, such as
 * the next page of GitHub's `link` header (https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api),
 * which Octokit (and @octokit/plugin-paginate-rest) would request as given, token and all. GitHub's own links stay
 * on the API URL; one elsewhere means the server (or something between) is not the GitHub the stack names, so the
 * request is not sent: the same rule as for redirects (src/github/github-redirect.ts).
 */
export function offOriginRequest(baseUrl: string, url: string): GitHubAccessError | undefined {
  if (!/^[a-z][a-z0-9+.-]*:/i.test(url)) return undefined;
  const base = new URL(baseUrl);
  let target: URL | undefined;
  try {
    target = new URL(url);
  } catch {
    target = undefined;
  }
  if (target !== undefined && target.origin === base.origin) return undefined;
  const shown = url.length > MAX_QUOTED_URL ? `${url.slice(0, MAX_QUOTED_URL)}...` : url;
  return new GitHubAccessError(
    `GitHub's answer pointed to ${JSON.stringify(shown)}, which is not on the GitHub API URL ${base.origin} (a next page in the link header, for example). The function sends the token nowhere else, so the request was not sent.`,
    {
      fix: `${API_URL_FIX} If the URL is right, a proxy between the function and GitHub rewrites GitHub's links.`,
    },
  );
}
