/**
 * The emulator's HTTP server: GitHub's REST API for Actions secrets on 127.0.0.1, validating every request and
 * response against GitHub's OpenAPI description, with fault injection and optional rate limits.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { listenOnLoopback } from "../loopback.ts";
import type { RequestLogEntry } from "./access-log.ts";
import {
  defaultFaultMessage,
  FaultBook,
  type FaultHandle,
  type FaultRule,
  type FaultStatus,
} from "./faults.ts";
import { type HandlerResult, handlerFor, type SecretWrittenEvent } from "./handlers.ts";
import { type EmulatorLimits, RateLimiter } from "./limits.ts";
import { GitHubOpenApi, type OpenApiOperation } from "./openapi.ts";
import { type EmulatorResponse, errorResponse, requestIdFor, standardHeaders } from "./responses.ts";
import {
  EmulatorState,
  type RepoPublicKey,
  type RepoRecord,
  type SecretMeta,
  type TokenGrant,
} from "./state.ts";

/** Called after each successful secret PUT, before GitHub's answer is sent. Throwing records a failure. */
export type SecretWrittenHook = (event: SecretWrittenEvent) => void | Promise<void>;

export interface GitHubEmulatorOptions {
  /** Write hook, e.g. to check an invariant at every instant of a rotation; see `setSecretWrittenHook`. */
  readonly onSecretWritten?: SecretWrittenHook;
  /** Rate limits to enforce (none by default). */
  readonly limits?: EmulatorLimits;
  /** Serve under a path prefix, like GitHub Enterprise Server's `/api/v3` (default: none). */
  readonly basePath?: string;
  /** Clock (ms since epoch) for secret timestamps, the access log and limit windows; default `Date.now`. */
  readonly now?: () => number;
}

/** A running emulator and the handles tests use to arrange and inspect it. */
export interface GitHubEmulator {
  /** Base URL of the API, e.g. `http://127.0.0.1:43117` (plus basePath). */
  readonly url: string;
  /** Access log of finished requests (no bodies, tokens or values). */
  readonly requests: readonly RequestLogEntry[];
  /** Contract breaches by the client or the emulator (method, path, what failed); tests expect none. */
  readonly violations: readonly string[];
  /** Errors thrown by the write hook. */
  readonly invariantFailures: readonly string[];
  /** Requests rejected by the rate-limit emulation. */
  readonly limitViolations: number;
  /** Requests in progress right now. */
  readonly inFlight: number;
  /** Adds a repository (private by default) with a fresh Actions key pair. Idempotent. */
  addRepo(owner: string, name: string, options?: { readonly private?: boolean }): void;
  /** Registers a token; replaces an earlier grant for the same token. */
  addToken(token: string, grant: TokenGrant): void;
  /** Forgets a token: it then gets 401 Bad credentials. */
  revokeToken(token: string): void;
  /** The repository's current public key. */
  publicKey(owner: string, repo: string): RepoPublicKey;
  /**
   * Archives (or with `false`, unarchives) a repository: `GET /repos/…` reports `archived`, and GitHub answers
   * every write to it 403 "Repository was archived so is read-only.".
   */
  archiveRepo(owner: string, repo: string, archived?: boolean): void;
  /**
   * Renames a repository (`to.owner` unchanged) or transfers it (another owner): it keeps its ID, key pair and
   * secrets, and requests to its old name get GitHub's redirect — 301 for GET, 307 for other methods, `Location`
   * `…/repositories/{id}/…` — until a repository is created under the old name (`addRepo`).
   */
  moveRepo(owner: string, repo: string, to: { readonly owner: string; readonly name: string }): void;
  /** Deletes a repository (with its redirects); `addRepo` under the same name then makes a new one, with a new ID. */
  deleteRepo(owner: string, repo: string): void;
  /** GitHub's numeric ID of the repository now under this name. */
  repoId(owner: string, repo: string): number;
  /** Whether a repository is under this name now (not moved away, not deleted). */
  hasRepo(owner: string, repo: string): boolean;
  /** Gives the repository a new key pair; PUTs sealed for the old key id then get 422. */
  rotateRepoPublicKey(owner: string, repo: string): RepoPublicKey;
  /** Stores a secret directly, as if written earlier (no request, no hook). */
  setSecret(owner: string, repo: string, name: string, value: string): void;
  /** Decrypted value of a secret, or undefined when absent. */
  secretValue(owner: string, repo: string, name: string): string | undefined;
  secretMeta(owner: string, repo: string, name: string): SecretMeta | undefined;
  /** Names of the repository's secrets, sorted. */
  secretNames(owner: string, repo: string): string[];
  /** Adds a fault rule; see FaultRule. */
  addFault(rule: FaultRule): FaultHandle;
  clearFaults(): void;
  /** Replaces (or with undefined, removes) the write hook. */
  setSecretWrittenHook(hook: SecretWrittenHook | undefined): void;
  /** Clears the access log, violations, invariant failures and rate-limit counters (state and faults stay). */
  resetCounters(): void;
  /** Stops the server, dropping open connections and pending delayed requests. */
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;
const REDIRECT_DOCS =
  "https://docs.github.com/rest/guides/best-practices-for-using-the-rest-api#follow-redirects";

/**
 * GitHub documents 301 for `GET /repos/{owner}/{repo}` (checked against that operation); for every other request it
 * says any request may be redirected, so those answers are checked as GitHub's error envelope.
 * https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api#follow-redirects
 */
function redirectCheck(exchange: Exchange, operation: OpenApiOperation): OpenApiOperation | "envelope" {
  return operation.raw.responses[exchange.method === "GET" ? "301" : "307"] === undefined
    ? "envelope"
    : operation;
}

/** `2026-06-03 19:52:44 UTC`, the form GitHub sends the token's expiration in. */
function tokenExpirationHeader(at: Date): string {
  return `${at.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}
const GENERIC_DOCS = "https://docs.github.com/rest";

/** Starts an emulator on an OS-chosen port of 127.0.0.1. */
export async function startGitHubEmulator(options: GitHubEmulatorOptions = {}): Promise<GitHubEmulator> {
  const now = options.now ?? Date.now;
  const [openApi, state] = await Promise.all([GitHubOpenApi.load(), EmulatorState.create(now)]);
  const emulator = new EmulatorServer(openApi, state, options, now);
  await emulator.listen();
  return emulator;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** One request in progress: what the access log will say about it. */
type Exchange = Mutable<Omit<RequestLogEntry, "status" | "dropped" | "timestamp" | "endedAt">> & {
  readonly requestId: string;
  /** `X-OAuth-Scopes` for a classic token's answers (GitHub lists the token's scopes there). */
  oauthScopes?: string;
  /** `GitHub-Authentication-Token-Expiration` for the answers to a token with an expiration date. */
  tokenExpiration?: string;
  /** Set once the exchange is logged, so a failure while answering cannot log it twice. */
  finished: boolean;
};

function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const [scheme = "", credentials = ""] = header.trim().split(/\s+/, 2);
  switch (scheme.toLowerCase()) {
    case "token":
    case "bearer":
      return credentials;
    case "basic": {
      // Basic auth carries the token as password (`user:token`), as older clients send it.
      const decoded = Buffer.from(credentials, "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      return colon === -1 ? decoded : decoded.slice(colon + 1);
    }
    default:
      return "";
  }
}

function readBody(req: IncomingMessage): Promise<Buffer | "too-large"> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on("end", () => resolve(size > MAX_BODY_BYTES ? "too-large" : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

class EmulatorServer implements GitHubEmulator {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #closing = new AbortController();
  readonly #faults = new FaultBook();
  readonly #limiter: RateLimiter;
  readonly #basePath: string;
  #hook: SecretWrittenHook | undefined;
  #requests: RequestLogEntry[] = [];
  #violations: string[] = [];
  #invariantFailures: string[] = [];
  #sequence = 0;
  #inFlight = 0;
  #origin = "";

  constructor(
    private readonly openApi: GitHubOpenApi,
    private readonly state: EmulatorState,
    options: GitHubEmulatorOptions,
    private readonly now: () => number,
  ) {
    this.#hook = options.onSecretWritten;
    this.#limiter = new RateLimiter(options.limits ?? {}, now);
    this.#basePath = (options.basePath ?? "").replace(/\/+$/, "");
    if (this.#basePath !== "" && !this.#basePath.startsWith("/")) {
      throw new Error(`github-emulator: basePath must start with "/", got "${options.basePath}"`);
    }
    this.#server = createServer((req, res) => {
      void this.#serve(req, res);
    });
    this.#server.on("connection", (socket) => {
      this.#sockets.add(socket);
      socket.on("close", () => this.#sockets.delete(socket));
    });
  }

  async listen(): Promise<void> {
    this.#origin = await listenOnLoopback(this.#server);
  }

  get url(): string {
    return `${this.#origin}${this.#basePath}`;
  }
  get requests(): readonly RequestLogEntry[] {
    return this.#requests;
  }
  get violations(): readonly string[] {
    return this.#violations;
  }
  get invariantFailures(): readonly string[] {
    return this.#invariantFailures;
  }
  get limitViolations(): number {
    return this.#limiter.rejections;
  }
  get inFlight(): number {
    return this.#inFlight;
  }

  addRepo(owner: string, name: string, options: { readonly private?: boolean } = {}): void {
    this.state.addRepo(owner, name, options);
  }
  addToken(token: string, grant: TokenGrant): void {
    this.state.addToken(token, grant);
  }
  revokeToken(token: string): void {
    this.state.revokeToken(token);
  }
  publicKey(owner: string, repo: string): RepoPublicKey {
    return this.state.publicKey(this.state.requireRepo(owner, repo));
  }
  archiveRepo(owner: string, repo: string, archived = true): void {
    this.state.requireRepo(owner, repo).archived = archived;
  }
  rotateRepoPublicKey(owner: string, repo: string): RepoPublicKey {
    return this.state.rotatePublicKey(this.state.requireRepo(owner, repo));
  }
  moveRepo(owner: string, repo: string, to: { readonly owner: string; readonly name: string }): void {
    this.state.moveRepo(owner, repo, to);
  }
  deleteRepo(owner: string, repo: string): void {
    this.state.deleteRepo(owner, repo);
  }
  repoId(owner: string, repo: string): number {
    return this.state.requireRepo(owner, repo).id;
  }
  hasRepo(owner: string, repo: string): boolean {
    return this.state.findRepo(owner, repo) !== undefined;
  }
  setSecret(owner: string, repo: string, name: string, value: string): void {
    this.state.putSecret(this.state.requireRepo(owner, repo), name, value);
  }
  secretValue(owner: string, repo: string, name: string): string | undefined {
    return this.state.secretValue(this.state.requireRepo(owner, repo), name);
  }
  secretMeta(owner: string, repo: string, name: string): SecretMeta | undefined {
    return this.state.secretMeta(this.state.requireRepo(owner, repo), name);
  }
  secretNames(owner: string, repo: string): string[] {
    return this.state.listSecrets(this.state.requireRepo(owner, repo)).map((meta) => meta.name);
  }
  addFault(rule: FaultRule): FaultHandle {
    return this.#faults.add(rule);
  }
  clearFaults(): void {
    this.#faults.clear();
  }
  setSecretWrittenHook(hook: SecretWrittenHook | undefined): void {
    this.#hook = hook;
  }
  resetCounters(): void {
    this.#requests = [];
    this.#violations = [];
    this.#invariantFailures = [];
    this.#limiter.reset();
  }

  close(): Promise<void> {
    this.#closing.abort();
    return new Promise((resolve, reject) => {
      this.#server.close((error) => (error === undefined ? resolve() : reject(error)));
      for (const socket of this.#sockets) socket.destroy();
    });
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const startedAt = this.now();
    const id = ++this.#sequence;
    this.#inFlight++;
    const method = (req.method ?? "GET").toUpperCase();
    const exchange: Exchange = {
      id,
      method,
      path: new URL(req.url ?? "/", "http://emulator.invalid").pathname,
      route: undefined,
      operationId: undefined,
      repo: undefined,
      login: undefined,
      fault: false,
      limited: false,
      startedAt,
      inFlightAtStart: this.#inFlight,
      requestId: requestIdFor(id, startedAt),
      finished: false,
    };
    try {
      const outcome = await this.#process(req, exchange);
      if (outcome === "drop") {
        res.destroy();
        this.#finish(exchange, undefined);
        return;
      }
      this.#send(res, exchange, outcome);
    } catch (error) {
      if (exchange.finished) return;
      if (req.destroyed || res.destroyed) {
        // The client went away (e.g. its own timeout); nothing to answer and nothing wrong with the emulator.
        this.#finish(exchange, undefined);
        return;
      }
      this.#violate(exchange, `emulator error: ${messageOf(error)}`);
      this.#send(res, exchange, {
        response: errorResponse(500, "Server Error", GENERIC_DOCS),
        check: "envelope",
      });
    }
  }

  /** Runs the request through routing, auth, validation, faults, limits and the handler. */
  async #process(req: IncomingMessage, exchange: Exchange): Promise<Outgoing | "drop"> {
    const body = await readBody(req);
    const url = new URL(req.url ?? "/", "http://emulator.invalid");
    const inBase = url.pathname === this.#basePath || url.pathname.startsWith(`${this.#basePath}/`);
    if (inBase) exchange.path = url.pathname.slice(this.#basePath.length) || "/";
    const match = inBase ? this.openApi.match(exchange.method, exchange.path) : undefined;
    const handler = match === undefined ? undefined : handlerFor(match.operation.operationId);
    if (match === undefined || handler === undefined) {
      const why =
        match === undefined
          ? "no GitHub REST operation has this method and path"
          : `operation ${match.operation.operationId} is not implemented by the emulator`;
      this.#violate(exchange, `route not emulated: ${why}`);
      return { response: errorResponse(404, "Not Found", GENERIC_DOCS), check: "envelope" };
    }
    const { operation } = match;
    exchange.route = operation.template;
    exchange.operationId = operation.operationId;
    const owner = match.params.owner;
    const repo = match.params.repo;
    if (owner !== undefined && repo !== undefined) exchange.repo = `${owner}/${repo}`;

    const token = bearerToken(req.headers.authorization);
    const known = token === undefined || token === "" ? undefined : this.state.grantFor(token);
    // An expired token is refused like a revoked one.
    const grant =
      known?.expiresAt !== undefined && known.expiresAt.getTime() <= this.now() ? undefined : known;
    if (grant === undefined) {
      const message = token === undefined ? "Requires authentication" : "Bad credentials";
      return { response: errorResponse(401, message, GENERIC_DOCS), check: operation };
    }
    exchange.login = grant.login;
    if (grant.kind === "classic") exchange.oauthScopes = (grant.scopes ?? ["repo"]).join(", ");
    if (grant.expiresAt !== undefined) exchange.tokenExpiration = tokenExpirationHeader(grant.expiresAt);

    if (body === "too-large") {
      this.#violate(exchange, `request body is larger than ${MAX_BODY_BYTES} bytes`);
      return { response: errorResponse(413, "Payload Too Large", operation.docsUrl), check: operation };
    }
    let json: unknown;
    if (body.length > 0) {
      try {
        json = JSON.parse(body.toString("utf8"));
      } catch {
        this.#violate(exchange, "request body is not JSON");
        return { response: errorResponse(400, "Problems parsing JSON", operation.docsUrl), check: operation };
      }
    }
    const problems = this.openApi.validateRequest(match, url.searchParams, json);
    if (problems !== undefined) {
      this.#violate(
        exchange,
        `request does not match the OpenAPI description: ${problems.problems.join("; ")}`,
      );
      const message = `Invalid request.\n\n${problems.problems.join("\n")}`;
      return { response: errorResponse(problems.status, message, operation.docsUrl), check: operation };
    }

    const fault = this.#faults.take({
      method: exchange.method,
      template: operation.template,
      operationId: operation.operationId,
      owner,
      repo,
    });
    if (fault !== undefined) {
      exchange.fault = true;
      const faulted = await this.#applyFault(fault, operation);
      if (faulted !== undefined) return faulted;
    }

    const rejection = this.#limiter.admit(exchange.method, grant.login, this.#inFlight);
    if (rejection !== undefined) {
      exchange.limited = true;
      exchange.limitedBy = rejection.kind;
      return {
        response: errorResponse(403, rejection.message, operation.docsUrl, rejection.headers),
        check: operation,
      };
    }

    const moved =
      owner === undefined || repo === undefined ? undefined : this.state.redirectFor(grant, owner, repo);
    if (moved !== undefined) {
      return { response: this.#redirect(exchange, moved), check: redirectCheck(exchange, operation) };
    }

    const result = handler({
      state: this.state,
      operation,
      params: match.params,
      query: url.searchParams,
      body: json,
      grant,
      apiBase: this.url,
      webBase: this.#origin,
    });
    if (result.violation !== undefined) this.#violate(exchange, result.violation);
    if (result.secretWritten !== undefined) await this.#runHook(result.secretWritten);
    return { response: result, check: operation };
  }

  /** Returns the fault's answer, "drop", or undefined to continue normally (a delay-only fault). */
  async #applyFault(fault: FaultRule, operation: OpenApiOperation): Promise<Outgoing | "drop" | undefined> {
    if (fault.delayMs !== undefined) {
      try {
        await delay(fault.delayMs, undefined, { signal: this.#closing.signal });
      } catch {
        return "drop"; // The emulator is closing.
      }
    }
    if (fault.drop === true) return "drop";
    if (fault.status === undefined) return undefined;
    const status: FaultStatus = fault.status;
    const response: EmulatorResponse =
      fault.body !== undefined
        ? { status, body: fault.body, headers: fault.headers ?? {} }
        : errorResponse(
            status,
            fault.message ?? defaultFaultMessage(status),
            operation.docsUrl,
            fault.headers,
          );
    return { response, check: "envelope" };
  }

  /**
   * GitHub's answer to a request for a renamed or transferred repository's old name: 301 for GET (and HEAD), 307
   * for other methods, `Location` the same request under `/repositories/{id}`.
   * https://developer.github.com/changes/2015-04-17-preview-repository-redirects/
   */
  #redirect(exchange: Exchange, repo: RepoRecord): EmulatorResponse {
    const permanent = exchange.method === "GET" || exchange.method === "HEAD";
    const rest = exchange.path.split("/").slice(4).join("/");
    const location = `${this.url}/repositories/${repo.id}${rest === "" ? "" : `/${rest}`}`;
    return {
      status: permanent ? 301 : 307,
      body: {
        message: permanent ? "Moved Permanently" : "Temporary Redirect",
        url: location,
        documentation_url: REDIRECT_DOCS,
      },
      headers: { location },
    };
  }

  async #runHook(event: SecretWrittenEvent): Promise<void> {
    if (this.#hook === undefined) return;
    try {
      await this.#hook(event);
    } catch (error) {
      this.#invariantFailures.push(
        `after writing ${event.owner}/${event.repo} ${event.name}: ${messageOf(error)}`,
      );
    }
  }

  #send(res: ServerResponse, exchange: Exchange, outgoing: Outgoing): void {
    const { response, check } = outgoing;
    const problems =
      check === "envelope"
        ? this.openApi.validateErrorEnvelope(response.body)
        : this.openApi.validateResponse(check, response.status, response.body);
    if (problems.length > 0) {
      this.#violate(
        exchange,
        `response ${response.status} does not match the OpenAPI description: ${problems.join("; ")}`,
      );
    }
    const text = response.body === undefined ? undefined : JSON.stringify(response.body);
    const headers: Record<string, string> = {
      ...standardHeaders(exchange.requestId),
      ...this.#limiter.headers(exchange.login),
      ...(exchange.oauthScopes === undefined ? {} : { "x-oauth-scopes": exchange.oauthScopes }),
      ...(exchange.tokenExpiration === undefined
        ? {}
        : { "github-authentication-token-expiration": exchange.tokenExpiration }),
      ...(text === undefined
        ? {}
        : {
            "content-type": "application/json; charset=utf-8",
            "content-length": String(Buffer.byteLength(text)),
          }),
      ...response.headers,
    };
    if (!res.destroyed) {
      res.writeHead(response.status, headers);
      res.end(text);
    }
    this.#finish(exchange, response.status);
  }

  #finish(exchange: Exchange, status: number | undefined): void {
    this.#inFlight--;
    if (exchange.finished) return;
    exchange.finished = true;
    const {
      requestId: _requestId,
      finished: _finished,
      oauthScopes: _oauthScopes,
      tokenExpiration: _tokenExpiration,
      ...entry
    } = exchange;
    this.#requests.push({
      ...entry,
      status,
      dropped: status === undefined,
      timestamp: entry.startedAt,
      endedAt: this.now(),
    });
  }

  #violate(exchange: Exchange, what: string): void {
    const operation = exchange.operationId === undefined ? "" : ` (${exchange.operationId})`;
    this.#violations.push(`${exchange.method} ${exchange.path}${operation}: ${what}`);
  }
}

/** A response plus how to check it: against an operation's documented responses, or GitHub's error envelope. */
interface Outgoing {
  readonly response: EmulatorResponse | HandlerResult;
  readonly check: OpenApiOperation | "envelope";
}
