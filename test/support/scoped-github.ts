/**
 * A small GitHub on loopback for the adapter's scoped endpoints — environment, Dependabot, Codespaces and
 * organization secrets, Actions variables — while the GitHub emulator (scripts/local-stack/github-emulator) does not
 * serve them yet. Like the emulator it matches every request to an operation of GitHub's OpenAPI description
 * (@octokit/openapi), validates requests and responses against it (`problems` collects what does not match), keeps
 * each target's own key pair and opens what it receives (libsodium sealed boxes), so a test reads back the
 * plaintext GitHub would store. It has one token; `refuse` answers chosen operations with an error instead.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import sodium from "libsodium-wrappers";
import { GitHubOpenApi, type RouteMatch } from "../../scripts/local-stack/github-emulator/openapi.ts";

interface KeyPair {
  readonly keyId: string;
  readonly publicKey: Uint8Array;
  readonly privateKey: Uint8Array;
}

/** A secret as stored: its plaintext (opened), when it was written, and for an organization its visibility. */
export interface StoredSecret {
  readonly value: string;
  readonly updatedAt: string;
  readonly visibility?: string;
  readonly selectedRepositoryIds?: readonly number[];
}

/** A variable as stored. */
export interface StoredVariable {
  readonly value: string;
  readonly visibility?: string;
  readonly selectedRepositoryIds?: readonly number[];
}

/** One request the server answered. */
export interface ScopedRequest {
  readonly method: string;
  readonly path: string;
  readonly operationId: string;
  readonly status: number;
  readonly authorization: string | undefined;
}

/** An error GitHub could answer: status, message and headers. */
export interface Refusal {
  readonly status: number;
  readonly message: string;
  readonly headers?: Readonly<Record<string, string>>;
}

interface Answer {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

const DOCS = "https://docs.github.com/rest";
const TIME = "2026-01-01T00:00:00Z";

/** The scope a request's path parameters name: `repo:o/r`, `env:o/r/e`, `org:o`, with the store. */
function scopeOf(operationId: string, params: Readonly<Record<string, string>>): string {
  const store = operationId.split("/")[0] ?? "actions";
  const { owner, repo, environment_name: environment, org } = params;
  if (environment !== undefined) return `env:${owner}/${repo}/${environment}`.toLowerCase();
  if (org !== undefined) return `org:${org}@${store}`.toLowerCase();
  return `repo:${owner}/${repo}@${store}`.toLowerCase();
}

export class ScopedGitHub {
  readonly url: string;
  readonly problems: string[] = [];
  readonly requests: ScopedRequest[] = [];
  /** Secrets by `scope:NAME`. */
  readonly secrets = new Map<string, StoredSecret>();
  /** Variables by `scope:NAME`. */
  readonly variables = new Map<string, StoredVariable>();
  /** Repositories (`owner/name`, lower case) with their IDs, environments, archived flag. */
  readonly repos = new Map<string, { id: number; environments: Set<string>; archived: boolean }>();
  /** Organizations (lower case) with their IDs. */
  readonly orgs = new Map<string, number>();
  /** `owner/name` (lower case) that moved: GET answers 301 to `/repositories/{id}`. */
  readonly moved = new Map<string, number>();
  /** Operations answered with an error instead (by operationId). */
  readonly refusals = new Map<string, Refusal>();
  /** Scopes listed in `X-OAuth-Scopes` (a classic token); empty for a fine-grained token. */
  oauthScopes: string[] = [];
  readonly #keys = new Map<string, KeyPair>();
  readonly #server: Server;
  readonly #api: GitHubOpenApi;
  readonly #basePath: string;
  #nextId = 5001;

  private constructor(server: Server, api: GitHubOpenApi, basePath: string) {
    this.#server = server;
    this.#api = api;
    this.#basePath = basePath;
    const { port } = server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}${basePath}`;
  }

  /** Starts on a free loopback port; `basePath` `/api/v3` serves it as a GitHub Enterprise Server does. */
  static async start(options: { readonly basePath?: string } = {}): Promise<ScopedGitHub> {
    await sodium.ready;
    const api = await GitHubOpenApi.load();
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const github = new ScopedGitHub(server, api, options.basePath ?? "");
    server.on("request", (request, response) => {
      github.#handle(request, response).catch((error: unknown) => {
        github.problems.push(`server error: ${String(error)}`);
        response.writeHead(500).end();
      });
    });
    return github;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  addOrg(org: string): number {
    const id = this.#nextId++;
    this.orgs.set(org.toLowerCase(), id);
    return id;
  }

  addRepo(owner: string, name: string, environments: readonly string[] = []): number {
    const id = this.#nextId++;
    this.repos.set(`${owner}/${name}`.toLowerCase(), {
      id,
      environments: new Set(environments.map((e) => e.toLowerCase())),
      archived: false,
    });
    return id;
  }

  /** The plaintext of a secret as GitHub would store it; `scope` as `repo:o/r@dependabot`, `env:o/r/e`, `org:o@actions`. */
  secret(scope: string, name: string): StoredSecret | undefined {
    return this.secrets.get(`${scope.toLowerCase()}:${name.toUpperCase()}`);
  }

  variable(scope: string, name: string): StoredVariable | undefined {
    return this.variables.get(`${scope.toLowerCase()}:${name.toUpperCase()}`);
  }

  #keyPair(scope: string): KeyPair {
    let pair = this.#keys.get(scope);
    if (pair === undefined) {
      const { publicKey, privateKey } = sodium.crypto_box_keypair();
      pair = { keyId: randomUUID(), publicKey, privateKey };
      this.#keys.set(scope, pair);
    }
    return pair;
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    const method = request.method ?? "GET";
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    const body: unknown = text === "" ? undefined : JSON.parse(text);
    const path = url.pathname.startsWith(this.#basePath)
      ? url.pathname.slice(this.#basePath.length)
      : undefined;
    const match = path === undefined ? undefined : this.#api.match(method, path);
    if (match === undefined) {
      this.problems.push(`${method} ${url.pathname} is not in GitHub's API description`);
      this.#send(response, { status: 404, body: { message: "Not Found", documentation_url: DOCS } });
      return;
    }
    const invalid = this.#api.validateRequest(match, url.searchParams, body);
    if (invalid !== undefined) this.problems.push(...invalid.problems.map((p) => `${method} ${path}: ${p}`));
    const answer = this.#answer(match, body);
    if (match.operation.operationId !== "repos/get" || answer.status !== 200) {
      // repos/get's full-repository body is the emulator's to build; here only its id and archived flag matter.
      const wrong = this.#api.validateResponse(match.operation, answer.status, answer.body);
      this.problems.push(...wrong.map((p) => `answer to ${method} ${path}: ${p}`));
    }
    this.requests.push({
      method,
      path: path ?? url.pathname,
      operationId: match.operation.operationId,
      status: answer.status,
      authorization: request.headers.authorization,
    });
    this.#send(response, answer);
  }

  #send(response: ServerResponse, answer: Answer): void {
    const headers: Record<string, string> = {
      "x-oauth-scopes": this.oauthScopes.join(", "),
      ...(answer.body === undefined ? {} : { "content-type": "application/json; charset=utf-8" }),
      ...answer.headers,
    };
    response.writeHead(answer.status, headers);
    response.end(answer.body === undefined ? undefined : JSON.stringify(answer.body));
  }

  #answer(match: RouteMatch, body: unknown): Answer {
    const { operationId } = match.operation;
    const params = match.params;
    const refusal = this.refusals.get(operationId);
    if (refusal !== undefined) {
      return {
        status: refusal.status,
        body: {
          message: refusal.message,
          documentation_url: match.operation.docsUrl,
          status: String(refusal.status),
        },
        ...(refusal.headers === undefined ? {} : { headers: refusal.headers }),
      };
    }
    const notFound: Answer = {
      status: 404,
      body: { message: "Not Found", documentation_url: match.operation.docsUrl },
    };
    const owner = params.owner ?? params.org ?? "";
    const repoKey = `${params.owner}/${params.repo}`.toLowerCase();
    const repo = params.repo === undefined ? undefined : this.repos.get(repoKey);
    if (params.repo !== undefined) {
      const movedTo = this.moved.get(repoKey);
      if (movedTo !== undefined) {
        return {
          status: 301,
          body: {
            message: "Moved Permanently",
            url: `${this.url}/repositories/${movedTo}`,
            documentation_url: DOCS,
          },
          headers: { location: `${this.url}/repositories/${movedTo}` },
        };
      }
      if (repo === undefined) return notFound;
      if (
        params.environment_name !== undefined &&
        !repo.environments.has(params.environment_name.toLowerCase())
      ) {
        return notFound;
      }
    }
    if (params.org !== undefined && !this.orgs.has(owner.toLowerCase())) return notFound;
    const scope = scopeOf(operationId, params);
    const verb = operationId.split("/")[1] ?? "";
    if (operationId === "repos/get") return { status: 200, body: { id: repo?.id, archived: repo?.archived } };
    if (operationId === "orgs/get")
      return { status: 200, body: organizationBody(owner, this.orgs.get(owner.toLowerCase()) ?? 0) };
    if (operationId === "repos/get-environment")
      return { status: 200, body: environmentBody(params.environment_name ?? "") };
    if (verb.endsWith("public-key")) {
      const pair = this.#keyPair(scope);
      return {
        status: 200,
        body: { key_id: pair.keyId, key: sodium.to_base64(pair.publicKey, sodium.base64_variants.ORIGINAL) },
      };
    }
    const isOrg = params.org !== undefined;
    const wanted = `${scope}:${(params.secret_name ?? params.name ?? "").toUpperCase()}`;
    if (verb.startsWith("create-or-update") && verb.endsWith("secret")) {
      const {
        encrypted_value: sealed,
        key_id: keyId,
        visibility,
        selected_repository_ids: selected,
      } = body as {
        encrypted_value: string;
        key_id: string;
        visibility?: string;
        selected_repository_ids?: number[];
      };
      const pair = this.#keyPair(scope);
      if (keyId !== pair.keyId)
        return { status: 422, body: { message: "Bad key_id", documentation_url: DOCS } };
      const opened = sodium.crypto_box_seal_open(
        sodium.from_base64(sealed, sodium.base64_variants.ORIGINAL),
        pair.publicKey,
        pair.privateKey,
      );
      const existed = this.secrets.has(wanted);
      this.secrets.set(wanted, {
        value: sodium.to_string(opened),
        updatedAt: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
        ...(visibility === undefined ? {} : { visibility }),
        ...(selected === undefined ? {} : { selectedRepositoryIds: selected }),
      });
      return existed ? { status: 204 } : { status: 201, body: {} };
    }
    if (verb.startsWith("get-") && verb.endsWith("secret")) {
      const stored = this.secrets.get(wanted);
      if (stored === undefined) return notFound;
      return {
        status: 200,
        body: {
          name: wanted.slice(wanted.lastIndexOf(":") + 1),
          created_at: TIME,
          updated_at: stored.updatedAt,
          ...(isOrg ? { visibility: stored.visibility ?? "all" } : {}),
        },
      };
    }
    if (verb.startsWith("create-") && verb.endsWith("variable")) {
      const {
        name,
        value,
        visibility,
        selected_repository_ids: selected,
      } = body as StoredVariable & {
        name: string;
        selected_repository_ids?: number[];
      };
      const key = `${scope}:${name.toUpperCase()}`;
      if (this.variables.has(key))
        return { status: 409, body: { message: "Already exists", documentation_url: DOCS } };
      this.variables.set(key, {
        value,
        ...(visibility === undefined ? {} : { visibility }),
        ...(selected === undefined ? {} : { selectedRepositoryIds: selected }),
      });
      return { status: 201, body: {} };
    }
    if (verb.startsWith("update-") && verb.endsWith("variable")) {
      const before = this.variables.get(wanted);
      if (before === undefined) return notFound;
      const {
        value,
        visibility,
        selected_repository_ids: selected,
      } = body as StoredVariable & {
        selected_repository_ids?: number[];
      };
      this.variables.set(wanted, {
        ...before,
        value,
        ...(visibility === undefined ? {} : { visibility }),
        ...(selected === undefined ? {} : { selectedRepositoryIds: selected }),
      });
      return { status: 204 };
    }
    if (verb.startsWith("get-") && verb.endsWith("variable")) {
      const stored = this.variables.get(wanted);
      if (stored === undefined) return notFound;
      return {
        status: 200,
        body: {
          name: wanted.slice(wanted.lastIndexOf(":") + 1),
          value: stored.value,
          created_at: TIME,
          updated_at: TIME,
          ...(isOrg ? { visibility: stored.visibility ?? "all" } : {}),
        },
      };
    }
    this.problems.push(`${operationId} is not served here`);
    return notFound;
  }
}

function organizationBody(login: string, id: number): Record<string, unknown> {
  const api = `https://api.github.com/orgs/${login}`;
  return {
    login,
    id,
    node_id: Buffer.from(`O_${id}`).toString("base64"),
    url: api,
    repos_url: `${api}/repos`,
    events_url: `${api}/events`,
    hooks_url: `${api}/hooks`,
    issues_url: `${api}/issues`,
    members_url: `${api}/members{/member}`,
    public_members_url: `${api}/public_members{/member}`,
    avatar_url: `https://avatars.githubusercontent.com/u/${id}`,
    description: null,
    html_url: `https://github.com/${login}`,
    has_organization_projects: true,
    has_repository_projects: true,
    public_repos: 0,
    public_gists: 0,
    followers: 0,
    following: 0,
    type: "Organization",
    created_at: TIME,
    updated_at: TIME,
    archived_at: null,
  };
}

function environmentBody(name: string): Record<string, unknown> {
  return {
    id: 1,
    node_id: "EN_1",
    name,
    url: `https://api.github.com/environments/${encodeURIComponent(name)}`,
    html_url: `https://github.com/environments/${encodeURIComponent(name)}`,
    created_at: TIME,
    updated_at: TIME,
  };
}
