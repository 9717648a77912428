import type { Clock } from "../ports.ts";

/**
 * A token is minted again once it has less than this left: a request started just before the expiry must still
 * arrive in time, and GitHub's clock and the function's may differ a little. GitHub documents the hour, not a
 * margin; @octokit/auth-app's own cache drops a token after 59 of its 60 minutes.
 * https://docs.github.com/en/rest/apps/apps#create-an-installation-access-token-for-an-app
 */
export const TOKEN_REFRESH_MARGIN_MS = 5 * 60_000;

/**
 * The installation-token cache @octokit/auth-app keeps its tokens in (its `cache` option), on an injected clock:
 * an entry is served while its token has more than TOKEN_REFRESH_MARGIN_MS left before GitHub's `expires_at`,
 * and forgotten after, so auth-app mints a new token. (auth-app's default cache measures a fixed 59 minutes on
 * the system clock from when the token was stored.) One instance per run: the tokens never outlive the process.
 */
export class AppTokenCache {
  readonly #clock: Clock;
  readonly #entries = new Map<string, string>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** The cached value, or undefined when there is none or its token is about to expire (auth-app then mints). */
  get(key: string): string | undefined {
    const value = this.#entries.get(key);
    if (value === undefined) return undefined;
    // auth-app stores "token|createdAt|expiresAt|repositorySelection|permissions|singleFileName".
    const expiresAt = Date.parse(value.split("|")[2] ?? "");
    if (!Number.isFinite(expiresAt) || this.#clock.now().getTime() >= expiresAt - TOKEN_REFRESH_MARGIN_MS) {
      this.#entries.delete(key);
      return undefined;
    }
    return value;
  }

  set(key: string, value: string): void {
    this.#entries.set(key, value);
  }
}
