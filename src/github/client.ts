import { setTimeout as delay } from "node:timers/promises";
import { createAppAuth } from "@octokit/auth-app";
import { Octokit } from "@octokit/core";
import { retry } from "@octokit/plugin-retry";
import { type ThrottlingOptions, throttling } from "@octokit/plugin-throttling";
import type { SecretValue } from "../domain/secret-value.ts";
import { systemClock } from "../ports.ts";
import { type GitHubLog, type OctokitLog, octokitLog } from "./github-log.ts";
import { offOriginRequest } from "./github-origin.ts";
import { GitHubRedirect, isRedirectStatus } from "./github-redirect.ts";
import { type InstallationTokenSource, installationTokenAuth } from "./installation-token-auth.ts";
import { tlsCertificateFault } from "./tls-certificate-fault.ts";
import { GITHUB_WRITE_LIMITS, type WriteLimits, WritePacer } from "./write-pacer.ts";

/**
 * How a client authenticates. Every credential goes in `Authorization` only; never logged (Octokit's errors redact
 * it, our log never sees headers).
 */
export type GitHubClientAuth =
  /** A personal access token. */
  | { readonly token: SecretValue }
  /** A GitHub App installation token, asked for at each request (src/github/installation-token-auth.ts). */
  | { readonly installationToken: InstallationTokenSource }
  /**
   * The GitHub App itself, with @octokit/auth-app: a JWT on the App's own endpoints (GET /app, the installation
   * lookups, minting installation tokens through `client.auth({ type: "installation", ... })`).
   */
  | { readonly app: GitHubAppAuth };

/** What @octokit/auth-app needs to sign JWTs and keep installation tokens (src/github/app-connection.ts). */
export interface GitHubAppAuth {
  readonly appId: string;
  /** Signs a JWT for the App (at an injected clock's time; `timeDifference` seconds added after a skew answer). */
  readonly createJwt: (
    appId: string | number,
    timeDifference?: number,
  ) => Promise<{ readonly jwt: string; readonly expiresAt: string }>;
  /** Where minted installation tokens are kept until they near their expiry. */
  readonly cache: {
    get(key: string): string | undefined;
    set(key: string, value: string): void;
  };
}

export type GitHubClientOptions = GitHubClientSettings & GitHubClientAuth;

export interface GitHubClientSettings {
  /** REST API root: `https://api.github.com`, or `https://HOST/api/v3` for GitHub Enterprise Server. */
  readonly baseUrl: string;
  /** GitHub asks every client to identify itself in `User-Agent`. */
  readonly userAgent: string;
  /** Retries of a request after a 5xx answer, a dropped connection or a timeout (backoff 1, 4, 9 s, ...). */
  readonly retries?: number;
  /** Retries of a request after GitHub's primary or secondary rate limit stopped it. */
  readonly rateLimitRetries?: number;
  /**
   * Seconds this client may spend, in total, waiting out rate limits. A request whose wait would
   * exceed what is left fails at once (as a transient error) instead of running the Lambda into its
   * timeout; the next run resumes. Create one client per run.
   */
  readonly rateLimitWaitBudgetSeconds?: number;
  /** Each attempt is aborted after this long, so a hung connection fails (and is retried). */
  readonly requestTimeoutMs?: number;
  /** Milliseconds that one second of waiting lasts. Tests shrink it; every wait scales with it. */
  readonly secondMs?: number;
  /** Receives retries and waits as text. Silent when omitted (Octokit would print to the console). */
  readonly log?: GitHubLog;
  /**
   * Paces every write (see WritePacer). Share one with the rotation so it can plan around GitHub's write
   * budget; by default the client makes its own with GitHub's limits (scaled by `secondMs`).
   */
  readonly writePacer?: WritePacer;
}

type Tunables = Required<Omit<GitHubClientSettings, "baseUrl" | "userAgent" | "log" | "writePacer">>;

export const GITHUB_CLIENT_DEFAULTS = {
  // plugin-retry's own default: waits 1 + 4 + 9 s, enough to ride out a deploy blip.
  retries: 3,
  rateLimitRetries: 3,
  // The Lambda has 300 s; keep most of it for the rotation itself.
  rateLimitWaitBudgetSeconds: 120,
  // GitHub aborts API requests that take over 10 s, so 15 s without an answer means a dead connection.
  // https://docs.github.com/en/rest/using-the-rest-api/troubleshooting-the-rest-api#timeouts
  requestTimeoutMs: 15_000,
  secondMs: 1_000,
} as const satisfies Tunables;

/**
 * Without `retry-after`, GitHub says to wait at least a minute after a secondary rate limit.
 * https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#handle-rate-limit-errors-appropriately
 */
const SECONDARY_FALLBACK_SECONDS = 60;
// The REST API version every request asks for. github.com and GHE.com support it; GitHub Enterprise Server versions
// its REST API from 3.9 on ("After a site administrator upgrades your Enterprise Server instance to Enterprise
// Server 3.9 or later, the REST API will be versioned"), and every GHES release since lists 2022-11-28 among its
// supported versions (README, section GitHub Enterprise Server, names the versions tested).
// https://docs.github.com/en/rest/about-the-rest-api/api-versions
// https://docs.github.com/en/enterprise-server@3.17/rest/about-the-rest-api/api-versions
const API_VERSION = "2022-11-28";

/**
 * Registered before plugin-retry, so its error hook sees a failure first: a TLS certificate that cannot be
 * verified is a configuration fault, and retrying it (plugin-retry treats every failed fetch as a 500) would only
 * delay the message by 1 + 4 + 9 s. plugin-retry reads the per-request `request.retries` before it decides.
 * https://github.com/octokit/plugin-retry.js#usage
 */
function noRetryOnCertificateFault(octokit: Octokit): void {
  octokit.hook.error("request", (error, options) => {
    if (tlsCertificateFault(error) !== undefined) options.request = { ...options.request, retries: 0 };
    throw error;
  });
}

const GitHubOctokit = Octokit.plugin(noRetryOnCertificateFault, retry, throttling);

/** Octokit with plugin-retry and plugin-throttling, configured by `createGitHubClient`. */
export type GitHubClient = InstanceType<typeof GitHubOctokit>;

/**
 * A GitHub REST client that follows GitHub's best practices: it waits out primary rate limits until
 * `x-ratelimit-reset`, and secondary ones for `retry-after` (else a minute, doubling on each repeat);
 * retries 5xx answers, dropped connections and timeouts a bounded number of times; never retries
 * other 4xx answers; and paces writes within GitHub's limits for content-creating requests — a second
 * apart on average, 80 a minute, 500 an hour — slowing down after a secondary rate limit (the WritePacer,
 * plugged in as plugin-throttling's write group). It never follows a redirect (see GitHubRedirect): every 3xx
 * answer fails the request, so neither the token nor a sealed key reaches a location the list does not name; nor
 * does it send a request to a URL off the API URL's origin that an answer named (`offOriginRequest`).
 * https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api
 */
export function createGitHubClient(options: GitHubClientOptions): GitHubClient {
  const { baseUrl, userAgent, log: logTo, writePacer } = options;
  const settings: Tunables = {
    retries: options.retries ?? GITHUB_CLIENT_DEFAULTS.retries,
    rateLimitRetries: options.rateLimitRetries ?? GITHUB_CLIENT_DEFAULTS.rateLimitRetries,
    rateLimitWaitBudgetSeconds:
      options.rateLimitWaitBudgetSeconds ?? GITHUB_CLIENT_DEFAULTS.rateLimitWaitBudgetSeconds,
    requestTimeoutMs: options.requestTimeoutMs ?? GITHUB_CLIENT_DEFAULTS.requestTimeoutMs,
    secondMs: options.secondMs ?? GITHUB_CLIENT_DEFAULTS.secondMs,
  };
  const log = octokitLog(logTo);
  const waits = rateLimitWaits(settings, log);
  const pacer =
    writePacer ??
    new WritePacer({
      clock: systemClock,
      limits: scaleLimits(GITHUB_WRITE_LIMITS, settings.secondMs / 1000),
      maxWaitMs: settings.rateLimitWaitBudgetSeconds * settings.secondMs,
    });

  const client = new GitHubOctokit({
    ...octokitAuth(options),
    baseUrl,
    userAgent,
    log,
    request: { fetch: fetchWithTimeout(settings.requestTimeoutMs), log },
    retry: {
      retries: settings.retries,
      retryAfterBaseValue: settings.secondMs,
      // Rate limits (403/429) are plugin-throttling's: it honours retry-after, plugin-retry would not.
      doNotRetry: [400, 401, 403, 404, 410, 422, 429, 451],
    },
    throttle: {
      // Instead of the plugin's default write group (one write a second): the same pace on average, plus
      // GitHub's per-minute and per-hour budgets and back-off. Retried writes wait for their turn here too.
      write: pacer.asThrottleGroup() as unknown as NonNullable<ThrottlingOptions["write"]>,
      retryAfterBaseValue: settings.secondMs,
      fallbackSecondaryRateRetryAfter: SECONDARY_FALLBACK_SECONDS,
      onRateLimit: (retryAfter, request, _octokit, retryCount) =>
        waits.allow("rate limit", retryAfter, 0, request, retryCount),
      onSecondaryRateLimit: async (retryAfter, request, _octokit, retryCount) => {
        // GitHub: "wait for an exponentially increasing amount of time between retries". The plugin
        // waits `retryAfter`; we add the doubling on top when GitHub did not say how long to wait.
        const extra = retryAfter === SECONDARY_FALLBACK_SECONDS ? retryAfter * (2 ** retryCount - 1) : 0;
        // Every write after this one waits too, at a slower pace (adaptive back-off).
        pacer.backOff((retryAfter + extra) * settings.secondMs);
        const allowed = waits.allow("secondary rate limit", retryAfter, extra, request, retryCount);
        if (allowed && extra > 0) await delay(extra * settings.secondMs);
        return allowed;
      },
    },
  });
  client.hook.before("request", (request) => {
    // A URL from an answer (the next page of a listing) is sent only to the API URL's own origin.
    const elsewhere = offOriginRequest(baseUrl, request.url);
    if (elsewhere !== undefined) throw elsewhere;
    request.headers.accept = "application/vnd.github+json";
    request.headers["x-github-api-version"] = API_VERSION;
  });
  // Outermost: GitHub documents 429 (and 403) with `retry-after` as a rate limit even when the message does
  // not say "secondary rate limit", which is all plugin-throttling recognises. Wait as told, with the same
  // retry count, time budget and write back-off as the limits the plugin handles.
  client.hook.wrap("request", async (request, options) => {
    for (let retryCount = 0; ; retryCount++) {
      try {
        const response = await request(options);
        // fetch runs with redirect "manual", so Octokit hands a 3xx back as if it were an answer. Outermost, so
        // neither plugin retries it: a redirect is an answer, not a fault.
        if (isRedirectStatus(response.status)) {
          throw new GitHubRedirect(response.status, response.headers, response.data);
        }
        return response;
      } catch (error) {
        if (error instanceof GitHubRedirect) throw error;
        const retryAfter = unrecognisedRetryAfter(error);
        if (retryAfter === undefined) throw error;
        const label = { method: options.method, url: options.url };
        if (!waits.allow("rate limit (retry-after)", retryAfter, 0, label, retryCount)) throw error;
        pacer.backOff(retryAfter * settings.secondMs);
        await delay(retryAfter * settings.secondMs);
      }
    }
  });
  return client;
}

/** Octokit's `auth`/`authStrategy` options for a client's credential. */
function octokitAuth(auth: GitHubClientAuth): Record<string, unknown> {
  if ("token" in auth) return { auth: auth.token.reveal() };
  if ("installationToken" in auth) {
    return { authStrategy: installationTokenAuth, auth: { source: auth.installationToken } };
  }
  // https://github.com/octokit/auth-app.js#usage-with-octokit: the JWT is signed by `createJwt`, installation
  // tokens are kept in `cache`; its requests (JWT calls included) go through this client, so they share its base
  // URL, TLS trust, retries, throttling and the refusal to follow redirects.
  return {
    authStrategy: createAppAuth,
    auth: { appId: auth.app.appId, createJwt: auth.app.createJwt, cache: auth.app.cache },
  };
}

// How plugin-throttling recognises rate limits; an answer it recognised was already waited for.
const SECONDARY_MESSAGE = /\bsecondary rate\b/i;

/** `retry-after` seconds of a 403/429 that plugin-throttling did not treat as a rate limit, else undefined. */
function unrecognisedRetryAfter(error: unknown): number | undefined {
  const failure = error as {
    status?: number;
    message?: string;
    response?: { headers?: Record<string, string | number | undefined> };
  };
  if (failure.status !== 403 && failure.status !== 429) return undefined;
  const headers = failure.response?.headers ?? {};
  if (String(headers["x-ratelimit-remaining"]) === "0") return undefined;
  if (SECONDARY_MESSAGE.test(failure.message ?? "")) return undefined;
  const seconds = Number(headers["retry-after"]);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}

/** The limits with every duration multiplied by `factor` (tests shrink time with `secondMs`). */
export function scaleLimits(limits: WriteLimits, factor: number): WriteLimits {
  return {
    intervalMs: limits.intervalMs * factor,
    burst: limits.burst,
    windows: limits.windows.map((w) => ({ ...w, periodMs: w.periodMs * factor })),
    marginMs: limits.marginMs * factor,
  };
}

interface RequestLabel {
  readonly method: string;
  readonly url: string;
}

/** Decides whether a rate-limited request may wait and retry, within the count and the time budget. */
function rateLimitWaits(settings: Tunables, log: OctokitLog) {
  let spentSeconds = 0;
  return {
    allow(
      kind: string,
      retryAfter: number,
      extra: number,
      request: RequestLabel,
      retryCount: number,
    ): boolean {
      const wait = retryAfter + extra;
      const what = `GitHub ${kind} on ${request.method} ${request.url}`;
      if (retryCount >= settings.rateLimitRetries) {
        log.warn(`${what}; giving up after ${retryCount} retries.`);
        return false;
      }
      if (spentSeconds + wait > settings.rateLimitWaitBudgetSeconds) {
        log.warn(
          `${what}; giving up: waiting ${wait} s would exceed the ${settings.rateLimitWaitBudgetSeconds} s budget.`,
        );
        return false;
      }
      spentSeconds += wait;
      log.warn(`${what}; retry ${retryCount + 1} of ${settings.rateLimitRetries} in ${wait} s.`);
      return true;
    },
  };
}

/**
 * `fetch` with a fresh timeout per attempt (a single `request.signal` would stay aborted for retries) that never
 * follows a redirect: with `redirect: "manual"` fetch returns the 3xx answer itself (fetch follows redirects by
 * default, to any origin), and the client's outermost hook turns it into a GitHubRedirect.
 * https://developer.mozilla.org/en-US/docs/Web/API/RequestInit#redirect
 */
function fetchWithTimeout(timeoutMs: number): typeof fetch {
  return (input, init) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    return fetch(input, { ...init, redirect: "manual", signal });
  };
}
