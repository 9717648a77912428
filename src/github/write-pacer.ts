import { AkmError } from "../errors.ts";
import type { Clock, WriteBudget } from "../ports.ts";

/** A sliding-window limit: at most `limit` writes in any `periodMs`. */
export interface WriteWindow {
  readonly limit: number;
  readonly periodMs: number;
  /** For messages, e.g. "per hour". */
  readonly label: string;
}

/** What GitHub allows for content-creating requests (POST, PATCH, PUT, DELETE) by one token. */
export interface WriteLimits {
  /** Sustained pace: one write per `intervalMs` on average (a token bucket refilling at that rate). */
  readonly intervalMs: number;
  /** Writes the bucket holds: how many may go back to back after a pause. */
  readonly burst: number;
  /** Hard limits over sliding windows. */
  readonly windows: readonly WriteWindow[];
  /**
   * Every write counts in the windows this much longer than the window lasts: GitHub counts a write when it
   * arrives, which may be later than we sent it by more than the next one's delay (latency varies).
   */
  readonly marginMs: number;
}

/**
 * GitHub's rules for content-creating requests:
 * - "wait at least one second between each request" (best practices) — kept on average: the bucket refills
 *   one write per second and holds two, so a repository's two secrets go back to back (their values disagree
 *   for one round trip instead of a second) and the next repository waits two seconds;
 * - secondary limits: "no more than 80 content-generating requests per minute and no more than 500
 *   content-generating requests per hour".
 * https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api#pause-between-mutative-requests
 * https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits
 */
export const GITHUB_WRITE_LIMITS: WriteLimits = {
  intervalMs: 1_000,
  burst: 2,
  windows: [
    { limit: 80, periodMs: 60_000, label: "per minute" },
    { limit: 500, periodMs: 3_600_000, label: "per hour" },
  ],
  marginMs: 5_000,
};

/** After a secondary rate limit the pace slows down by this factor at most, and recovers write by write. */
const MAX_SLOWDOWN = 8;
const SLOWDOWN_RECOVERY_PER_WRITE = 0.1;

export interface WritePacerOptions {
  readonly clock: Clock;
  readonly limits?: WriteLimits;
  /**
   * A write whose turn is further away than this fails at once (transient) instead of holding the run:
   * the rotation checks `readyAt` before each repository, so only an unexpected wait gets here.
   */
  readonly maxWaitMs?: number;
}

/** The part of plugin-throttling's Bottleneck group it calls for every write: `key(id).schedule(options, fn)`. */
export interface ThrottleGroup {
  key(id?: string): { schedule<R>(options: unknown, task: () => R | PromiseLike<R>): Promise<R> };
}

/** Mutable pacing state, cloned to simulate a schedule without touching the real one. */
interface PaceState {
  tokens: number;
  refilledAt: number;
  slowdown: number;
  blockedUntil: number;
  /** Start times (ms) of writes, ascending, pruned to the longest window. */
  readonly log: number[];
}

/**
 * Paces GitHub writes within GitHub's published limits: a token bucket for the sustained pace, sliding
 * windows for the per-minute and per-hour limits, and adaptive back-off after a secondary rate limit.
 *
 * It is plugged into `@octokit/plugin-throttling` as its `write` group (`throttle.write`), so every
 * write octokit sends — retries included — waits for its turn here; everything else (retry-after handling,
 * the global concurrency group) stays the plugin's. Time comes from the injected clock, so the schedule is
 * testable without sleeping. The hourly window spans Lambda invocations: the rotation saves `recent()` in its
 * state and the next run starts with `remember()`.
 */
export class WritePacer implements WriteBudget {
  readonly #clock: Clock;
  readonly #limits: WriteLimits;
  readonly #maxWaitMs: number;
  readonly #longestPeriod: number;
  readonly #state: PaceState;
  #queue: Promise<void> = Promise.resolve();

  constructor(options: WritePacerOptions) {
    this.#clock = options.clock;
    this.#limits = options.limits ?? GITHUB_WRITE_LIMITS;
    validateLimits(this.#limits);
    this.#maxWaitMs = options.maxWaitMs ?? Number.POSITIVE_INFINITY;
    this.#longestPeriod = Math.max(0, ...this.#limits.windows.map((w) => w.periodMs + this.#limits.marginMs));
    this.#state = {
      tokens: this.#limits.burst,
      refilledAt: this.#now(),
      slowdown: 1,
      blockedUntil: 0,
      log: [],
    };
  }

  get limits(): WriteLimits {
    return this.#limits;
  }

  /** Adds writes made by earlier runs (from the rotation state); the bucket is replayed through them. */
  remember(writes: readonly Date[]): void {
    const state = this.#state;
    const times = [...state.log, ...writes.map((w) => w.getTime())].sort((a, b) => a - b);
    state.log.length = 0;
    state.tokens = this.#limits.burst;
    state.refilledAt = times[0] ?? this.#now();
    for (const at of times) {
      this.#refill(state, at);
      state.tokens = Math.max(0, state.tokens - 1);
      state.log.push(at);
    }
    this.#refill(state, Math.max(this.#now(), state.refilledAt));
    this.#prune(state, this.#now());
  }

  /** Writes started within the longest window (the last hour), oldest first: what the state must keep. */
  recent(): Date[] {
    this.#prune(this.#state, this.#now());
    return this.#state.log.map((at) => new Date(at));
  }

  /** The earliest instant at which `count` writes may start back to back. */
  readyAt(count: number): Date {
    return new Date(this.#earliest(this.#state, Math.min(count, this.#limits.burst), this.#now()));
  }

  /**
   * When the last of `repos` repositories would start being written (`writesEach` writes each, back to
   * back), if every write were made at the earliest moment the limits allow: an ETA that ignores latency.
   */
  finishAt(repos: number, writesEach: number): Date {
    const sim: PaceState = { ...this.#state, log: [...this.#state.log] };
    const count = Math.min(writesEach, this.#limits.burst);
    let at = this.#now();
    for (let i = 0; i < repos; i++) {
      for (let done = 0; done < writesEach; done += count) {
        at = this.#earliest(sim, Math.min(count, writesEach - done), at);
        for (let j = 0; j < Math.min(count, writesEach - done); j++) this.#take(sim, at);
      }
    }
    return new Date(at);
  }

  /** Which window, if any, holds writes back until `readyAt(count)` (for messages). */
  limitingWindow(count: number): WriteWindow | undefined {
    const now = this.#now();
    const at = this.#earliest(this.#state, Math.min(count, this.#limits.burst), now);
    return this.#limits.windows.find((w) => this.#windowReady(this.#state, w, count, now) >= at && at > now);
  }

  /**
   * GitHub answered a secondary rate limit: no write before `retryAfterMs` from now, and a slower pace
   * (halved, down to 1/8) that recovers a little with every write after that.
   */
  backOff(retryAfterMs: number): void {
    const state = this.#state;
    const now = this.#now();
    state.blockedUntil = Math.max(state.blockedUntil, now + retryAfterMs);
    state.slowdown = Math.min(MAX_SLOWDOWN, state.slowdown * 2);
    state.tokens = 0;
    state.refilledAt = Math.max(now, state.blockedUntil);
  }

  /** Waits for the next write's turn and counts it (writes queue in order; they do not overlap here). */
  take(): Promise<void> {
    const turn = this.#queue.then(() => this.#waitAndTake());
    // A refused write must not block the ones after it.
    this.#queue = turn.catch(() => undefined);
    return turn;
  }

  /** This pacer as plugin-throttling's `write` group: each write's `schedule` waits for `take()`. */
  asThrottleGroup(): ThrottleGroup {
    const schedule = async <R>(_options: unknown, task: () => R | PromiseLike<R>): Promise<R> => {
      await this.take();
      return task();
    };
    return { key: () => ({ schedule }) };
  }

  async #waitAndTake(): Promise<void> {
    for (;;) {
      const now = this.#now();
      const at = this.#earliest(this.#state, 1, now);
      if (at <= now) {
        this.#take(this.#state, now);
        return;
      }
      if (at - now > this.#maxWaitMs) {
        const window = this.limitingWindow(1);
        throw new AkmError(
          `GitHub's write budget${window ? ` (${window.limit} writes ${window.label})` : ""} is used up until ${new Date(at).toISOString()}.`,
          {
            fix: "Run Rotate again after that time; it continues where it stopped.",
            fault: "transient",
          },
        );
      }
      await this.#clock.sleep(at - now);
    }
  }

  #now(): number {
    return this.#clock.now().getTime();
  }

  #interval(state: PaceState): number {
    return this.#limits.intervalMs * state.slowdown;
  }

  #refill(state: PaceState, at: number): void {
    if (at <= state.refilledAt) return;
    const interval = this.#interval(state);
    state.tokens =
      interval <= 0
        ? this.#limits.burst
        : Math.min(this.#limits.burst, state.tokens + (at - state.refilledAt) / interval);
    state.refilledAt = at;
  }

  #take(state: PaceState, at: number): void {
    this.#refill(state, at);
    state.tokens = Math.max(0, state.tokens - 1);
    if (at >= state.blockedUntil && state.slowdown > 1) {
      // Recover the pace gradually; the bucket's clock restarts at the new rate.
      state.slowdown = Math.max(1, state.slowdown - SLOWDOWN_RECOVERY_PER_WRITE);
    }
    state.log.push(at);
    this.#prune(state, at);
  }

  #prune(state: PaceState, now: number): void {
    let drop = 0;
    while (drop < state.log.length && (state.log[drop] as number) <= now - this.#longestPeriod) drop++;
    if (drop > 0) state.log.splice(0, drop);
  }

  /** Earliest t ≥ from at which `count` writes fit the bucket, every window and any back-off. */
  #earliest(state: PaceState, count: number, from: number): number {
    let at = Math.max(from, state.blockedUntil);
    // Bucket: tokens grow linearly from refilledAt.
    const interval = this.#interval(state);
    const tokensNow =
      interval <= 0 || at <= state.refilledAt
        ? state.tokens
        : Math.min(this.#limits.burst, state.tokens + (at - state.refilledAt) / interval);
    if (tokensNow < count - 1e-9) at += (count - tokensNow) * interval;
    for (const window of this.#limits.windows) at = Math.max(at, this.#windowReady(state, window, count, at));
    return Math.ceil(at);
  }

  /** Earliest t ≥ from at which the window (t − period, t] holds at most limit − count writes. */
  #windowReady(state: PaceState, window: WriteWindow, count: number, from: number): number {
    const log = state.log;
    const period = window.periodMs + this.#limits.marginMs;
    // Writes still inside the window at `from`: those after from − period.
    const first = firstAfter(log, from - period);
    const inside = log.length - first;
    const mustExpire = inside - (window.limit - count);
    if (mustExpire <= 0) return from;
    // The mustExpire-th oldest write inside leaves the window at its time + period.
    return (log[first + mustExpire - 1] as number) + period;
  }
}

/** Index of the first element of the ascending `log` greater than `value`. */
function firstAfter(log: readonly number[], value: number): number {
  let lo = 0;
  let hi = log.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((log[mid] as number) <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function validateLimits(limits: WriteLimits): void {
  const problems: string[] = [];
  if (!(limits.intervalMs >= 0)) problems.push("intervalMs must be ≥ 0");
  if (!(limits.marginMs >= 0)) problems.push("marginMs must be ≥ 0");
  if (!(Number.isInteger(limits.burst) && limits.burst >= 1)) problems.push("burst must be an integer ≥ 1");
  for (const w of limits.windows) {
    if (!(Number.isInteger(w.limit) && w.limit >= limits.burst))
      problems.push(`window ${w.label}: limit must be an integer ≥ burst`);
    if (!(w.periodMs > 0)) problems.push(`window ${w.label}: periodMs must be > 0`);
  }
  if (problems.length > 0) throw new Error(`WritePacer: invalid limits (${problems.join("; ")}).`);
}
