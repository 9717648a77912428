/**
 * The emulator's HTTP server: GitHub's REST API (secrets and variables at every scope, environments, organization
 * inventory, workflow files) on 127.0.0.1, validating every request and response against GitHub's OpenAPI
 * description (github.com's, GHE Cloud's or a GitHub Enterprise Server release's), with fault injection and
 * optional rate limits. Arranging and inspecting state without requests: `StateFacade` (state-api.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { listenOnLoopback } from "../loopback.ts";
import type { RequestLogEntry } from "./access-log.ts";
import { DEFAULT_API_VERSION, supportedApiVersions } from "./api-versions.ts";
import { EmulatedApps, type GitHubAppsEmulation } from "./apps.ts";
import type { EmulatorExtension, ExtensionAuthentication } from "./extension.ts";
import {
  defaultFaultMessage,
  FaultBook,
  type FaultHandle,
  type FaultRule,
  type FaultStatus,
} from "./faults.ts";
import type { Handler, HandlerResult, SecretWrittenEvent } from "./handler-kit.ts";
import { handlerTable } from "./handlers.ts";
import { type EmulatorLimits, RateLimiter } from "./limits.ts";
import { type GitHubDescription, GitHubOpenApi, type OpenApiOperation } from "./openapi.ts";
import { type EmulatorResponse, errorResponse, requestIdFor, standardHeaders } from "./responses.ts";
import { scopeLabel } from "./scopes.ts";
import { EmulatorState, type RepoRecord } from "./state.ts";
import { type GitHubStateApi, StateFacade } from "./state-api.ts";

/**
 * Called after each successful write of a secret or variable (and each change of who sees an organization secret
 * or variable), before GitHub's answer is sent. Throwing records a failure.
 */
export type SecretWrittenHook = (event: SecretWrittenEvent) => void | Promise<void>;

/** A request a handler answered, as the served hook sees it (no body, no credential). */
export interface ServedRequest {
  readonly method: string;
  /** The OpenAPI operation, e.g. `actions/list-environment-secrets`. */
  readonly operationId: string;
  /** The path's parameters by name (`owner`, `repo`, `environment_name`, …), decoded. */
  readonly params: Readonly<Record<string, string>>;
  readonly status: number;
}

/**
 * Called after a handler answered a request (not one a fault, a limit or a redirect answered), before the answer is
 * sent: for a test to act at an exact point of a client's reads, e.g. move a fake clock on while the client waits
 * for GitHub's answer. Throwing records a failure, like the write hook.
 */
export type ServedHook = (request: ServedRequest) => void | Promise<void>;

export interface GitHubEmulatorOptions {
  /** Write hook, e.g. to check an invariant at every instant of a rotation; see `setSecretWrittenHook`. */
  readonly onSecretWritten?: SecretWrittenHook;
  /** Rate limits to enforce (none by default). */
  readonly limits?: EmulatorLimits;
  /**
   * Which GitHub to be: the OpenAPI description requests and answers are matched and validated against. Default
   * `api.github.com`; `ghec` for GitHub Enterprise Cloud (GHE.com); `ghes-3.19` (or another release @octokit/openapi
   * ships) for GitHub Enterprise Server, which also serves under `/api/v3` and sends `X-GitHub-Enterprise-Version`.
   * Paths the description lacks (Codespaces on GHES) answer 404, as that GitHub would, and count as violations.
   */
  readonly description?: GitHubDescription;
  /** Serve under a path prefix (default: `/api/v3` for a GHES description, none otherwise). */
  readonly basePath?: string;
  /** Clock (ms since epoch) for secret timestamps, the access log and limit windows; default `Date.now`. */
  readonly now?: () => number;
  /** Extra endpoint groups (e.g. GitHub App endpoints); see extension.ts. */
  readonly extensions?: readonly EmulatorExtension[];
}

/** A running emulator and the handles tests use to arrange and inspect it. */
export interface GitHubEmulator extends GitHubStateApi {
  /** Base URL of the API, e.g. `http://127.0.0.1:43117` (plus basePath). */
  readonly url: string;
  /** The OpenAPI description it validates against. */
  readonly description: GitHubDescription;
  /** Access log of finished requests (no bodies, tokens or values). */
  readonly requests: readonly RequestLogEntry[];
  /** Contract breaches by the client or the emulator (method, path, what failed); tests expect none. */
  readonly violations: readonly string[];
  /** Errors thrown by the write hook or the served hook. */
  readonly invariantFailures: readonly string[];
  /** Requests rejected by the rate-limit emulation. */
  readonly limitViolations: number;
  /** Requests in progress right now. */
  readonly inFlight: number;
  /** Adds a fault rule; see FaultRule. */
  addFault(rule: FaultRule): FaultHandle;
  clearFaults(): void;
  /** Replaces (or with undefined, removes) the write hook. */
  setSecretWrittenHook(hook: SecretWrittenHook | undefined): void;
  /** Replaces (or with undefined, removes) the served hook (see ServedHook). */
  setServedHook(hook: ServedHook | undefined): void;
  /** Clears the access log, violations, invariant failures and rate-limit counters (state and faults stay). */
  resetCounters(): void;
  /** Stops the server, dropping open connections and pending delayed requests. */
  close(): Promise<void>;
  /** GitHub Apps: add one, install it, inspect the installation tokens minted (apps.ts). */
  readonly apps: GitHubAppsEmulation;
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
const API_VERSIONS_DOCS = "https://docs.github.com/rest/about-the-rest-api/api-versions";

/** A header's one value (Node joins repeated ones with `, `; GitHub clients send each header once). */
function headerValue(value: string | readonly string[] | undefined): string | undefined {
  return typeof value === "string" ? value : value?.[0];
}

/** `3.19.0` for `ghes-3.19`; undefined for descriptions that are not GitHub Enterprise Server's. */
function enterpriseVersion(description: GitHubDescription): string | undefined {
  const release = /^ghes-(\d+\.\d+)$/.exec(description)?.[1];
  return release === undefined ? undefined : `${release}.0`;
}

/** Starts an emulator on an OS-chosen port of 127.0.0.1. */
export async function startGitHubEmulator(options: GitHubEmulatorOptions = {}): Promise<GitHubEmulator> {
  const now = options.now ?? Date.now;
  const [openApi, state] = await Promise.all([
    GitHubOpenApi.load(options.description ?? "api.github.com"),
    EmulatorState.create(now),
  ]);
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

class EmulatorServer extends StateFacade implements GitHubEmulator {
  readonly #server: Server;
  readonly #handlers: ReadonlyMap<string, Handler>;
  readonly #extensions: readonly EmulatorExtension[];
  readonly #apps: EmulatedApps;
  readonly #enterpriseVersion: string | undefined;
  readonly #sockets = new Set<Socket>();
  readonly #closing = new AbortController();
  readonly #faults = new FaultBook();
  readonly #limiter: RateLimiter;
  readonly #basePath: string;
  #hook: SecretWrittenHook | undefined;
  #servedHook: ServedHook | undefined;
  #requests: RequestLogEntry[] = [];
  #violations: string[] = [];
  #invariantFailures: string[] = [];
  #sequence = 0;
  #inFlight = 0;
  #origin = "";

  constructor(
    private readonly openApi: GitHubOpenApi,
    state: EmulatorState,
    options: GitHubEmulatorOptions,
    private readonly now: () => number,
  ) {
    super(state);
    this.#hook = options.onSecretWritten;
    this.#limiter = new RateLimiter(options.limits ?? {}, now);
    // The GitHub App endpoints are an extension the emulator always serves (apps.ts).
    this.#apps = new EmulatedApps(state, now);
    this.#extensions = [this.#apps.extension, ...(options.extensions ?? [])];
    this.#handlers = handlerTable(this.#extensions);
    this.#enterpriseVersion = enterpriseVersion(openApi.description);
    const defaultBase = this.#enterpriseVersion === undefined ? "" : "/api/v3";
    this.#basePath = (options.basePath ?? defaultBase).replace(/\/+$/, "");
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
  get description(): GitHubDescription {
    return this.openApi.description;
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
  get apps(): GitHubAppsEmulation {
    return this.#apps;
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
  setServedHook(hook: ServedHook | undefined): void {
    this.#servedHook = hook;
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
      apiVersion: headerValue(req.headers["x-github-api-version"]),
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
    const handler = match === undefined ? undefined : this.#handlers.get(match.operation.operationId);
    if (match === undefined || handler === undefined) {
      const why =
        match === undefined
          ? this.openApi.description === "api.github.com"
            ? "no GitHub REST operation has this method and path"
            : `no operation in the ${this.openApi.description} description has this method and path`
          : `operation ${match.operation.operationId} is not implemented by the emulator`;
      this.#violate(exchange, `route not emulated: ${why}`);
      return { response: errorResponse(404, "Not Found", GENERIC_DOCS), check: "envelope" };
    }
    const { operation } = match;
    exchange.route = operation.template;
    exchange.operationId = operation.operationId;
    const supported = supportedApiVersions(this.openApi.description);
    if (exchange.apiVersion !== undefined && !supported.includes(exchange.apiVersion)) {
      this.#violate(
        exchange,
        `X-GitHub-Api-Version ${exchange.apiVersion} is not one ${this.openApi.description} supports (${supported.join(", ")})`,
      );
      return {
        response: errorResponse(400, `Unsupported API version ${exchange.apiVersion}`, API_VERSIONS_DOCS),
        check: "envelope",
      };
    }
    // Faults match an organization's endpoints by `owner` too.
    const owner = match.params.owner ?? match.params.org;
    const repo = match.params.repo;
    if (owner !== undefined && repo !== undefined) exchange.repo = `${owner}/${repo}`;

    const token = bearerToken(req.headers.authorization);
    const known =
      token === undefined || token === "" ? undefined : this.#authenticate(token, operation.operationId);
    if (known !== undefined && "refusal" in known) {
      return { response: errorResponse(401, known.refusal, GENERIC_DOCS), check: operation };
    }
    // An expired token is refused like a revoked one.
    const grant =
      known?.expiresAt !== undefined && known.expiresAt.getTime() <= this.now() ? undefined : known;
    if (grant === undefined) {
      const message = token === undefined ? "Requires authentication" : "Bad credentials";
      return { response: errorResponse(401, message, GENERIC_DOCS), check: operation };
    }
    exchange.login = grant.login;
    if (grant.kind === "classic") exchange.oauthScopes = (grant.scopes ?? ["repo"]).join(", ");
    // GitHub sends the header for personal tokens, not for installation tokens (which last an hour).
    if (grant.expiresAt !== undefined && grant.installation === undefined) {
      exchange.tokenExpiration = tokenExpirationHeader(grant.expiresAt);
    }

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
      path: exchange.path,
      body: json,
      grant,
      credential: token ?? "",
      apiBase: this.url,
      webBase: this.#origin,
    });
    if (result.violation !== undefined) this.#violate(exchange, result.violation);
    if (result.secretWritten !== undefined) await this.#runHook(result.secretWritten);
    await this.#runServedHook({
      method: exchange.method,
      operationId: operation.operationId,
      params: match.params,
      status: result.status,
    });
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

  /** The grant of a registered token, else the first extension's answer (a grant or a refusal) for the credential. */
  #authenticate(credential: string, operationId: string): ExtensionAuthentication {
    const grant = this.state.grantFor(credential);
    if (grant !== undefined) return grant;
    for (const extension of this.#extensions) {
      const answer = extension.authenticate?.(credential, this.now(), operationId);
      if (answer !== undefined) return answer;
    }
    return undefined;
  }

  async #runHook(event: SecretWrittenEvent): Promise<void> {
    if (this.#hook === undefined) return;
    try {
      await this.#hook(event);
    } catch (error) {
      const { scope } = event;
      // A repository's Actions secrets keep their original wording (`owner/repo NAME`).
      const where =
        scope.kind === "repository" && scope.store === "actions" && event.what === "secret"
          ? `${scope.owner}/${scope.repo}`
          : `${scopeLabel(scope)} ${event.what}`;
      this.#invariantFailures.push(`after writing ${where} ${event.name}: ${messageOf(error)}`);
    }
  }

  async #runServedHook(request: ServedRequest): Promise<void> {
    if (this.#servedHook === undefined) return;
    try {
      await this.#servedHook(request);
    } catch (error) {
      this.#invariantFailures.push(
        `after serving ${request.method} ${request.operationId}: ${messageOf(error)}`,
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
      ...standardHeaders(exchange.requestId, this.#selectedApiVersion(exchange.apiVersion)),
      // GitHub Enterprise Server names its release on every answer (X-GitHub-Enterprise-Version, e.g. 3.19.0),
      // as its API docs' "Schema" section showed: https://github.com/lerna/lerna/issues/1930
      ...(this.#enterpriseVersion === undefined
        ? {}
        : { "x-github-enterprise-version": this.#enterpriseVersion }),
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

  /** The version GitHub answers with: the one asked for, if this GitHub has it, else its default. */
  #selectedApiVersion(asked: string | undefined): string {
    return asked !== undefined && supportedApiVersions(this.openApi.description).includes(asked)
      ? asked
      : DEFAULT_API_VERSION;
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
