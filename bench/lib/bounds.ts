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
      const inside = times.filter((t) => t > at - window.periodMs);
      if (inside.length >= window.limit) {
        at = Math.max(at, (inside[inside.length - window.limit] as number) + window.periodMs);
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
  /** Repository names an organization secret selects, each resolved to its ID (one GET) before that secret's write. */
  readonly selectedRepositories: number;
}

/**
 * Lower bound (seconds) for a rotation that sends `required`: the larger of two bounds that both hold —
 * every write made as early as `writeRules` allow, plus the last one's round trip; and every selected repository
 * read as early as `reads` allow, then the organization secret's two writes (back to back), one round trip.
 * With no selected repository it is `lowerBoundSeconds` of `writes / 2` repositories.
 */
export function layoutLowerBoundSeconds(
  required: RequiredRequests,
  writeRules: WriteRules,
  reads: WriteRules,
  latencyMs: number,
): number {
  const writesDone =
    required.writes > 0 ? (earliestSchedule(required.writes, writeRules).at(-1) ?? 0) + latencyMs : 0;
  const idsKnown =
    required.selectedRepositories > 0
      ? (earliestSchedule(required.selectedRepositories, reads).at(-1) ?? 0) + latencyMs
      : undefined;
  const organizationWritten = idsKnown === undefined ? 0 : idsKnown + latencyMs;
  return Math.max(writesDone, organizationWritten) / 1000;
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
