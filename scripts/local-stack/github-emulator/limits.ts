/**
 * Rate-limit emulation: the primary limit headers every response carries, plus optional enforcement of
 * GitHub's secondary limits (writes per minute, concurrent requests) for benchmarks.
 * https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api
 */

/** Limits to enforce; all optional, none enforced by default. */
export interface EmulatorLimits {
  /** Content-creating requests (POST/PUT/PATCH/DELETE) allowed per (emulated) minute, per token. */
  readonly writesPerMinute?: number;
  /** Requests allowed in flight at once (all tokens together). */
  readonly maxConcurrent?: number;
  /** Primary limit per token per (emulated) hour; headers report 5000 when unset and nothing is enforced. */
  readonly requestsPerHour?: number;
  /**
   * Emulated seconds per real second (default 1): with 60, a "minute" window lasts one real second. Headers
   * (`retry-after`, `x-ratelimit-reset`) are in real time, so a client that honours them waits the right amount.
   */
  readonly timeScale?: number;
}

/** A rejection decided by the limiter: GitHub's answer and the headers that go with it. */
export interface LimitRejection {
  readonly kind: "secondary" | "primary";
  readonly message: string;
  readonly headers: Readonly<Record<string, string>>;
}

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;
const DEFAULT_PRIMARY_LIMIT = 5_000;
/** Unauthenticated requests get GitHub's per-IP limit. */
const ANONYMOUS_PRIMARY_LIMIT = 60;
const WRITE_METHODS: ReadonlySet<string> = new Set(["POST", "PUT", "PATCH", "DELETE"]);

const SECONDARY_MESSAGE =
  "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID.";

interface PrimaryWindow {
  startedAt: number;
  used: number;
}

function validateLimits(limits: EmulatorLimits): void {
  for (const [name, value] of Object.entries(limits)) {
    if (value !== undefined && !(typeof value === "number" && value > 0)) {
      throw new Error(`github-emulator: limits.${name} must be a positive number, got ${String(value)}`);
    }
  }
}

/** Tracks request counts and decides rejections; time comes from the injected clock. */
export class RateLimiter {
  readonly #limits: EmulatorLimits;
  readonly #scale: number;
  readonly #primary = new Map<string, PrimaryWindow>();
  readonly #writes = new Map<string, number[]>();
  #rejections = 0;

  constructor(
    limits: EmulatorLimits,
    private readonly now: () => number,
  ) {
    validateLimits(limits);
    this.#limits = limits;
    this.#scale = limits.timeScale ?? 1;
  }

  /** How many requests the limits rejected since the last reset. */
  get rejections(): number {
    return this.#rejections;
  }

  reset(): void {
    this.#primary.clear();
    this.#writes.clear();
    this.#rejections = 0;
  }

  /**
   * Decides whether a request may proceed. `caller` identifies the token (undefined: anonymous);
   * `inFlight` counts requests in progress including this one. Accepted requests are counted.
   */
  admit(method: string, caller: string | undefined, inFlight: number): LimitRejection | undefined {
    const now = this.now();
    const window = this.#primaryWindow(caller, now);
    const limit = this.#primaryLimit(caller);
    if (this.#limits.requestsPerHour !== undefined && window.used >= limit) {
      this.#rejections++;
      return {
        kind: "primary",
        message: `API rate limit exceeded for ${caller === undefined ? "this IP" : `user ${caller}`}. If you reach out to GitHub Support for help, please include the request ID.`,
        headers: this.headers(caller),
      };
    }
    const maxConcurrent = this.#limits.maxConcurrent;
    if (maxConcurrent !== undefined && inFlight > maxConcurrent) {
      return this.#secondary(1_000);
    }
    const perMinute = this.#limits.writesPerMinute;
    if (perMinute !== undefined && WRITE_METHODS.has(method)) {
      const windowMs = MINUTE_MS / this.#scale;
      const key = caller ?? "";
      const recent = (this.#writes.get(key) ?? []).filter((at) => now - at < windowMs);
      this.#writes.set(key, recent);
      const oldest = recent[0];
      if (recent.length >= perMinute && oldest !== undefined) {
        return this.#secondary(oldest + windowMs - now);
      }
      recent.push(now);
    }
    window.used++;
    return undefined;
  }

  /** The `x-ratelimit-*` headers for a caller, as GitHub sends them on every response. */
  headers(caller: string | undefined): Record<string, string> {
    const window = this.#primaryWindow(caller, this.now());
    const limit = this.#primaryLimit(caller);
    return {
      "x-ratelimit-limit": String(limit),
      "x-ratelimit-remaining": String(Math.max(0, limit - window.used)),
      "x-ratelimit-reset": String(Math.ceil((window.startedAt + HOUR_MS / this.#scale) / 1000)),
      "x-ratelimit-used": String(window.used),
      "x-ratelimit-resource": "core",
    };
  }

  #secondary(waitMs: number): LimitRejection {
    this.#rejections++;
    return {
      kind: "secondary",
      message: SECONDARY_MESSAGE,
      headers: { "retry-after": String(Math.max(1, Math.ceil(waitMs / 1000))) },
    };
  }

  #primaryLimit(caller: string | undefined): number {
    if (caller === undefined) return ANONYMOUS_PRIMARY_LIMIT;
    return this.#limits.requestsPerHour ?? DEFAULT_PRIMARY_LIMIT;
  }

  #primaryWindow(caller: string | undefined, now: number): PrimaryWindow {
    const key = caller ?? "";
    let window = this.#primary.get(key);
    if (window === undefined || now - window.startedAt >= HOUR_MS / this.#scale) {
      window = { startedAt: now, used: 0 };
      this.#primary.set(key, window);
    }
    return window;
  }
}
