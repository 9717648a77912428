/**
 * What GitHub's rules allow at best, computed independently of the code under test: the earliest time the last
 * of a rotation's writes can start when every write goes as soon as the rules let it, plus one round trip.
 */

export interface WriteRules {
  /** Average pace: a token bucket refilling one write per `intervalMs`, holding `burst` (0: no pace rule). */
  readonly intervalMs: number;
  readonly burst: number;
  readonly windows: readonly { readonly limit: number; readonly periodMs: number }[];
}

/** GitHub's published limits that its servers enforce: 80 content-creating requests a minute, 500 an hour. */
export const ENFORCED_RULES: WriteRules = {
  intervalMs: 0,
  burst: 1,
  windows: [
    { limit: 80, periodMs: 60_000 },
    { limit: 500, periodMs: 3_600_000 },
  ],
};

/**
 * The enforced limits plus GitHub's best practice for mutative requests ("wait at least one second between each
 * request"), kept on average — one write a second, a repository's two writes back to back.
 */
export const GITHUB_RULES: WriteRules = { ...ENFORCED_RULES, intervalMs: 1_000, burst: 2 };

/** Start times (ms from 0) of `writes` writes made as early as `rules` allow. */
export function earliestSchedule(writes: number, rules: WriteRules): number[] {
  const times: number[] = [];
  let tokens = rules.burst;
  let refilledAt = 0;
  let at = 0;
  for (let i = 0; i < writes; i++) {
    if (rules.intervalMs > 0) {
      tokens = Math.min(rules.burst, tokens + (at - refilledAt) / rules.intervalMs);
      refilledAt = at;
      if (tokens < 1) {
        at += (1 - tokens) * rules.intervalMs;
        tokens = 1;
        refilledAt = at;
      }
    }
    for (const window of rules.windows) {
      // `times` ascends: the writes inside the window (at − period, at] are the ones after the first index past it.
      const inside = times.length - firstAfter(times, at - window.periodMs);
      if (inside >= window.limit) {
        at = Math.max(at, (times[times.length - window.limit] as number) + window.periodMs);
      }
    }
    if (rules.intervalMs > 0) {
      tokens = Math.min(rules.burst, tokens + (at - refilledAt) / rules.intervalMs) - 1;
      refilledAt = at;
    }
    times.push(at);
  }
  return times;
}

/** Index of the first element of the ascending `times` greater than `value`. */
function firstAfter(times: readonly number[], value: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((times[mid] as number) <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * GitHub's rules without the hourly limit: the time a rotation spends writing. The waits for the hourly limit are
 * the runbook's aws:sleep steps, which the bench skips (bench/lib/ours.ts), so the time scale is chosen from this.
 */
export const PACE_RULES: WriteRules = {
  ...GITHUB_RULES,
  windows: GITHUB_RULES.windows.filter((w) => w.periodMs < 3_600_000),
};

/** Lower bound (seconds) for a rotation of `repos` repositories: two writes each, the last one's round trip. */
export function lowerBoundSeconds(repos: number, rules: WriteRules, latencyMs: number): number {
  const times = earliestSchedule(2 * repos, rules);
  return ((times.at(-1) ?? 0) + latencyMs) / 1000;
}

/** The most accepted writes within any window of `periodMs` (a window is (t − period, t]). */
export function peakInWindow(times: readonly number[], periodMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  let first = 0;
  for (let last = 0; last < sorted.length; last++) {
    while ((sorted[first] as number) <= (sorted[last] as number) - periodMs) first++;
    most = Math.max(most, last - first + 1);
  }
  return most;
}

/** Writes beyond `limit` in a sliding window (the ones GitHub would have refused). */
export function excessInWindow(times: readonly number[], limit: number, periodMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let excess = 0;
  let first = 0;
  for (let last = 0; last < sorted.length; last++) {
    while ((sorted[first] as number) <= (sorted[last] as number) - periodMs) first++;
    if (last - first + 1 > limit) excess++;
  }
  return excess;
}

/**
 * GitHub's limits on reads (a GET costs one point): at most 100 requests in flight (each lasting one round trip of
 * `latencyMs`), 900 points a minute per REST endpoint, and — with `hourly` — a personal token's primary limit of
 * 5,000 requests an hour. https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api
 */
export function readRules(latencyMs: number, options: { readonly hourly?: boolean } = {}): WriteRules {
  const windows = [
    { limit: 100, periodMs: Math.max(1, latencyMs) },
    { limit: 900, periodMs: 60_000 },
    ...(options.hourly === false ? [] : [{ limit: 5_000, periodMs: 3_600_000 }]),
  ];
  return { intervalMs: 0, burst: 1, windows };
}

/** What a rotation must send GitHub, whatever the code: see `layoutLowerBoundSeconds`. */
export interface RequiredRequests {
  /** Secret writes (PUTs): two per place the key is written to. */
  readonly writes: number;
  /**
   * Repository names an organization secret selects, resolved to their IDs before that secret's write: GitHub lists
   * an organization's repositories 100 a page (https://docs.github.com/en/rest/repos/repos#list-organization-repositories),
   * so they cost one read per 100 (`resolutionReads`).
   */
  readonly selectedRepositories: number;
  /**
   * Reads the shadowing check needs before a key is created (issue 10: every repository whose jobs read the key is
   * looked at for a copy at a more specific scope): one for a repository's environments, one per environment's
   * secrets, and, for a repository that reads an organization secret, one for its own secrets. GitHub has no
   * organization-wide listing of these. Left out: none.
   */
  readonly shadowReads?: number;
}

/** GitHub's largest page (`per_page` at most 100). */
export const PAGE_SIZE = 100;

/** Reads that resolve `selected` repository names to IDs: one page of the organization's repositories per 100. */
export function resolutionReads(selected: number): number {
  return Math.ceil(selected / PAGE_SIZE);
}

/**
 * Lower bound (seconds) for a rotation that sends `required`: the reads that must precede the key (the selected
 * repositories' IDs, 100 a page, and the shadowing check's reads) made as early as `reads` allow, then every write
 * made as early as `writeRules` allow, plus the last one's round trip. With no such read it is `lowerBoundSeconds`
 * of `writes / 2` repositories.
 */
export function layoutLowerBoundSeconds(
  required: RequiredRequests,
  writeRules: WriteRules,
  reads: WriteRules,
  latencyMs: number,
): number {
  const before = resolutionReads(required.selectedRepositories) + (required.shadowReads ?? 0);
  const readsDone = before > 0 ? (earliestSchedule(before, reads).at(-1) ?? 0) + latencyMs : 0;
  const writesDone =
    required.writes > 0 ? (earliestSchedule(required.writes, writeRules).at(-1) ?? 0) + latencyMs : 0;
  return (readsDone + writesDone) / 1000;
}

/** A request as the access log has it, for the per-endpoint limit. */
export interface LoggedRequest {
  readonly method: string;
  /** The endpoint: the OpenAPI path template (undefined: not an API path; not counted). */
  readonly route: string | undefined;
  readonly startedAt: number;
}

/** Points a REST request costs against the per-endpoint limit: GET, HEAD and OPTIONS 1, other methods 5. */
export function requestPoints(method: string): number {
  return ["GET", "HEAD", "OPTIONS"].includes(method.toUpperCase()) ? 1 : 5;
}

/** GitHub's secondary limit per REST endpoint: 900 points a minute (see `readRules` for the page). */
export const ENDPOINT_POINTS_PER_MINUTE = 900;

/**
 * The most points sent to one endpoint (method and path template) within a minute, and the requests beyond the
 * 900 points GitHub allows there (the ones it would have refused).
 */
export function endpointMinutePeak(requests: readonly LoggedRequest[]): {
  peakPoints: number;
  excess: number;
} {
  const byEndpoint = new Map<string, number[]>();
  for (const request of requests) {
    if (request.route === undefined) continue;
    const key = `${request.method.toUpperCase()} ${request.route}`;
    const times = byEndpoint.get(key) ?? [];
    times.push(request.startedAt);
    byEndpoint.set(key, times);
  }
  let peakPoints = 0;
  let excess = 0;
  for (const [key, times] of byEndpoint) {
    const points = requestPoints(key.split(" ")[0] ?? "GET");
    peakPoints = Math.max(peakPoints, points * peakInWindow(times, 60_000));
    excess += excessInWindow(times, Math.floor(ENDPOINT_POINTS_PER_MINUTE / points), 60_000);
  }
  return { peakPoints, excess };
}
