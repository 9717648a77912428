import type { Clock } from "../ports.ts";

/** A bounded exponential back-off: `attempts` tries, waiting `firstDelayMs`, then doubling up to `maxDelayMs`. */
export interface Backoff {
  /** Tries at most, the first included. */
  readonly attempts: number;
  /** Wait after the first failure, in milliseconds. */
  readonly firstDelayMs: number;
  /** Longest single wait, in milliseconds. */
  readonly maxDelayMs: number;
}

/**
 * For refusals caused by IAM's eventual consistency, which AWS documents without a bound ("Changes that I make
 * are not always immediately visible",
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency):
 * waits of 1 + 2 + 4 + 8 + 15 + 15 + 15 s, about a minute over 8 tries, well inside one runbook step.
 */
export const IAM_PROPAGATION_BACKOFF = {
  attempts: 8,
  firstDelayMs: 1000,
  maxDelayMs: 15_000,
} as const satisfies Backoff;

/** Tried `attempts` times; `lastError` is what the last try threw. */
export class BackoffExhausted extends Error {
  readonly attempts: number;
  readonly lastError: unknown;
  /** Milliseconds from the first try to the end of the last one, by the clock. */
  readonly elapsedMs: number;

  constructor(attempts: number, lastError: unknown, elapsedMs: number) {
    super(`gave up after ${attempts} attempts`, { cause: lastError });
    this.name = "BackoffExhausted";
    this.attempts = attempts;
    this.lastError = lastError;
    this.elapsedMs = elapsedMs;
  }
}

/**
 * Runs `task` until it resolves, waiting (on `clock`) between tries while `retryable(error)` holds. An error that
 * is not retryable is thrown at once, unchanged; when the tries run out, throws BackoffExhausted.
 */
export async function withBackoff<T>(
  clock: Clock,
  backoff: Backoff,
  task: (attempt: number) => Promise<T>,
  retryable: (error: unknown) => boolean,
): Promise<T> {
  const started = clock.now().getTime();
  let delay = backoff.firstDelayMs;
  let lastError: unknown;
  for (let attempt = 1; attempt <= backoff.attempts; attempt++) {
    try {
      return await task(attempt);
    } catch (error) {
      if (!retryable(error)) throw error;
      lastError = error;
    }
    if (attempt < backoff.attempts) {
      await clock.sleep(delay);
      delay = Math.min(delay * 2, backoff.maxDelayMs);
    }
  }
  throw new BackoffExhausted(backoff.attempts, lastError, clock.now().getTime() - started);
}
