import { dirname, join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";

const PRELOAD = join(dirname(fileURLToPath(import.meta.url)), "scaled-clock-preload.cjs");

/** Real epoch milliseconds with sub-millisecond precision (the same source the preload uses). */
function realNow(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * The bench's one time-scale knob. Emulated time runs `scale` times faster than real time from a shared anchor;
 * the GitHub emulator, the runbook simulator and the Lambda process (through the preload, see `lambdaEnv`) all
 * read this same clock, so GitHub's windows, retry-after, the client's pacing and the step time budget all shrink
 * by the same factor. With scale 1 everything runs in real time.
 *
 * `skip` moves emulated time on at once: for the runbook's aws:sleep steps, during which nothing runs (no Lambda
 * process is alive, no request is in flight), so waiting them out in real time would measure nothing.
 */
export class ScaledClock {
  readonly scale: number;
  readonly #anchorReal: number;
  readonly #anchor: number;
  #skipped = 0;

  constructor(scale: number) {
    if (!(Number.isFinite(scale) && scale >= 1)) throw new Error(`time scale must be >= 1, got ${scale}`);
    this.scale = scale;
    this.#anchorReal = realNow();
    this.#anchor = Math.floor(this.#anchorReal);
  }

  /** Emulated epoch milliseconds. */
  now(): number {
    return Math.floor(this.#anchor + this.#skipped + (realNow() - this.#anchorReal) * this.scale);
  }

  /** Emulated milliseconds skipped so far (see `skip`). */
  get skippedMs(): number {
    return this.#skipped;
  }

  /**
   * Moves emulated time on by `ms` at once, without waiting: only while nothing else runs on this clock (a Lambda
   * process started before would not see the jump).
   */
  skip(ms: number): void {
    this.#skipped += Math.max(0, ms);
  }

  /** Waits `ms` of emulated time. */
  async sleep(ms: number): Promise<void> {
    await delay(Math.max(0, ms) / this.scale);
  }

  /** Environment for a Lambda process that should live on this clock (bench only; see the preload). */
  lambdaEnv(): Record<string, string> {
    return {
      NODE_OPTIONS: `--require ${PRELOAD}`,
      BENCH_TIME_SCALE: String(this.scale),
      BENCH_ANCHOR_REAL_MS: String(this.#anchorReal),
      BENCH_ANCHOR_MS: String(this.#anchor + this.#skipped),
    };
  }
}
