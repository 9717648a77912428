/**
 * Fault rules: make the emulator misbehave the way GitHub sometimes does (errors, rate limits, slowness,
 * dropped connections) for a chosen number of matching requests.
 */

/**
 * Statuses a fault may answer with; each gets a GitHub-style error body. The redirects (give them a `location`
 * header) stand for a server that answers from elsewhere: GitHub says any request may be redirected.
 */
export type FaultStatus = 301 | 302 | 307 | 308 | 401 | 403 | 404 | 409 | 422 | 429 | 500 | 502 | 503;

/** What a fault applies to and what it does. Omitted matchers match everything. */
export interface FaultRule {
  /** HTTP method, e.g. `PUT` (case-insensitive). */
  readonly method?: string;
  /** Operation path template (`/repos/{owner}/{repo}/actions/secrets/{secret_name}`) or operationId. */
  readonly route?: string;
  /** Repository owner, or the organization of `/orgs/{org}/…` endpoints (case-insensitive). */
  readonly owner?: string;
  /** Repository name (case-insensitive). */
  readonly repo?: string;
  /** Matching requests to let through untouched before the fault starts applying (default 0). */
  readonly skip?: number;
  /** How many matching requests the fault applies to (default 1; `Infinity` for all). */
  readonly times?: number;
  /** Wait this long first; without `status` or `drop` the request is then served normally. */
  readonly delayMs?: number;
  /** Destroy the connection without answering. */
  readonly drop?: boolean;
  /** Answer with this status and a GitHub error body instead of serving the request. */
  readonly status?: FaultStatus;
  /** Extra response headers, e.g. `retry-after`. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Message of the error body (a default per status otherwise). */
  readonly message?: string;
  /** Complete error body; must still carry GitHub's `message` and `documentation_url`. */
  readonly body?: Readonly<Record<string, unknown>>;
}

/** A registered fault; `hits` counts the requests it applied to. */
export interface FaultHandle {
  readonly rule: FaultRule;
  readonly hits: number;
  readonly remaining: number;
}

/** The request facts a fault can match on. */
export interface FaultTarget {
  readonly method: string;
  readonly template: string;
  readonly operationId: string;
  readonly owner: string | undefined;
  readonly repo: string | undefined;
}

const FAULT_STATUSES: ReadonlySet<number> = new Set([
  301, 302, 307, 308, 401, 403, 404, 409, 422, 429, 500, 502, 503,
]);

const DEFAULT_MESSAGES: Readonly<Record<FaultStatus, string>> = {
  301: "Moved Permanently",
  302: "Found",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
  401: "Bad credentials",
  403: "Forbidden",
  404: "Not Found",
  409: "Conflict",
  422: "Validation Failed",
  429: "Too Many Requests",
  500: "Server Error",
  502: "Server Error",
  503: "Service Unavailable",
};

/** GitHub's default error message for a fault status. */
export function defaultFaultMessage(status: FaultStatus): string {
  return DEFAULT_MESSAGES[status];
}

/** GitHub's secondary rate limit answer: 403 with `retry-after` (seconds). */
export function secondaryRateLimitFault(retryAfterSeconds = 60): FaultRule {
  return {
    status: 403,
    headers: { "retry-after": String(retryAfterSeconds) },
    message:
      "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID.",
  };
}

/** GitHub's primary rate limit answer: 403 with `x-ratelimit-remaining: 0` and the reset time (epoch seconds). */
export function primaryRateLimitFault(resetEpochSeconds: number): FaultRule {
  return {
    status: 403,
    headers: {
      "x-ratelimit-limit": "5000",
      "x-ratelimit-remaining": "0",
      "x-ratelimit-used": "5000",
      "x-ratelimit-reset": String(resetEpochSeconds),
    },
    message:
      "API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, please include the request ID.",
  };
}

interface ActiveFault {
  readonly rule: FaultRule;
  skipped: number;
  hits: number;
}

function sameText(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase();
}

function validateRule(rule: FaultRule): void {
  const times = rule.times ?? 1;
  if (!(times >= 1) || (!Number.isInteger(times) && times !== Number.POSITIVE_INFINITY)) {
    throw new Error(`github-emulator: fault times must be a positive integer or Infinity, got ${times}`);
  }
  if (rule.status !== undefined && !FAULT_STATUSES.has(rule.status)) {
    throw new Error(
      `github-emulator: fault status ${rule.status} is not one of ${[...FAULT_STATUSES].join(", ")}`,
    );
  }
  if (rule.status === undefined && rule.drop !== true && rule.delayMs === undefined) {
    throw new Error("github-emulator: a fault needs a status, drop: true or delayMs");
  }
  if (rule.status !== undefined && rule.drop === true) {
    throw new Error("github-emulator: a fault cannot both answer with a status and drop the connection");
  }
}

/** The active fault rules, consumed in the order they were added. */
export class FaultBook {
  #faults: ActiveFault[] = [];

  add(rule: FaultRule): FaultHandle {
    validateRule(rule);
    const fault: ActiveFault = { rule, skipped: 0, hits: 0 };
    this.#faults.push(fault);
    return {
      rule,
      get hits() {
        return fault.hits;
      },
      get remaining() {
        return (rule.times ?? 1) - fault.hits;
      },
    };
  }

  clear(): void {
    this.#faults = [];
  }

  /** The first applicable rule for this request, counting the application; undefined if none applies. */
  take(target: FaultTarget): FaultRule | undefined {
    for (const fault of this.#faults) {
      const { rule } = fault;
      if (fault.hits >= (rule.times ?? 1) || !matches(rule, target)) continue;
      if (fault.skipped < (rule.skip ?? 0)) {
        fault.skipped++;
        continue;
      }
      fault.hits++;
      return rule;
    }
    return undefined;
  }
}

function matches(rule: FaultRule, target: FaultTarget): boolean {
  if (rule.method !== undefined && rule.method.toUpperCase() !== target.method) return false;
  if (rule.route !== undefined && rule.route !== target.template && rule.route !== target.operationId)
    return false;
  if (rule.owner !== undefined && !sameText(rule.owner, target.owner)) return false;
  if (rule.repo !== undefined && !sameText(rule.repo, target.repo)) return false;
  return true;
}
