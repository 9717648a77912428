import githubAppJwt from "universal-github-app-jwt";
import type { GitHubAppCredential } from "../config/github-credential.ts";
import { SecretValue } from "../domain/secret-value.ts";
import { AkmError, GitHubAccessError } from "../errors.ts";
import type { Clock, GitHubAppIdentity, TokenOwner } from "../ports.ts";
import {
  type AccessScope,
  type AppPermissions,
  type InstallationAccess,
  installationAccess,
  missingPermissions,
  readOnlyPermissions,
  withoutCodespaces,
} from "./app-permissions.ts";
import { AppTokenCache } from "./app-token-cache.ts";
import { createGitHubClient, type GitHubClient, type GitHubClientSettings } from "./client.ts";
import { isEnterpriseServer } from "./enterprise-server.ts";
import type { GitHubConnection } from "./github-connection.ts";
import type { InstallationTokenSource } from "./installation-token-auth.ts";
import {
  API_URL_FIX,
  detail,
  type GitHubCall,
  hasStatus,
  isHttpFailure,
  toGitHubAccessError,
} from "./to-github-access-error.ts";
import { UnlistedOwnerError } from "./unlisted-owner-error.ts";

export interface AppConnectionOptions {
  readonly credential: GitHubAppCredential;
  readonly client: GitHubClientSettings;
  readonly tokenSecretName: string;
  readonly scope: () => Promise<AccessScope>;
  readonly clock: Clock;
  readonly note: (line: string) => void;
}

/** An App installation, as GitHub's installation lookups describe it. */
interface Installation {
  readonly id: number;
  readonly permissions: Readonly<Record<string, unknown>>;
  readonly suspended: boolean;
  /** The installation's settings page (where an owner accepts new permissions or picks repositories). */
  readonly htmlUrl: string | undefined;
  /** Whether the installation covers every repository of the owner ("all") or chosen ones ("selected"). */
  readonly repositorySelection: "all" | "selected" | undefined;
}

/** What `client.auth({ type: "installation", ... })` of @octokit/auth-app resolves to (the parts we read). */
interface MintedToken {
  readonly token: string;
  readonly expiresAt: string;
  readonly repositorySelection?: string;
}

// README, section "GitHub App instead of a machine user".
const APP_DOC = 'README, section "GitHub App instead of a machine user"';

/**
 * A run authenticated as a GitHub App (@octokit/auth-app): the App's own calls (GET /app, the installation lookups,
 * minting tokens) carry a JWT signed with its private key; every other call carries an installation token of the
 * owner it concerns, minted for this run with only the permissions — and, where GitHub allows, only the
 * repositories — the list needs there (src/github/app-permissions.ts).
 * https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/authenticating-as-a-github-app-installation
 *
 * Every client (the App's and each owner's) is a createGitHubClient client with the same settings, so the JWT calls
 * go to the same API URL (GitHub Enterprise Server included), trust the same CA bundle, never follow redirects, and
 * share the run's write pacer. Installation tokens last one hour; they are kept in an AppTokenCache on the run's
 * clock and minted again before they expire, and a 401 to a token mints a new one (installation-token-auth).
 */
export class AppConnection implements GitHubConnection {
  readonly mode = "app";
  readonly apiUrl: string;
  readonly #options: AppConnectionOptions;
  readonly #appClient: GitHubClient;
  #identity: Promise<GitHubAppIdentity> | undefined;
  #scope: Promise<AccessScope> | undefined;
  readonly #owners = new Map<string, Promise<GitHubClient>>();
  /** Each owner's installation `repository_selection`, once `clientFor` found the installation. */
  readonly #selections = new Map<string, "all" | "selected" | undefined>();

  constructor(options: AppConnectionOptions) {
    this.#options = options;
    const { credential, clock } = options;
    // The App's own calls pace themselves: minting a token creates no content, so it must not spend (or be
    // counted in) the run's write budget for secrets, which the owners' clients share.
    const { writePacer: _runWriteBudget, ...appClientSettings } = options.client;
    this.#appClient = createGitHubClient({
      ...appClientSettings,
      app: {
        appId: credential.appId,
        // JWTs on the run's clock (auth-app's own signer reads the system clock): `iat` 30 s back, `exp` 10 minutes
        // on, the most GitHub accepts. `timeDifference` is auth-app's correction after GitHub said the clocks differ.
        // https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app
        createJwt: async (appId, timeDifference) => {
          const now = Math.floor(clock.now().getTime() / 1000) + (timeDifference ?? 0);
          const jwt = await githubAppJwt({ id: appId, privateKey: credential.privateKey.reveal(), now });
          return { jwt: jwt.token, expiresAt: new Date(jwt.expiration * 1000).toISOString() };
        },
        cache: new AppTokenCache(clock),
      },
    });
    this.apiUrl = this.#appClient.request.endpoint.DEFAULTS.baseUrl;
  }

  /** `GET /app` with the App's JWT: which App the key belongs to (an installation token has no user). */
  async whoAmI(): Promise<TokenOwner> {
    const app = await this.#app();
    return { login: app.slug, expiresAt: undefined, app };
  }

  async repositorySelection(owner: string): Promise<"all" | "selected" | undefined> {
    await this.clientFor(owner);
    return this.#selections.get(owner.toLowerCase());
  }

  clientFor(owner: string): Promise<GitHubClient> {
    const key = owner.toLowerCase();
    let client = this.#owners.get(key);
    if (client === undefined) {
      client = this.#connect(owner);
      this.#owners.set(key, client);
      // A passing failure is asked again by the next caller; a refusal stays the answer for this run.
      client.catch((error: unknown) => {
        if (error instanceof AkmError && error.fault === "transient" && this.#owners.get(key) === client) {
          this.#owners.delete(key);
        }
      });
    }
    return client;
  }

  async #connect(owner: string): Promise<GitHubClient> {
    this.#scope ??= this.#options
      .scope()
      .then((listed) => (isEnterpriseServer(this.apiUrl) ? withoutCodespaces(listed) : listed));
    const scope = await this.#scope;
    const needed = installationAccess(scope, owner);
    if (Object.keys(needed.permissions).length === 0) throw new UnlistedOwnerError(owner);
    const app = await this.#app();
    const installation = await this.#installation(owner, app);
    this.#selections.set(owner.toLowerCase(), installation.repositorySelection);
    // Checked for what a rotation needs even in a DryRun, which then mints its tokens read-only.
    this.#checkInstallation(owner, app, installation, needed.permissions);
    const access =
      scope.readOnly === true ? { ...needed, permissions: readOnlyPermissions(needed.permissions) } : needed;
    const source = new MintedTokenSource(this, installation, access);
    // Minted now, so a refusal is reported once for the owner rather than on each repository's first request.
    await source.token();
    return createGitHubClient({ ...this.#options.client, installationToken: source });
  }

  /** Mints (or takes from the cache) the owner's installation token, narrowed as `access` says. */
  async mint(
    installation: Installation,
    access: InstallationAccess,
    narrowToRepositories: boolean,
    refresh: boolean,
  ): Promise<MintedToken> {
    const repositoryNames = narrowToRepositories ? access.repositories : undefined;
    const auth = this.#appClient.auth as (options: Record<string, unknown>) => Promise<MintedToken>;
    return auth({
      type: "installation",
      installationId: installation.id,
      permissions: { ...access.permissions },
      ...(repositoryNames === undefined ? {} : { repositoryNames: [...repositoryNames] }),
      ...(refresh ? { refresh: true } : {}),
    });
  }

  note(line: string): void {
    this.#options.note(line);
  }

  /** An App-call failure as a GitHubAccessError; a 401 means GitHub refused the JWT (wrong key or App ID). */
  appCallError(error: unknown, action: string, owner?: string): unknown {
    if (!isHttpFailure(error)) return error;
    const { credential, tokenSecretName } = this.#options;
    if (error.status === 401) {
      return new GitHubAccessError(
        `GitHub refused the GitHub App credentials for ${action} (401 ${answerOf(error)}): the private key in secret ${tokenSecretName} does not belong to App ${credential.appId}, the key was deleted, or the function's clock is off by minutes.`,
        {
          status: 401,
          fix: `Check the stack's pGitHubAppId (the App's settings page, General → About → App ID) and store a current private key of that App in ${tokenSecretName} (General → Private keys → Generate a private key). See ${APP_DOC}.`,
        },
      );
    }
    const call: GitHubCall = {
      action,
      tokenSecretName,
      apiUrl: this.apiUrl,
      ...(owner === undefined
        ? {}
        : {
            otherRefusalFix: `Correct what GitHub's answer names for ${owner}'s installation of the App (${APP_DOC}), then run the runbook again.`,
          }),
    };
    return toGitHubAccessError(error, call);
  }

  #app(): Promise<GitHubAppIdentity> {
    this.#identity ??= (async () => {
      let data: Record<string, unknown>;
      try {
        ({ data } = (await this.#appClient.request("GET /app")) as { data: Record<string, unknown> });
      } catch (error) {
        throw this.appCallError(error, "GET /app");
      }
      const { id, slug, html_url: htmlUrl } = data;
      if (typeof id !== "number" || typeof slug !== "string" || typeof htmlUrl !== "string") {
        throw new GitHubAccessError(
          "GitHub answered GET /app with an unexpected body (no id, slug or html_url).",
          {
            fix: API_URL_FIX,
          },
        );
      }
      return { id, slug, htmlUrl };
    })();
    return this.#identity;
  }

  /**
   * The App's installation on `owner`: the organization's, else the user's (GitHub documents both lookups, each
   * answering 404 when the App is not installed there).
   * https://docs.github.com/en/rest/apps/apps#get-an-organization-installation-for-the-authenticated-app
   * https://docs.github.com/en/rest/apps/apps#get-a-user-installation-for-the-authenticated-app
   */
  async #installation(owner: string, app: GitHubAppIdentity): Promise<Installation> {
    const lookups = [
      {
        action: `GET /orgs/${owner}/installation`,
        route: "GET /orgs/{org}/installation",
        params: { org: owner },
      },
      {
        action: `GET /users/${owner}/installation`,
        route: "GET /users/{username}/installation",
        params: { username: owner },
      },
    ] as const;
    for (const lookup of lookups) {
      let data: Record<string, unknown>;
      try {
        ({ data } = (await this.#appClient.request(lookup.route, lookup.params)) as {
          data: Record<string, unknown>;
        });
      } catch (error) {
        if (hasStatus(error, 404)) continue;
        throw this.appCallError(error, lookup.action, owner);
      }
      const {
        id,
        permissions,
        suspended_at: suspendedAt,
        html_url: htmlUrl,
        repository_selection: selection,
      } = data;
      if (typeof id !== "number") {
        throw new GitHubAccessError(`GitHub answered ${lookup.action} with an unexpected body (no id).`, {
          fix: API_URL_FIX,
        });
      }
      return {
        id,
        permissions:
          typeof permissions === "object" && permissions !== null
            ? (permissions as Record<string, unknown>)
            : {},
        suspended: typeof suspendedAt === "string" && suspendedAt !== "",
        htmlUrl: typeof htmlUrl === "string" ? htmlUrl : undefined,
        repositorySelection: selection === "all" || selection === "selected" ? selection : undefined,
      };
    }
    // https://docs.github.com/en/apps/using-github-apps/installing-your-own-github-app
    throw new GitHubAccessError(
      `The GitHub App ${app.slug} is not installed on ${owner}, so it cannot write the secrets listed for ${owner}. Nothing was changed.`,
      {
        fix: `Install the App on ${owner}: open ${app.htmlUrl}/installations/new signed in as an owner of ${owner}, choose ${owner}, and give it the listed repositories (or all). Then run Rotate again. See ${APP_DOC}.`,
      },
    );
  }

  /**
   * An installation can mint the run's token only if it is not suspended and grants every permission the token
   * asks for (GitHub refuses to grant a token more than the installation has). New permissions of an App reach an
   * installation only once an owner accepts them.
   * https://docs.github.com/en/apps/maintaining-github-apps/modifying-a-github-app-registration#changing-the-permissions-of-a-github-app
   */
  #checkInstallation(
    owner: string,
    app: GitHubAppIdentity,
    installation: Installation,
    needed: AppPermissions,
  ): void {
    const page = installation.htmlUrl ?? `${owner}'s settings → GitHub Apps → ${app.slug} → Configure`;
    if (installation.suspended) {
      throw new GitHubAccessError(
        `The GitHub App ${app.slug}'s installation on ${owner} is suspended, so GitHub mints no token for it. Nothing was changed.`,
        {
          fix: `An owner of ${owner} unsuspends it: open ${page} and choose Unsuspend. Then run Rotate again.`,
        },
      );
    }
    const missing = missingPermissions(needed, installation.permissions);
    if (missing.length > 0) {
      throw new GitHubAccessError(
        `The GitHub App ${app.slug}'s installation on ${owner} lacks permissions the listed targets of ${owner} need: ${missing.join("; ")}. Nothing was changed.`,
        {
          fix: `Give the App these permissions (its settings → Permissions & events), then have an owner of ${owner} accept them (${page}, Review request). Then run Rotate again. See ${APP_DOC}.`,
        },
      );
    }
  }
}

/**
 * One owner's installation token for the run's clients: minted with the owner's InstallationAccess, kept by
 * @octokit/auth-app in the connection's AppTokenCache, minted again when it nears its expiry or after a 401.
 */
class MintedTokenSource implements InstallationTokenSource {
  readonly #connection: AppConnection;
  readonly #installation: Installation;
  readonly #access: InstallationAccess;
  #narrow: boolean;
  #last: { readonly text: string; readonly value: SecretValue } | undefined;

  constructor(connection: AppConnection, installation: Installation, access: InstallationAccess) {
    this.#connection = connection;
    this.#installation = installation;
    this.#access = access;
    this.#narrow = access.repositories !== undefined;
  }

  async token(options: { readonly refresh?: boolean } = {}): Promise<SecretValue> {
    const { owner } = this.#access;
    const action = `POST /app/installations/${this.#installation.id}/access_tokens (for ${owner})`;
    let minted: MintedToken;
    try {
      minted = await this.#connection.mint(
        this.#installation,
        this.#access,
        this.#narrow,
        options.refresh === true,
      );
    } catch (error) {
      // GitHub refuses (422) a token for repositories the installation cannot reach. Without the narrowing, each
      // listed repository the App cannot see is reported by name by the checks that follow (404).
      if (!this.#narrow || !hasStatus(error, 422)) throw this.#connection.appCallError(error, action, owner);
      this.#narrow = false;
      this.#connection.note(
        `GitHub refused to narrow the installation token for ${owner} to the ${this.#access.repositories?.length ?? 0} listed repositories (422 ${answerOf(error)}); minted it for every repository the installation may reach, and the checks below name any listed repository the App cannot see.`,
      );
      return this.token(options);
    }
    if (this.#last?.text !== minted.token) {
      this.#last = { text: minted.token, value: new SecretValue(minted.token) };
      const reach = this.#narrow
        ? `${this.#access.repositories?.length ?? 0} listed repositories`
        : `every repository the installation may reach (${this.#access.broadBecause ?? "narrowing refused"})`;
      const permissions = Object.entries(this.#access.permissions)
        .map(([name, level]) => `${name}:${level}`)
        .join(", ");
      this.#connection.note(
        `GitHub App installation token for ${owner} minted, expiring ${minted.expiresAt}: ${permissions}; ${reach}.`,
      );
    }
    return this.#last.value;
  }
}

/** GitHub's `message` of a refused request, on one line and short (Octokit's own message appends the docs URL). */
function answerOf(error: unknown): string {
  const data = (error as { response?: { data?: unknown } }).response?.data;
  const message = (data as { message?: unknown } | undefined)?.message;
  return detail(typeof message === "string" ? message : ((error as Error).message ?? ""));
}
