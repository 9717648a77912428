import { SETTINGS_ENV } from "../config/settings.ts";
import { redactSecrets } from "../domain/secret-value.ts";
import { AkmError, GitHubAccessError, GitHubRateLimitError } from "../errors.ts";
import type { AccessNeed } from "./access-need.ts";
import { forbiddenReason, ownerOfLabel, ssoUrl, tokenNeeds } from "./forbidden-reason.ts";
import { isRedirectStatus, redirectRepositoryId } from "./github-redirect.ts";
import { type TlsCertificateFault, tlsCertificateFault } from "./tls-certificate-fault.ts";

/** One request to GitHub, described for error messages. */
export interface GitHubCall {
  /** What was attempted, e.g. `PUT secret AWS_ACCESS_KEY_ID`. */
  readonly action: string;
  /**
   * The target as messages name it (`owner/name` as the user wrote it for a repository's Actions secrets; see
   * `targetLabel`), when the request concerns one.
   */
  readonly repo?: string;
  /**
   * What the request reaches: a repository (the default), an environment of one, or an organization; a 404 is
   * explained accordingly.
   */
  readonly scope?: "repository" | "environment" | "organization";
  /** What writing the target needs (role, token permissions), for fixes; a repository's Actions secrets if absent. */
  readonly need?: AccessNeed;
  /** Display name of the Secrets Manager secret that holds the token, named in fixes. */
  readonly tokenSecretName: string;
  /** Fix for a 4xx answer this module has no specific advice for (e.g. a 422 on a write). */
  readonly otherRefusalFix?: string;
  /** Login of the token's owner (the machine user), once known: fixes name the user who needs a role. */
  readonly machineUser?: string;
  /** The GitHub API URL requests go to, for messages about reaching it. */
  readonly apiUrl?: string;
  /** The GitHub App's slug when the run authenticates as an App (installation tokens, no machine user). */
  readonly appSlug?: string;
}

/** The parts of an Octokit `RequestError` we read. `request` (with its headers) is never touched. */
export interface HttpFailure {
  readonly status: number;
  readonly message: string;
  readonly response?: { readonly headers?: Record<string, unknown>; readonly data?: unknown };
  /** Why no answer came (fetch's error, whose own `cause` is the socket's), when none did. */
  readonly cause?: unknown;
}

/** GitHub's message is quoted up to about this many characters (a URL in it is always kept whole). */
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
    const certificate = tlsCertificateFault(error);
    if (certificate !== undefined) return certificateError(certificate, call);
    // No answer (connection refused or dropped, timeout): Octokit reports these as status 500.
    return new GitHubAccessError(
      `Could not reach GitHub for ${call.action}${where} (${detail(error.message)}); retries were exhausted.`,
      { ...repo, fault: "transient", fix: TRANSIENT_FIX },
    );
  }
  if (isRedirectStatus(error.status)) return redirectError(error, call);
  const base = { status: error.status, ...repo };
  const answer = `${error.status} ${githubMessage(error)}`.trim();
  const resetAt = primaryLimitReset(error);
  if (resetAt !== undefined) {
    return new GitHubRateLimitError(
      `GitHub's primary rate limit for the token is used up (${answer}, at ${call.action}${where}); GitHub allows no request before ${resetAt.toISOString()}.`,
      { ...base, resetAt, fix: PRIMARY_LIMIT_FIX },
    );
  }
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
    case 403: {
      const reason = forbiddenReason(
        { message: fullMessage(error), headers: error.response.headers ?? {} },
        {
          repo: call.repo,
          need: call.need,
          machineUser: call.machineUser,
          tokenSecretName: call.tokenSecretName,
        },
      );
      return new GitHubAccessError(`${refused}: ${reason.what}.`, { ...base, fix: reason.fix });
    }
    case 404: {
      if (call.repo === undefined) {
        return new GitHubAccessError(`${refused}: this is not the GitHub REST API.`, {
          ...base,
          fix: API_URL_FIX,
        });
      }
      // A classic token not yet authorized for an organization's SAML SSO may get 404 instead of 403, with the
      // same X-GitHub-SSO link. https://docs.github.com/en/rest/authentication/authenticating-to-the-rest-api
      const sso = ssoUrl(error.response.headers ?? {});
      const ssoFix =
        sso === undefined
          ? ""
          : ` GitHub also says the organization enforces SAML single sign-on: authorize the token for it by opening ${sso} signed in as the machine user (GitHub's link; it expires after an hour).`;
      if (call.appSlug !== undefined) return appNotFoundError(refused, base, call, call.repo, call.appSlug);
      const needs = call.need?.needs(call.machineUser) ?? tokenNeeds(call.repo, call.machineUser);
      if (call.scope === "organization") {
        return new GitHubAccessError(
          `${refused}: the organization does not exist, or the token cannot see its ${call.need?.what ?? "secrets"}.`,
          {
            ...base,
            fix: `Check Owner of ${call.repo} in repos.json (an organization's login), and give the token in ${call.tokenSecretName} what organization secrets need. ${needs}${ssoFix}`,
          },
        );
      }
      if (call.scope === "environment") {
        return new GitHubAccessError(
          `${refused}: the repository or its environment does not exist, or the token cannot see it.`,
          {
            ...base,
            fix: `Check Owner, Name and Environment of ${call.repo} in repos.json, and grant the token in ${call.tokenSecretName} access to the repository. ${needs}${ssoFix}`,
          },
        );
      }
      return new GitHubAccessError(`${refused}: the repository does not exist or the token cannot see it.`, {
        ...base,
        fix: `Check Owner and Name of ${call.repo} in repos.json, and grant the token in ${call.tokenSecretName} access to the repository (a fine-grained token must list it under "Repository access" and have the repository's owner as its resource owner; a classic token needs the "repo" scope for a private repository). ${needs}${ssoFix}`,
      });
    }
    default:
      return new GitHubAccessError(`${refused}.`, {
        ...base,
        fix: call.otherRefusalFix ?? "Correct what GitHub's answer above names, then run the runbook again.",
      });
  }
}

/**
 * A 404 to a GitHub App's installation token. The run found the owner's installation before minting
 * (src/github/app-connection.ts), so the target is missing or outside what the installation reaches: an
 * installation token reaches the repositories its installation was given (all, or selected ones), and an
 * organization's secrets only with the permission the App was granted.
 * https://docs.github.com/en/apps/using-github-apps/reviewing-and-modifying-installed-github-apps
 */
function appNotFoundError(
  refused: string,
  base: { readonly status: number; readonly repo?: string },
  call: GitHubCall,
  repo: string,
  appSlug: string,
): GitHubAccessError {
  const owner = ownerOfLabel(repo);
  const installation = `the GitHub App ${appSlug}'s installation on ${owner}`;
  const configure = `${owner}'s Settings → GitHub Apps → ${appSlug} → Configure`;
  if (call.scope === "organization") {
    return new GitHubAccessError(
      `${refused}: the organization does not exist, or ${installation} cannot see its ${call.need?.what ?? "secrets"}.`,
      {
        ...base,
        fix: `Check Owner of ${repo} in repos.json (an organization's login), and give the GitHub App the organization permissions the entry needs (README, section "GitHub App instead of a machine user"); an owner of ${owner} accepts them at ${configure}.`,
      },
    );
  }
  // README's Troubleshooting quotes the repository sentence whole.
  const message =
    call.scope === "environment"
      ? `${refused}: the repository or its environment does not exist, or the GitHub App ${appSlug}'s installation on ${owner} does not include the repository.`
      : `${refused}: the repository does not exist or the GitHub App ${appSlug}'s installation on ${owner} does not include it.`;
  const check = call.scope === "environment" ? "Owner, Name and Environment" : "Owner and Name";
  return new GitHubAccessError(message, {
    ...base,
    fix: `Check ${check} of ${repo} in repos.json, and add the repository to the App's installation on ${owner} (${configure} → Repository access: All repositories, or select it).`,
  });
}

const TRANSIENT_FIX =
  "Nothing to change if GitHub had a passing outage or rate limit: the next scheduled run resumes where this one stopped. " +
  `If it keeps failing, check https://www.githubstatus.com and that the Lambda can reach the GitHub API URL (${SETTINGS_ENV.githubApiUrl}).`;

const PRIMARY_LIMIT_FIX =
  "Nothing to change: the rotation keeps what it did, the runbook waits until that time and continues. A personal access token may make 5,000 requests an hour (a GitHub App's installation at least as many), shared by every tool that uses it: if it runs out often, give this stack a token or an App of its own.";

export const API_URL_FIX = `Set the GitHub API URL (${SETTINGS_ENV.githubApiUrl}) to https://api.github.com, to https://HOST/api/v3 for GitHub Enterprise Server, or to https://api.SUBDOMAIN.ghe.com for GHE.com.`;

function rejectedTokenFix(tokenSecretName: string): string {
  return `The GitHub token was rejected (expired or revoked). Create a new token and store it in the secret ${tokenSecretName} (Secrets Manager). ${tokenNeeds(undefined, undefined)}`;
}

/** Longest part of a redirect's `Location` quoted in a message. */
const MAX_LOCATION_CHARS = 200;

/**
 * A redirect is never followed (src/github/github-redirect.ts). For a repository, GitHub redirects the old name of
 * a renamed or transferred repository to `…/repositories/{id}`: the list names a repository that is not there any
 * more, and its new name is for the user to confirm. Anything else is a server that answers from another address.
 */
function redirectError(error: HttpFailure, call: GitHubCall): GitHubAccessError {
  const location = error.response?.headers?.location;
  const shown =
    typeof location === "string"
      ? JSON.stringify(
          location.length > MAX_LOCATION_CHARS ? `${location.slice(0, MAX_LOCATION_CHARS)}…` : location,
        ).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)
      : "(no Location)";
  const answered = `GitHub answered ${call.action}${call.repo === undefined ? "" : ` on ${call.repo}`} with ${error.status}, a redirect to ${shown}`;
  const id = redirectRepositoryId(location);
  if (call.repo !== undefined && id !== undefined) {
    return new GitHubAccessError(
      `${call.repo} was renamed or transferred: ${answered}, GitHub's repository ID ${id}. Redirects are never followed, so nothing was sent there. Nothing was changed.`,
      {
        status: error.status,
        repo: call.repo,
        fix: `Moved to repository ID ${id}: update the list. Find its new owner/name on GitHub, check that it is still yours, then replace ${call.repo} in the list (Delete-RepoConfig for ${call.repo}, Add-RepoConfig for the new name) and run Rotate again.`,
      },
    );
  }
  return new GitHubAccessError(
    `${answered}. The function never follows redirects (the token would go along, maybe to another server or over plain http), so the request was not sent there.`,
    {
      status: error.status,
      ...(call.repo === undefined ? {} : { repo: call.repo }),
      fix: `${API_URL_FIX} Use the address the server answers at directly, without a redirect.`,
    },
  );
}

/** The stack parameter that adds CA certificates for GitHub requests (src/config/settings.ts). */
const CA_BUNDLE_PARAMETER = "pGitHubCaBundleKey";

/**
 * A certificate that cannot be verified is a configuration fault: retrying cannot help (the client does not
 * retry it), so the message says so and names the fix for the kind of problem.
 */
function certificateError(certificate: TlsCertificateFault, call: GitHubCall): GitHubAccessError {
  const where = call.repo === undefined ? "" : ` on ${call.repo}`;
  const server = call.apiUrl ?? `the GitHub API URL (${SETTINGS_ENV.githubApiUrl})`;
  const fixes: Record<TlsCertificateFault["problem"], string> = {
    untrusted: `If ${server} is a GitHub Enterprise Server whose certificate comes from your own (private) certificate authority, upload that CA's certificate chain as a PEM file to the stack's repository-list bucket and update the stack with ${CA_BUNDLE_PARAMETER} set to its object key (README, section GitHub Enterprise Server with a private CA). Otherwise check that nothing between the function and GitHub replaces the certificate (a TLS-inspecting proxy).`,
    expired: `The server's certificate is expired or not yet valid: ask the administrators of ${server} to renew it (and check the server's clock).`,
    "wrong-host": `The certificate does not name the host in ${server}: set the GitHub API URL (${SETTINGS_ENV.githubApiUrl}, stack parameter pGitHubApiUrl) to the host name the certificate was issued for.`,
    invalid: `Ask the administrators of ${server} to install a valid certificate; if it is issued by a private certificate authority, also set ${CA_BUNDLE_PARAMETER} (README, section GitHub Enterprise Server with a private CA).`,
  };
  return new GitHubAccessError(
    `Could not verify the TLS certificate of ${server} for ${call.action}${where} (${certificate.code}: ${certificate.reason}). This is a configuration problem, not an outage, so the request was not retried.`,
    {
      ...(call.repo === undefined ? {} : { repo: call.repo }),
      fault: "user",
      fix: fixes[certificate.problem],
    },
  );
}

/**
 * When GitHub's primary rate limit resets, for a 403/429 answer with `x-ratelimit-remaining: 0` and an
 * `x-ratelimit-reset` (UTC epoch seconds); undefined for any other answer. GitHub: "If the x-ratelimit-remaining
 * header is 0, you should not make another request until after the time specified by the x-ratelimit-reset
 * header." https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-rate-limit
 */
export function primaryLimitReset(error: HttpFailure): Date | undefined {
  if (error.status !== 403 && error.status !== 429) return undefined;
  const headers = error.response?.headers;
  if (headers === undefined || String(headers["x-ratelimit-remaining"]) !== "0") return undefined;
  const seconds = Number(headers["x-ratelimit-reset"]);
  return Number.isSafeInteger(seconds) && seconds > 0 ? new Date(seconds * 1000) : undefined;
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

/** GitHub's `message` field whole, or a short text body; never the request. */
function fullMessage(error: HttpFailure): string {
  const data = error.response?.data;
  if (
    typeof data === "object" &&
    data !== null &&
    typeof (data as { message?: unknown }).message === "string"
  ) {
    return (data as { message: string }).message;
  }
  // A proxy's HTML error page says nothing useful.
  return typeof data === "string" && !data.trimStart().startsWith("<") ? data : "";
}

/** GitHub's message, on one line and shortened for the summary. */
function githubMessage(error: HttpFailure): string {
  return detail(fullMessage(error));
}

/**
 * One line, secrets scrubbed, cut after about MAX_DETAIL_CHARS characters at a word boundary. A URL is never cut
 * or dropped: GitHub's messages end with the link that explains the fix, and half a link is worse than none.
 */
export function detail(text: string): string {
  const line = redactSecrets(text).replace(/\s+/g, " ").trim();
  if (line.length <= MAX_DETAIL_CHARS) return line;
  const urls = [...line.matchAll(/https?:\/\/\S+/g)].map((url) => ({
    start: url.index ?? 0,
    end: (url.index ?? 0) + url[0].length,
    text: url[0],
  }));
  const inside = urls.find((url) => url.start < MAX_DETAIL_CHARS && url.end > MAX_DETAIL_CHARS);
  const space = line.lastIndexOf(" ", MAX_DETAIL_CHARS);
  const cut = inside?.end ?? (space > MAX_DETAIL_CHARS / 2 ? space : MAX_DETAIL_CHARS);
  if (cut >= line.length) return line;
  const later = urls.filter((url) => url.start >= cut).map((url) => url.text);
  return `${line.slice(0, cut)}…${later.length === 0 ? "" : ` ${later.join(" ")}`}`;
}
