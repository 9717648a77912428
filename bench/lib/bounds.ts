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
