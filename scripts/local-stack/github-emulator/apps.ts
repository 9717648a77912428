/**
 * GitHub Apps in the emulator: Apps with RSA key pairs, their installations on accounts, the JWT-authenticated
 * App endpoints, and installation tokens that the other endpoints accept with the permissions and repositories
 * they were minted with. They are an emulator extension (extension.ts): the server registers `extension` of its
 * `EmulatedApps` (its `apps` handle) with the other extensions; the core endpoints check an installation token's
 * permissions with `installationRefusal` (handler-kit.ts).
 *
 * GitHub's rules followed here:
 * - JWT: RS256, `iss` the App ID (or its client ID), `iat` not in the future, `exp` in the future and at most 10
 *   minutes ahead; refusals are 401 with GitHub's messages ("'Expiration time' claim ('exp') is too far in the
 *   future", ...). https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app
 * - Installation tokens expire one hour after they are minted (then 401); `permissions` may only narrow what the
 *   installation was granted, and `repositories` / `repository_ids` (at most 500) only name repositories the
 *   installation may reach (422 otherwise).
 *   https://docs.github.com/en/rest/apps/apps#create-an-installation-access-token-for-an-app
 * - An installation token lacking the permission an endpoint needs gets 403 "Resource not accessible by
 *   integration" with `X-Accepted-GitHub-Permissions`.
 *   https://docs.github.com/en/rest/using-the-rest-api/troubleshooting-the-rest-api#resource-not-accessible
 */
import { generateKeyPairSync, type KeyObject, randomBytes, verify } from "node:crypto";
import type { EmulatorExtension, ExtensionAuthentication } from "./extension.ts";
import type { Handler, HandlerContext, HandlerResult } from "./handler-kit.ts";
import { errorResponse, repositoryBody, simpleUserBody } from "./responses.ts";
import type { EmulatorState, RepoRecord, TokenGrant } from "./state.ts";

export type AppPermissionLevel = "read" | "write";
export type AppPermissionSet = Readonly<Record<string, AppPermissionLevel>>;

/** What the test arranging an App gets back: the App's identity and its private key (as GitHub's download). */
export interface EmulatedAppHandle {
  readonly id: number;
  readonly slug: string;
  readonly clientId: string;
  /** PKCS#1 PEM (`-----BEGIN RSA PRIVATE KEY-----`), the format GitHub's "Generate a private key" downloads. */
  readonly privateKeyPem: string;
}

export interface AddAppOptions {
  /** URL name of the App (`https://github.com/apps/SLUG`). */
  readonly slug: string;
  /** The permissions the App asks for (installations get these unless told otherwise). */
  readonly permissions: AppPermissionSet;
  /** The App's owner (default: `app-owner`). */
  readonly owner?: string;
}

export interface InstallOptions {
  /** `Organization` (default) or `User`: decides which lookup finds the installation. */
  readonly type?: "Organization" | "User";
  /** Repository names (without owner) the installation may reach; default: all of the account's. */
  readonly repositories?: readonly string[];
  /** What the installation was granted (default: the App's permissions). */
  readonly permissions?: AppPermissionSet;
  /** A suspended installation gets no tokens (403). */
  readonly suspended?: boolean;
}

/** One minted installation token, as the tests inspect it (never the token itself). */
export interface MintedTokenRecord {
  readonly appId: number;
  readonly installationId: number;
  readonly account: string;
  readonly permissions: AppPermissionSet;
  /** `all`, or the repositories (`owner/name`) the token was narrowed to. */
  readonly repositories: "all" | readonly string[];
  readonly issuedAt: number;
  readonly expiresAt: number;
}

/** The grant of an installation token (see TokenGrant.installation). */
export interface InstallationGrant {
  readonly appId: number;
  readonly installationId: number;
  /** The account the installation is on: the token reaches no other owner's repositories. */
  readonly account: string;
  readonly permissions: AppPermissionSet;
}

/** The test-facing handle of the emulator's Apps (`GitHubEmulator.apps`). */
export interface GitHubAppsEmulation {
  /** Registers an App with a fresh 2048-bit RSA key pair. */
  addApp(options: AddAppOptions): EmulatedAppHandle;
  /** Installs the App on an account; returns the installation ID. */
  install(appId: number, account: string, options?: InstallOptions): number;
  /** Suspends (or with `false`, unsuspends) an installation. */
  suspend(installationId: number, suspended?: boolean): void;
  /** Every installation token minted so far, oldest first. */
  readonly minted: readonly MintedTokenRecord[];
  /** The minted tokens' values (test data, e.g. for a leak scan). */
  mintedTokenValues(): string[];
  /** Every installation token minted so far expires now, as if its hour had passed. */
  expireTokens(): void;
}

interface AppRecord {
  readonly id: number;
  readonly slug: string;
  readonly clientId: string;
  readonly owner: string;
  readonly publicKey: KeyObject;
  readonly permissions: AppPermissionSet;
  readonly createdAt: string;
}

interface InstallationRecord {
  readonly id: number;
  readonly appId: number;
  readonly account: string;
  readonly type: "Organization" | "User";
  /** Lower-case repository names, or `all`. */
  readonly repositories: "all" | ReadonlySet<string>;
  readonly permissions: AppPermissionSet;
  readonly createdAt: string;
  suspendedAt: string | undefined;
}

/** GitHub narrows a token to at most this many repositories. */
const MAX_TOKEN_REPOSITORIES = 500;
const TOKEN_LIFETIME_MS = 60 * 60_000;
/** `exp` may be at most this far ahead. */
const MAX_JWT_LIFETIME_S = 10 * 60;
/** GitHub's answer to a token that lacks the permission an endpoint needs. */
export const INTEGRATION_FORBIDDEN = "Resource not accessible by integration";
const NOT_DECODED = "A JSON web token could not be decoded";
const GENERIC_DOCS = "https://docs.github.com/rest";

/** Operations that take the App's JWT (and nothing else). */
const JWT_OPERATIONS = new Set([
  "apps/get-authenticated",
  "apps/get-org-installation",
  "apps/get-user-installation",
  "apps/get-repo-installation",
  "apps/create-installation-access-token",
]);

function isoSeconds(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

function base64UrlJson(part: string): unknown {
  try {
    return JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
}

/** Apps, installations and installation tokens of one emulator (its `apps`); `extension` serves them. */
export class EmulatedApps implements GitHubAppsEmulation {
  readonly #state: EmulatorState;
  readonly #now: () => number;
  readonly #apps = new Map<number, AppRecord>();
  readonly #installations = new Map<number, InstallationRecord>();
  readonly #minted: MintedTokenRecord[] = [];
  readonly #tokens: string[] = [];
  #nextAppId = 900_001;
  #nextInstallationId = 70_000_001;

  constructor(state: EmulatorState, now: () => number) {
    this.#state = state;
    this.#now = now;
  }

  get minted(): readonly MintedTokenRecord[] {
    return this.#minted;
  }

  addApp(options: AddAppOptions): EmulatedAppHandle {
    const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const id = this.#nextAppId++;
    const app: AppRecord = {
      id,
      slug: options.slug,
      clientId: `Iv23li${id.toString(16).padStart(14, "0")}`,
      owner: options.owner ?? "app-owner",
      publicKey,
      permissions: { metadata: "read", ...options.permissions },
      createdAt: isoSeconds(this.#now()),
    };
    this.#apps.set(id, app);
    this.#state.user(app.owner);
    const privateKeyPem = String(privateKey.export({ type: "pkcs1", format: "pem" }));
    return { id, slug: app.slug, clientId: app.clientId, privateKeyPem };
  }

  install(appId: number, account: string, options: InstallOptions = {}): number {
    const app = this.#requireApp(appId);
    const id = this.#nextInstallationId++;
    this.#installations.set(id, {
      id,
      appId,
      account,
      type: options.type ?? "Organization",
      repositories:
        options.repositories === undefined
          ? "all"
          : new Set(options.repositories.map((name) => name.toLowerCase())),
      permissions: options.permissions ?? app.permissions,
      createdAt: isoSeconds(this.#now()),
      suspendedAt: options.suspended === true ? isoSeconds(this.#now()) : undefined,
    });
    this.#state.user(account);
    return id;
  }

  suspend(installationId: number, suspended = true): void {
    const installation = this.#installations.get(installationId);
    if (installation === undefined) throw new Error(`github-emulator: no installation ${installationId}`);
    installation.suspendedAt = suspended ? isoSeconds(this.#now()) : undefined;
  }

  mintedTokenValues(): string[] {
    return [...this.#tokens];
  }

  expireTokens(): void {
    const now = new Date(this.#now());
    for (const token of this.#tokens) {
      const grant = this.#state.grantFor(token);
      if (grant !== undefined) this.#state.addToken(token, { ...grant, expiresAt: now });
    }
  }

  /** The App endpoints and their JWT authentication, as an emulator extension. */
  get extension(): EmulatorExtension {
    return {
      name: "github-apps",
      handlers: appHandlers(this),
      authenticate: (credential, _now, operationId) => this.authenticate(operationId, credential),
    };
  }

  /**
   * Authentication for the App endpoints (a credential no registered token matched): undefined for every other
   * operation (a JWT is no token there: 401 Bad credentials); else the App's grant for a valid JWT, or the 401
   * message GitHub gives.
   */
  authenticate(operationId: string, token: string): ExtensionAuthentication {
    if (!JWT_OPERATIONS.has(operationId)) return undefined;
    const parts = token.split(".");
    const [head = "", body = "", signature = ""] = parts;
    const header = base64UrlJson(head) as { alg?: unknown } | undefined;
    const claims = base64UrlJson(body) as { iss?: unknown; iat?: unknown; exp?: unknown } | undefined;
    if (parts.length !== 3 || header === undefined || claims === undefined || header.alg !== "RS256") {
      return { refusal: NOT_DECODED };
    }
    const app = [...this.#apps.values()].find(
      (candidate) => String(claims.iss) === String(candidate.id) || claims.iss === candidate.clientId,
    );
    const signed = Buffer.from(`${head}.${body}`);
    if (
      app === undefined ||
      !verify("RSA-SHA256", signed, app.publicKey, Buffer.from(signature, "base64url"))
    ) {
      return { refusal: NOT_DECODED };
    }
    const now = Math.floor(this.#now() / 1000);
    if (!Number.isInteger(claims.iat) || (claims.iat as number) > now) {
      return {
        refusal:
          "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued",
      };
    }
    if (typeof claims.exp !== "number" || claims.exp <= now) {
      return {
        refusal:
          "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires",
      };
    }
    if (claims.exp - now > MAX_JWT_LIFETIME_S) {
      return { refusal: "'Expiration time' claim ('exp') is too far in the future" };
    }
    return { login: `${app.slug}[bot]`, repos: [], permission: "read", app: { id: app.id } };
  }

  /** The App a JWT grant belongs to; undefined for a token's grant (the App endpoints take a JWT only). */
  appOf(grant: TokenGrant): AppRecord | undefined {
    return grant.app === undefined ? undefined : this.#apps.get(grant.app.id);
  }

  /** The App's installation on an account of the given type (any type when undefined). */
  installationOn(
    app: AppRecord,
    account: string,
    type?: "Organization" | "User",
  ): InstallationRecord | undefined {
    return [...this.#installations.values()].find(
      (installation) =>
        installation.appId === app.id &&
        installation.account.toLowerCase() === account.toLowerCase() &&
        (type === undefined || installation.type === type),
    );
  }

  installation(app: AppRecord, id: number): InstallationRecord | undefined {
    const installation = this.#installations.get(id);
    return installation?.appId === app.id ? installation : undefined;
  }

  /** Whether the installation may reach the repository. */
  reaches(installation: InstallationRecord, repo: RepoRecord): boolean {
    if (repo.owner.toLowerCase() !== installation.account.toLowerCase()) return false;
    return installation.repositories === "all" || installation.repositories.has(repo.name.toLowerCase());
  }

  /** Registers a token for the installation and remembers it; returns the token and its expiry. */
  mint(
    app: AppRecord,
    installation: InstallationRecord,
    permissions: AppPermissionSet,
    repositories: "all" | readonly RepoRecord[],
  ): { readonly token: string; readonly expiresAt: number } {
    const token = `ghs_${randomBytes(18).toString("base64url")}`;
    const issuedAt = this.#now();
    const expiresAt = issuedAt + TOKEN_LIFETIME_MS;
    const narrowed =
      repositories === "all" ? undefined : repositories.map((repo) => `${repo.owner}/${repo.name}`);
    const reach =
      narrowed ??
      (installation.repositories === "all"
        ? "all"
        : [...installation.repositories].map((name) => `${installation.account}/${name}`));
    this.#state.addToken(token, {
      login: `${app.slug}[bot]`,
      repos: reach,
      permission: permissions.secrets === "write" ? "write" : "read",
      expiresAt: new Date(expiresAt),
      installation: {
        appId: app.id,
        installationId: installation.id,
        account: installation.account,
        permissions,
      },
    });
    this.#tokens.push(token);
    this.#minted.push({
      appId: app.id,
      installationId: installation.id,
      account: installation.account,
      permissions,
      repositories: narrowed ?? "all",
      issuedAt,
      expiresAt,
    });
    return { token, expiresAt };
  }

  #requireApp(id: number): AppRecord {
    const app = this.#apps.get(id);
    if (app === undefined) throw new Error(`github-emulator: no GitHub App ${id}; call apps.addApp() first`);
    return app;
  }
}

const LEVEL_RANK: Readonly<Record<string, number>> = { read: 1, write: 2, admin: 3 };

/**
 * GitHub's 403 for an installation token without `permission` (each of them, when several) at `access` (undefined
 * when the token may): for the handlers of every endpoint, which call it for installation grants.
 */
export function installationRefusal(
  grant: TokenGrant,
  permission: string | readonly string[],
  access: AppPermissionLevel,
  docsUrl: string,
): HandlerResult | undefined {
  const installation = grant.installation;
  if (installation === undefined) return undefined;
  const needed = typeof permission === "string" ? [permission] : permission;
  const holds = (name: string) =>
    (LEVEL_RANK[installation.permissions[name] ?? ""] ?? 0) >= (LEVEL_RANK[access] ?? 0);
  if (needed.every(holds)) return undefined;
  return errorResponse(403, INTEGRATION_FORBIDDEN, docsUrl, {
    "x-accepted-github-permissions": acceptedPermissions(needed, access),
  });
}

/**
 * `X-Accepted-GitHub-Permissions` for one set of permissions, all needed together. GitHub separates alternative
 * sets with `;` (https://github.blog/changelog/2023-08-10-x-accepted-github-permissions-header-for-fine-grained-permission-actors);
 * it does not document how a set lists several, so the emulator joins them with `,`.
 */
export function acceptedPermissions(permissions: readonly string[], access: string): string {
  return permissions.map((permission) => `${permission}=${access}`).join(",");
}

function appBody(app: AppRecord, context: HandlerContext): Record<string, unknown> {
  const owner = context.state.user(app.owner);
  return {
    id: app.id,
    slug: app.slug,
    node_id: Buffer.from(`03:Integration${app.id}`).toString("base64"),
    client_id: app.clientId,
    owner: simpleUserBody(owner, "Organization", context.apiBase, context.webBase),
    name: app.slug,
    description: null,
    external_url: `${context.webBase}/${app.owner}`,
    html_url: `${context.webBase}/apps/${app.slug}`,
    created_at: app.createdAt,
    updated_at: app.createdAt,
    permissions: app.permissions,
    events: [],
    installations_count: 0,
  };
}

function installationBody(
  installation: InstallationRecord,
  app: AppRecord,
  context: HandlerContext,
): Record<string, unknown> {
  const account = context.state.user(installation.account);
  const settings =
    installation.type === "Organization"
      ? `${context.webBase}/organizations/${installation.account}/settings/installations/${installation.id}`
      : `${context.webBase}/settings/installations/${installation.id}`;
  return {
    id: installation.id,
    account: simpleUserBody(account, installation.type, context.apiBase, context.webBase),
    repository_selection: installation.repositories === "all" ? "all" : "selected",
    access_tokens_url: `${context.apiBase}/app/installations/${installation.id}/access_tokens`,
    repositories_url: `${context.apiBase}/installation/repositories`,
    html_url: settings,
    app_id: app.id,
    client_id: app.clientId,
    app_slug: app.slug,
    target_id: account.id,
    target_type: installation.type,
    permissions: installation.permissions,
    events: [],
    created_at: installation.createdAt,
    updated_at: installation.createdAt,
    single_file_name: null,
    suspended_by: null,
    suspended_at: installation.suspendedAt ?? null,
  };
}

function notFound(context: HandlerContext): HandlerResult {
  return errorResponse(404, "Not Found", context.operation.docsUrl);
}

/** A handler that runs with the App of the request's JWT; a token instead of a JWT gets GitHub's 401. */
function withApp(
  apps: EmulatedApps,
  then: (app: AppRecord, context: HandlerContext) => HandlerResult,
): Handler {
  return (context) => {
    const app = apps.appOf(context.grant);
    return app === undefined ? errorResponse(401, NOT_DECODED, GENERIC_DOCS) : then(app, context);
  };
}

function lookup(apps: EmulatedApps, type: "Organization" | "User" | undefined, param: string): Handler {
  return withApp(apps, (app, context) => {
    const installation = apps.installationOn(app, context.params[param] ?? "", type);
    return installation === undefined
      ? notFound(context)
      : { status: 200, body: installationBody(installation, app, context) };
  });
}

/** POST /app/installations/{installation_id}/access_tokens. */
function createInstallationToken(apps: EmulatedApps, app: AppRecord, context: HandlerContext): HandlerResult {
  const installation = apps.installation(app, Number(context.params.installation_id));
  if (installation === undefined) return notFound(context);
  const docs = context.operation.docsUrl;
  if (installation.suspendedAt !== undefined)
    return errorResponse(403, "This installation has been suspended", docs);
  const body = (context.body ?? {}) as {
    repositories?: string[];
    repository_ids?: number[];
    permissions?: Record<string, string>;
  };
  const permissions: Record<string, AppPermissionLevel> = {};
  for (const [name, level] of Object.entries(body.permissions ?? installation.permissions)) {
    const granted = LEVEL_RANK[installation.permissions[name] ?? ""] ?? 0;
    if ((LEVEL_RANK[level] ?? 9) > granted) {
      return {
        ...errorResponse(422, "The permissions requested are not granted to this installation.", docs),
      };
    }
    permissions[name] = level === "write" ? "write" : "read";
  }
  const named = [
    ...(body.repositories ?? []).map((name) => ({ name })),
    ...(body.repository_ids ?? []).map((id) => ({ id })),
  ];
  if (named.length > MAX_TOKEN_REPOSITORIES) {
    return errorResponse(
      422,
      `Too many repositories: at most ${MAX_TOKEN_REPOSITORIES} can be listed.`,
      docs,
    );
  }
  const repositories: RepoRecord[] = [];
  for (const entry of named) {
    const repo =
      "name" in entry
        ? context.state.findRepo(installation.account, entry.name)
        : context.state.repoById(entry.id);
    if (repo === undefined || !apps.reaches(installation, repo)) {
      return errorResponse(
        422,
        "There is at least one repository that does not exist or is not accessible to the parent installation.",
        docs,
      );
    }
    if (!repositories.includes(repo)) repositories.push(repo);
  }
  const narrowed = named.length > 0;
  const { token, expiresAt } = apps.mint(app, installation, permissions, narrowed ? repositories : "all");
  return {
    status: 201,
    body: {
      token,
      expires_at: isoSeconds(expiresAt),
      permissions,
      repository_selection: narrowed || installation.repositories !== "all" ? "selected" : "all",
      ...(narrowed
        ? {
            repositories: repositories.map((repo) =>
              repositoryBody(repo, context.state.ownerOf(repo), "read", context.apiBase, context.webBase),
            ),
          }
        : {}),
    },
  };
}

/** The App endpoints, keyed by operationId (registered through `EmulatedApps.extension`). */
function appHandlers(apps: EmulatedApps): Readonly<Record<string, Handler>> {
  return {
    "apps/get-authenticated": withApp(apps, (app, context) => ({ status: 200, body: appBody(app, context) })),
    "apps/get-org-installation": lookup(apps, "Organization", "org"),
    "apps/get-user-installation": lookup(apps, "User", "username"),
    "apps/get-repo-installation": withApp(apps, (app, context) => {
      const repo = context.state.findRepo(context.params.owner ?? "", context.params.repo ?? "");
      const installation = repo === undefined ? undefined : apps.installationOn(app, repo.owner);
      return installation === undefined || repo === undefined || !apps.reaches(installation, repo)
        ? notFound(context)
        : { status: 200, body: installationBody(installation, app, context) };
    }),
    "apps/create-installation-access-token": withApp(apps, (app, context) =>
      createInstallationToken(apps, app, context),
    ),
  };
}

/** The operations the App endpoints implement. */
export const APP_OPERATIONS: readonly string[] = [...JWT_OPERATIONS];
