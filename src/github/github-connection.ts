import type { GitHubCredential } from "../config/github-credential.ts";
import { GitHubAccessError } from "../errors.ts";
import { type Clock, systemClock, type TokenOwner } from "../ports.ts";
import { AppConnection } from "./app-connection.ts";
import type { AccessScope } from "./app-permissions.ts";
import { createGitHubClient, type GitHubClient, type GitHubClientSettings } from "./client.ts";
import { API_URL_FIX, isHttpFailure, toGitHubAccessError } from "./to-github-access-error.ts";
import { parseTokenExpiration, TOKEN_EXPIRATION_HEADER } from "./token-expiration.ts";

/**
 * How a run reaches GitHub: a client for each owner whose secrets it writes, and who it is.
 * - `token`: a personal access token of the machine user; one client, the same for every owner.
 * - `app`: a GitHub App; for each owner, an installation token minted for this run with only the permissions and
 *   repositories the list needs there (src/github/app-connection.ts).
 */
export interface GitHubConnection {
  readonly mode: "token" | "app";
  /** The REST API root every client uses (named in messages about reaching it). */
  readonly apiUrl: string;
  /**
   * The client for `owner`'s repositories and organization. App mode: finds the App's installation on the owner,
   * checks it grants what the run needs and mints its token (once per owner and run; the client mints again when
   * the token nears its expiry). Throws GitHubAccessError naming the owner when the App cannot act there.
   */
  clientFor(owner: string): Promise<GitHubClient>;
  /**
   * Who the credential is: the token's user and expiry (`GET /user`), or the App (`GET /app` with its JWT: an
   * installation token has no user). Throws GitHubAccessError when GitHub refuses the credential.
   */
  whoAmI(): Promise<TokenOwner>;
  /**
   * The App installation's `repository_selection` on `owner` ("all" or "selected"), found by `clientFor(owner)`;
   * undefined for a personal token (README, section "Shadowing").
   * https://docs.github.com/en/rest/apps/apps#get-an-organization-installation-for-the-authenticated-app
   */
  repositorySelection?(owner: string): Promise<"all" | "selected" | undefined>;
}

export interface GitHubConnectionOptions {
  readonly credential: GitHubCredential;
  /** Settings every client shares (API URL, user agent, retries, the run's write pacer, log). */
  readonly client: GitHubClientSettings;
  /** Display name of the token secret, named in fixes. */
  readonly tokenSecretName: string;
  /**
   * What the run touches, read once when the first App client is needed: installation tokens get only the
   * permissions and repositories it needs (src/github/app-permissions.ts). Unused for a personal token.
   */
  readonly scope: () => Promise<AccessScope>;
  /** Time for JWTs and token expiry (default: the system clock). */
  readonly clock?: Clock;
  /** Progress lines (tokens minted, narrowing given up); never receives a secret. */
  readonly note?: (line: string) => void;
}

/** The connection for a run's credential (see GitHubConnection). */
export function createGitHubConnection(options: GitHubConnectionOptions): GitHubConnection {
  const { credential } = options;
  if (credential.kind === "token") {
    return new TokenConnection(
      createGitHubClient({ ...options.client, token: credential.token }),
      options.tokenSecretName,
    );
  }
  return new AppConnection({
    credential,
    client: options.client,
    tokenSecretName: options.tokenSecretName,
    scope: options.scope,
    clock: options.clock ?? systemClock,
    note: options.note ?? (() => {}),
  });
}

/** The connection of a personal token's client (one client for every owner). */
export function tokenConnection(client: GitHubClient, tokenSecretName: string): GitHubConnection {
  return new TokenConnection(client, tokenSecretName);
}

/** A personal access token: one client for every owner. */
class TokenConnection implements GitHubConnection {
  readonly mode = "token";
  readonly apiUrl: string;
  readonly #client: GitHubClient;
  readonly #tokenSecretName: string;

  constructor(client: GitHubClient, tokenSecretName: string) {
    this.#client = client;
    this.#tokenSecretName = tokenSecretName;
    this.apiUrl = client.request.endpoint.DEFAULTS.baseUrl;
  }

  async clientFor(_owner: string): Promise<GitHubClient> {
    return this.#client;
  }

  /** `GET /user`: the token's login, and its expiry from GitHub's `GitHub-Authentication-Token-Expiration`. */
  async whoAmI(): Promise<TokenOwner> {
    const call = {
      action: "GET /user",
      tokenSecretName: this.#tokenSecretName,
      apiUrl: this.apiUrl,
    };
    let answer: { data: unknown; headers: Record<string, unknown> };
    try {
      answer = await this.#client.request("GET /user");
    } catch (error) {
      throw isHttpFailure(error) ? toGitHubAccessError(error, call) : error;
    }
    const login = (answer.data as { login?: unknown }).login;
    if (typeof login !== "string" || login === "") {
      throw new GitHubAccessError("GitHub answered GET /user with an unexpected body (no login).", {
        fix: API_URL_FIX,
      });
    }
    return { login, expiresAt: parseTokenExpiration(answer.headers[TOKEN_EXPIRATION_HEADER]) };
  }
}
