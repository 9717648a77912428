/**
 * The emulator's access log: one entry per finished request. It records what happened, never what was sent:
 * no bodies, no tokens, no secret values.
 */

export interface RequestLogEntry {
  /** 1-based sequence number in arrival order. */
  readonly id: number;
  readonly method: string;
  /** Request path without query string (and without the emulator's basePath). */
  readonly path: string;
  /** Matched OpenAPI path template, if any. */
  readonly route: string | undefined;
  readonly operationId: string | undefined;
  /** `owner/name` when the path names a repository. */
  readonly repo: string | undefined;
  /** Login of the authenticated token owner. */
  readonly login: string | undefined;
  /** The `X-GitHub-Api-Version` the request asked for; undefined when it named none. */
  readonly apiVersion: string | undefined;
  /** Status sent; undefined when the connection was dropped. */
  readonly status: number | undefined;
  /** Answered (or dropped, or delayed) by a fault rule. */
  readonly fault: boolean;
  readonly dropped: boolean;
  /** Rejected by the rate-limit emulation. */
  readonly limited: boolean;
  /** Which limit rejected it: the primary (requests an hour) or a secondary one; undefined when not rejected. */
  readonly limitedBy?: "primary" | "secondary";
  /** Same as startedAt (ms since epoch, from the emulator's clock). */
  readonly timestamp: number;
  readonly startedAt: number;
  readonly endedAt: number;
  /** Requests in progress when this one arrived, itself included. */
  readonly inFlightAtStart: number;
}

/**
 * Most requests that were in progress at once. Exact even at millisecond clock resolution, because the
 * in-flight count peaks at some request's arrival and every entry records the count at its arrival.
 */
export function peakConcurrency(entries: readonly RequestLogEntry[]): number {
  return entries.reduce((peak, entry) => Math.max(peak, entry.inFlightAtStart), 0);
}
