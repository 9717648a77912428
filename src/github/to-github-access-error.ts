import { SETTINGS_ENV } from "../config/settings.ts";
import { redactSecrets } from "../domain/secret-value.ts";
import { AkmError, GitHubAccessError } from "../errors.ts";

/** One request to GitHub, described for error messages. */
export interface GitHubCall {
  /** What was attempted, e.g. `PUT secret AWS_ACCESS_KEY_ID`. */
  readonly action: string;
  /** `owner/name` as the user wrote it, when the request concerns one repository. */
  readonly repo?: string;
  /** Display name of the Secrets Manager secret that holds the token, named in fixes. */
  readonly tokenSecretName: string;
  /** Fix for a 4xx answer this module has no specific advice for (e.g. a 422 on a write). */
  readonly otherRefusalFix?: string;
}

/** The parts of an Octokit `RequestError` we read. `request` (with its headers) is never touched. */
export interface HttpFailure {
  readonly status: number;
  readonly message: string;
  readonly response?: { readonly headers?: Record<string, unknown>; readonly data?: unknown };
}

const MAX_DETAIL_CHARS = 200;

/** An Octokit request failure (our own errors, which may carry a status too, are not). */
export function isHttpFailure(error: unknown): error is HttpFailure {
  return (
    error instanceof Error &&
    !(error instanceof AkmError) &&
    typeof (error as { status?: unknown }).status === "number"
  );
}

export function hasStatus(error: unknown, status: number): boolean {
  return isHttpFailure(error) && error.status === status;
}

/**
 * Turns an Octokit failure (after its retries) into a GitHubAccessError that says what was refused,
 * where, and how to fix it. Only the status, GitHub's `message` and the rate-limit headers are read:
 * Octokit errors also carry the request options and headers, which must not reach logs.
 */
export function toGitHubAccessError(error: HttpFailure, call: GitHubCall): GitHubAccessError {
  const where = call.repo === undefined ? "" : ` on ${call.repo}`;
  const repo = call.repo === undefined ? {} : { repo: call.repo };
  if (error.response === undefined) {
    // No answer (connection refused or dropped, timeout): Octokit reports these as status 500.
    return new GitHubAccessError(
      `Could not reach GitHub for ${call.action}${where} (${detail(error.message)}); retries were exhausted.`,
      { ...repo, fault: "transient", fix: TRANSIENT_FIX },
    );
  }
  const base = { status: error.status, ...repo };
  const answer = `${error.status} ${githubMessage(error)}`.trim();
  if (isRateLimited(error)) {
    return new GitHubAccessError(
      `GitHub rate-limited ${call.action}${where} (${answer}) for longer than one run may wait.`,
      { ...base, fault: "transient", fix: TRANSIENT_FIX },
    );
  }
  if (error.status >= 500) {
    return new GitHubAccessError(
      `GitHub failed ${call.action}${where} (${answer}); retries were exhausted.`,
      { ...base, fault: "transient", fix: TRANSIENT_FIX },
    );
  }
  const refused = `GitHub refused ${call.action}${where} (${answer})`;
  switch (error.status) {
    case 401:
      return new GitHubAccessError(`${refused}: the token was rejected.`, {
        ...base,
        fix: rejectedTokenFix(call.tokenSecretName),
      });
    case 403:
      return new GitHubAccessError(`${refused}: the token lacks permission.`, {
        ...base,
        fix: permissionFix(call),
      });
    case 404:
      return call.repo === undefined
        ? new GitHubAccessError(`${refused}: this is not the GitHub REST API.`, { ...base, fix: API_URL_FIX })
        : new GitHubAccessError(`${refused}: the repository does not exist or the token cannot see it.`, {
            ...base,
            fix: `Check Owner and Name of ${call.repo} in repos.json, and grant the token in ${call.tokenSecretName} access to the repository (a fine-grained token must list it under "Repository access").`,
          });
    default:
      return new GitHubAccessError(`${refused}.`, {
        ...base,
        fix: call.otherRefusalFix ?? "Correct what GitHub's answer above names, then run the runbook again.",
      });
  }
}

const TRANSIENT_FIX =
  "Nothing to change if GitHub had a passing outage or rate limit: the next scheduled run resumes where this one stopped. " +
  `If it keeps failing, check https://www.githubstatus.com and that the Lambda can reach the GitHub API URL (${SETTINGS_ENV.githubApiUrl}).`;

export const API_URL_FIX = `Set the GitHub API URL (${SETTINGS_ENV.githubApiUrl}) to https://api.github.com, or to https://HOST/api/v3 for GitHub Enterprise Server.`;

const TOKEN_NEEDS =
  'a fine-grained personal access token needs the repository permission "Secrets: Read and write" on every repository in repos.json; a classic token needs the "repo" scope';

function rejectedTokenFix(tokenSecretName: string): string {
  return `The GitHub token was rejected (expired or revoked). Create a new token (${TOKEN_NEEDS}) and store it in the secret ${tokenSecretName} (Secrets Manager).`;
}

function permissionFix(call: GitHubCall): string {
  const target = call.repo ?? "the repositories";
  return `Give the token in ${call.tokenSecretName} access to ${target}: ${TOKEN_NEEDS}. If the organization enforces SAML single sign-on, also authorize the token for the organization.`;
}

/**
 * Primary limits answer 403/429 with `x-ratelimit-remaining: 0`; secondary limits answer 403/429
 * with a message naming them or with `retry-after` (older answers say "abuse detection").
 * https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-rate-limit
 */
function isRateLimited(error: HttpFailure): boolean {
  if (error.status === 429) return true;
  if (error.status !== 403) return false;
  const headers = error.response?.headers;
  return (
    headers?.["x-ratelimit-remaining"] === "0" ||
    headers?.["retry-after"] !== undefined ||
    /rate limit/i.test(githubMessage(error))
  );
}

/** GitHub's `message` field, or a short text body; never the request. */
function githubMessage(error: HttpFailure): string {
  const data = error.response?.data;
  if (
    typeof data === "object" &&
    data !== null &&
    typeof (data as { message?: unknown }).message === "string"
  ) {
    return detail((data as { message: string }).message);
  }
  // A proxy's HTML error page says nothing useful.
  return typeof data === "string" && !data.trimStart().startsWith("<") ? detail(data) : "";
}

function detail(text: string): string {
  const line = redactSecrets(text).replace(/\s+/g, " ").trim();
  return line.length > MAX_DETAIL_CHARS ? `${line.slice(0, MAX_DETAIL_CHARS)}…` : line;
}
