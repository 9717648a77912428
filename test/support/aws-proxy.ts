/**
 * A loopback HTTP proxy between the Lambda under test and its two backends — moto (as `AWS_ENDPOINT_URL`) and
 * the GitHub emulator (as the GitHub API URL, under {@link GITHUB_PREFIX}) — that names and counts every call
 * the function makes and can make any one of them go wrong:
 *
 * - `kill`: the call is forwarded and takes effect, then the Lambda process is killed before it sees the
 *   answer (a sandbox dying right after a call, the worst moment for a crash);
 * - `error`: the call is answered HTTP 500 in the service's own error format without being forwarded, on every
 *   attempt (SDK and octokit retries included), so the function sees the failure;
 * - `drop`: the call is forwarded and takes effect, then the connection is dropped without an answer, on every
 *   attempt: the function sees a network error although the change happened.
 *
 * A call is a logical request: its retries are attempts of the same call (the AWS SDK's
 * `amz-sdk-invocation-id`; for GitHub, the same method and path as a call whose last attempt failed). Calls are
 * labelled from the request (`X-Amz-Target`, the query protocol's `Action=`, S3's method and path, GitHub's
 * method and path), so a fault can target "the 2nd `secretsmanager:PutSecretValue state`" independently of the
 * order of parallel calls.
 *
 * Conditional S3 writes (If-None-Match / If-Match) to one object are sent to moto one at a time: S3 makes them
 * atomic, moto 5.2.5 does not (see `#oneAtATime`).
 */
import { randomUUID } from "node:crypto";
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { Socket } from "node:net";
import { listenOnLoopback } from "../../scripts/local-stack/loopback.ts";

/** Path prefix under which the proxy serves GitHub: point the function's GitHub API URL at `url + GITHUB_PREFIX`. */
export const GITHUB_PREFIX = "/github";

export type ProxyService = "iam" | "sts" | "s3" | "secretsmanager" | "github" | (string & {});

/** One logical call of the function, as the proxy saw it. */
export interface ProxiedCall {
  /** 1-based position among the calls since the proxy started (or was last reset). */
  readonly seq: number;
  readonly service: ProxyService;
  /** The API action, e.g. `CreateAccessKey`, `PutObject`, `PUT secret`. */
  readonly action: string;
  /** Service, action and resource, stable across stacks, e.g. `s3:PutObject repos.json.lock`. */
  readonly label: string;
  /** 1-based: this is the n-th call with this label. */
  readonly occurrence: number;
  /** Attempts of this call (1 + the client's retries). */
  attempts: number;
  /** Status of the last attempt's answer as the function got it; undefined when it got none. */
  status: number | undefined;
  /** The fault applied to this call, if any. */
  fault: FaultEffect | undefined;
}

export type FaultEffect = "kill" | "error" | "drop";

/** Which call a fault hits: by label and occurrence (robust to reordered parallel calls) or by position. */
export type CallSelector =
  | { readonly label: string; readonly occurrence: number }
  | { readonly seq: number }
  | ((call: ProxiedCall) => boolean);

export interface CallFault {
  readonly at: CallSelector;
  readonly effect: FaultEffect;
}

export interface CallProxyOptions {
  /** moto's endpoint, e.g. `http://127.0.0.1:43121`. */
  readonly aws: string;
  /** The GitHub emulator's URL; may be set later with `setGitHubTarget` (the emulator starts with the stack). */
  readonly github?: string;
  /** Called once when a `kill` fault fires: must kill the function's process (e.g. abort `killLambda`). */
  readonly onKill?: (call: ProxiedCall) => void;
  /**
   * Runs before each attempt is forwarded (or failed); the function waits meanwhile. E.g. a barrier that holds
   * two executions' first lock writes until both arrived, so they race for the lock at the same instant.
   */
  readonly beforeCall?: (call: ProxiedCall) => void | Promise<void>;
  /**
   * Runs after every forwarded attempt took effect and before the function gets the answer — the function
   * is blocked meanwhile, so this sees every intermediate state of the rotation (e.g. to check invariants).
   */
  readonly afterCall?: (call: ProxiedCall, answer: UpstreamAnswer) => void | Promise<void>;
  /** Rewrites resource names in labels (e.g. a stack's unique bucket) so labels compare across stacks. */
  readonly normalize?: (text: string) => string;
  /**
   * Answers an attempt in place of its backend, without forwarding it: e.g. STS refusing a key IAM has not
   * propagated yet, or IAM answering as one of its servers that has not seen a change. Undefined forwards it.
   */
  readonly answer?: (call: ProxiedCall) => InjectedAnswer | undefined;
}

/**
 * An answer the proxy gives instead of the backend. An `error` is rendered in the service's own error format
 * (the AWS protocol's XML or JSON, or GitHub's JSON body), so the client parses it as it would the real one.
 */
export type InjectedAnswer =
  | { readonly status: number; readonly error: { readonly code: string; readonly message: string } }
  | { readonly status: number; readonly contentType: string; readonly body: string };

export interface CallProxy {
  /** Base URL to use as `AWS_ENDPOINT_URL`; GitHub is served under `url + GITHUB_PREFIX`. */
  readonly url: string;
  readonly githubUrl: string;
  /** Every call since the start (or the last `reset`), in arrival order. */
  readonly calls: readonly ProxiedCall[];
  /** True once a `kill` fault fired: from then on nothing is forwarded or answered (the process is dying). */
  readonly killed: boolean;
  setGitHubTarget(url: string): void;
  /** Arms one fault (replacing any armed one); it fires at most once, on the first matching call. */
  arm(fault: CallFault): void;
  disarm(): void;
  /** The armed fault has fired. */
  readonly fired: ProxiedCall | undefined;
  /** Forgets the calls and the kill, for the next invocation (the armed fault stays). */
  reset(): void;
  close(): Promise<void>;
}

/** Starts a proxy on an OS-chosen port of 127.0.0.1. */
export async function startCallProxy(options: CallProxyOptions): Promise<CallProxy> {
  const proxy = new CallProxyServer(options);
  await proxy.listen();
  return proxy;
}

/** What a request is, before it is counted. */
interface Described {
  readonly service: ProxyService;
  readonly action: string;
  readonly resource: string;
  /** Attempts of one call share it (undefined: decided by the caller, e.g. GitHub's method + path). */
  readonly invocationId: string | undefined;
  readonly protocol: "query" | "json" | "rest-xml" | "github";
}

class CallProxyServer implements CallProxy {
  readonly #options: CallProxyOptions;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #githubTarget: string | undefined;
  #origin = "";
  #calls: ProxiedCall[] = [];
  #byInvocation = new Map<string, ProxiedCall>();
  #occurrences = new Map<string, number>();
  /**
   * GitHub calls whose last attempt failed, by method and path: octokit sends no invocation ID, so the same
   * request again is a retry (other requests may come in between, e.g. parallel reads).
   */
  #failedGitHub = new Map<string, ProxiedCall>();
  #armed: CallFault | undefined;
  #target: ProxiedCall | undefined;
  #fired: ProxiedCall | undefined;
  #killed = false;
  /** The last conditional write to each object path, which the next one waits for. */
  readonly #conditionalWrites = new Map<string, Promise<undefined>>();
  /** Requests (and answers) held back once the function is being killed; released only by close(). */
  #held: ServerResponse[] = [];

  constructor(options: CallProxyOptions) {
    this.#options = options;
    this.#githubTarget = options.github;
    this.#server = createServer((req, res) => {
      void this.#serve(req, res).catch((error: unknown) => {
        if (!res.headersSent && !res.destroyed) {
          res.writeHead(502, { "content-type": "text/plain" });
          res.end(`aws-proxy: ${error instanceof Error ? error.message : String(error)}`);
        }
      });
    });
    this.#server.keepAliveTimeout = 60_000;
    this.#server.on("connection", (socket) => {
      this.#sockets.add(socket);
      socket.on("close", () => this.#sockets.delete(socket));
    });
  }

  async listen(): Promise<void> {
    this.#origin = await listenOnLoopback(this.#server);
  }

  get url(): string {
    return this.#origin;
  }
  get githubUrl(): string {
    return `${this.#origin}${GITHUB_PREFIX}`;
  }
  get calls(): readonly ProxiedCall[] {
    return this.#calls;
  }
  get killed(): boolean {
    return this.#killed;
  }
  get fired(): ProxiedCall | undefined {
    return this.#fired;
  }
  setGitHubTarget(url: string): void {
    this.#githubTarget = url.replace(/\/+$/, "");
  }
  arm(fault: CallFault): void {
    this.#armed = fault;
    this.#target = undefined;
    this.#fired = undefined;
  }
  disarm(): void {
    this.#armed = undefined;
    this.#target = undefined;
  }
  reset(): void {
    this.#calls = [];
    this.#byInvocation.clear();
    this.#occurrences.clear();
    this.#failedGitHub.clear();
    this.#killed = false;
    this.#releaseHeld();
  }

  close(): Promise<void> {
    this.#releaseHeld();
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      for (const socket of this.#sockets) socket.destroy();
    });
  }

  #releaseHeld(): void {
    for (const res of this.#held.splice(0)) res.destroy();
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readAll(req);
    if (this.#killed) {
      this.#held.push(res); // the function is being killed: it must not see anything any more
      return;
    }
    const path = req.url ?? "/";
    const isGitHub = path === GITHUB_PREFIX || path.startsWith(`${GITHUB_PREFIX}/`);
    const described = isGitHub
      ? describeGitHub(req.method ?? "GET", path.slice(GITHUB_PREFIX.length) || "/")
      : describeAws(req.method ?? "GET", path, req.headers, body);
    const call = this.#count(described, req.method ?? "GET", path);
    await this.#options.beforeCall?.(call);
    const injected = this.#options.answer?.(call);
    if (injected !== undefined) {
      call.status = injected.status;
      if (isGitHub && injected.status >= 500) this.#failedGitHub.set(`${req.method} ${path}`, call);
      this.#answerInjected(res, described, injected);
      return;
    }
    const effect = this.#faultFor(call);

    if (effect === "error") {
      call.fault = "error";
      call.status = 500;
      if (isGitHub) this.#failedGitHub.set(`${req.method} ${path}`, call);
      this.#answerError(res, described);
      return;
    }
    const upstream = isGitHub
      ? `${this.#requireGitHub()}${path.slice(GITHUB_PREFIX.length)}`
      : `${this.#options.aws}${path}`;
    const method = req.method ?? "GET";
    const conditionalWrite =
      !isGitHub &&
      (method === "PUT" || method === "DELETE") &&
      (req.headers["if-none-match"] !== undefined || req.headers["if-match"] !== undefined);
    const answer = conditionalWrite
      ? await this.#oneAtATime(path, () => forward(method, upstream, req.headers, body))
      : await forward(method, upstream, req.headers, body);
    await this.#options.afterCall?.(call, answer);
    if (effect === "kill") {
      call.fault = "kill";
      call.status = undefined;
      this.#killed = true;
      this.#held.push(res);
      this.#options.onKill?.(call);
      return;
    }
    if (effect === "drop") {
      call.fault = "drop";
      call.status = undefined;
      if (isGitHub) this.#failedGitHub.set(`${req.method} ${path}`, call);
      res.destroy();
      return;
    }
    if (this.#killed) {
      this.#held.push(res); // another call's kill fired while this one was in flight
      return;
    }
    call.status = answer.status;
    if (isGitHub && answer.status >= 500) this.#failedGitHub.set(`${req.method} ${path}`, call);
    else if (isGitHub) this.#failedGitHub.delete(`${req.method} ${path}`);
    res.writeHead(answer.status, answer.headers);
    res.end(answer.body);
  }

  /**
   * S3 makes a conditional write atomic: of concurrent If-None-Match / If-Match writes to one object, one
   * succeeds and the others get 412 (or 409). moto 5.2.5 checks the condition and then writes, so two writes
   * arriving at the same instant can both succeed; the proxy sends them to moto one at a time, as S3 behaves.
   */
  #oneAtATime<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#conditionalWrites.get(key) ?? Promise.resolve();
    const run = previous.then(work, work);
    this.#conditionalWrites.set(
      key,
      run.then(
        () => undefined,
        () => undefined,
      ),
    );
    return run;
  }

  #requireGitHub(): string {
    if (this.#githubTarget === undefined) throw new Error("no GitHub target set (setGitHubTarget)");
    return this.#githubTarget;
  }

  /** The call this request is an attempt of: a retry of a known call, or a new one. */
  #count(described: Described, method: string, path: string): ProxiedCall {
    const retryOf =
      described.invocationId !== undefined
        ? this.#byInvocation.get(described.invocationId)
        : this.#failedGitHub.get(`${method} ${path}`);
    if (retryOf) {
      retryOf.attempts++;
      return retryOf;
    }
    const normalize = this.#options.normalize ?? ((text: string) => text);
    const label = normalize(
      `${described.service}:${described.action}${described.resource ? ` ${described.resource}` : ""}`,
    );
    const occurrence = (this.#occurrences.get(label) ?? 0) + 1;
    this.#occurrences.set(label, occurrence);
    const call: ProxiedCall = {
      seq: this.#calls.length + 1,
      service: described.service,
      action: described.action,
      label,
      occurrence,
      attempts: 1,
      status: undefined,
      fault: undefined,
    };
    this.#calls.push(call);
    if (described.invocationId !== undefined) this.#byInvocation.set(described.invocationId, call);
    return call;
  }

  /** The armed fault's effect on this call: every attempt of the chosen call, and only that call. */
  #faultFor(call: ProxiedCall): FaultEffect | undefined {
    const armed = this.#armed;
    if (armed === undefined) return undefined;
    if (this.#target === undefined && call.attempts === 1 && selects(armed.at, call)) {
      this.#target = call;
      this.#fired = call;
    }
    return this.#target === call ? armed.effect : undefined;
  }

  #answerInjected(res: ServerResponse, described: Described, injected: InjectedAnswer): void {
    const requestId = randomUUID();
    const { contentType, body, headers } =
      "error" in injected
        ? errorBody(described, requestId, injected.error, injected.status)
        : { contentType: injected.contentType, body: injected.body, headers: {} };
    res.writeHead(injected.status, {
      "content-type": contentType,
      "content-length": String(Buffer.byteLength(body)),
      "x-amzn-requestid": requestId,
      ...headers,
    });
    res.end(body);
  }

  #answerError(res: ServerResponse, described: Described): void {
    const requestId = randomUUID();
    const { contentType, body, headers } = errorBody(described, requestId);
    res.writeHead(500, {
      "content-type": contentType,
      "content-length": String(Buffer.byteLength(body)),
      "x-amzn-requestid": requestId,
      ...headers,
    });
    res.end(body);
  }
}

function selects(selector: CallSelector, call: ProxiedCall): boolean {
  if (typeof selector === "function") return selector(call);
  if ("seq" in selector) return call.seq === selector.seq;
  return call.label === selector.label && call.occurrence === selector.occurrence;
}

/** The answer each AWS protocol (and GitHub) gives for an error: by default an internal one (HTTP 500). */
function errorBody(
  described: Described,
  requestId: string,
  error?: { readonly code: string; readonly message: string },
  status = 500,
): { contentType: string; body: string; headers: Record<string, string> } {
  const xml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  // AWS's query protocol says whose fault an error is: the caller's (Sender) for 4xx, the service's otherwise.
  const type = status < 500 ? "Sender" : "Receiver";
  switch (described.protocol) {
    case "json": {
      const code = error?.code ?? "InternalServiceError";
      return {
        contentType: "application/x-amz-json-1.1",
        body: JSON.stringify({
          __type: code,
          Message: error?.message ?? "An error occurred on the server side (injected by aws-proxy).",
        }),
        headers: { "x-amzn-errortype": code },
      };
    }
    case "rest-xml":
      return {
        contentType: "application/xml",
        body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${xml(error?.code ?? "InternalError")}</Code><Message>${xml(error?.message ?? "We encountered an internal error. Please try again.")}</Message><RequestId>${requestId}</RequestId></Error>`,
        headers: {},
      };
    case "query": {
      const code = error?.code ?? (described.service === "iam" ? "ServiceFailure" : "InternalFailure");
      return {
        contentType: "text/xml",
        body: `<ErrorResponse><Error><Type>${type}</Type><Code>${xml(code)}</Code><Message>${xml(error?.message ?? "Request processing failed (injected by aws-proxy).")}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
        headers: {},
      };
    }
    case "github":
      return {
        contentType: "application/json; charset=utf-8",
        body: JSON.stringify({
          message: error?.message ?? "Server Error",
          documentation_url: "https://docs.github.com/rest",
        }),
        headers: {},
      };
  }
}

/** Names an AWS SDK request: service from the SigV4 credential scope, action from the protocol. */
export function describeAws(
  method: string,
  path: string,
  headers: IncomingHttpHeaders,
  body: Buffer,
): Described {
  const authorization = String(headers.authorization ?? "");
  const scope = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(authorization);
  const invocationId = headerText(headers["amz-sdk-invocation-id"]);
  const target = headerText(headers["x-amz-target"]);
  if (target !== undefined) {
    // JSON protocol: `secretsmanager.GetSecretValue`; the resource is the SecretId's role (token / state).
    const [prefix = "", action = ""] = target.split(".");
    const service = scope?.[1] ?? prefix.toLowerCase();
    let resource = "";
    try {
      const json = JSON.parse(body.toString("utf8")) as { SecretId?: unknown };
      if (typeof json.SecretId === "string") resource = secretRole(json.SecretId);
    } catch {
      // not JSON: no resource
    }
    return { service, action, resource, invocationId, protocol: "json" };
  }
  const url = new URL(path, "http://proxy.invalid");
  const form = new URLSearchParams(method === "POST" ? body.toString("utf8") : "");
  const action = form.get("Action") ?? url.searchParams.get("Action");
  if (action !== null) {
    return { service: scope?.[1] ?? "unknown", action, resource: "", invocationId, protocol: "query" };
  }
  // S3, path style: /bucket/key
  const [, , ...keyParts] = decodeURIComponent(url.pathname).split("/");
  const key = keyParts.join("/");
  const s3Action = key
    ? ({ GET: "GetObject", PUT: "PutObject", DELETE: "DeleteObject", HEAD: "HeadObject" } as const)[
        method as "GET"
      ]
    : `${method}Bucket`;
  return {
    service: scope?.[1] ?? "s3",
    action: s3Action ?? `${method}Object`,
    resource: key,
    invocationId,
    protocol: "rest-xml",
  };
}

/** `GHS-AKM-<user>-GitHubToken-<machine user>` → `token`; `…-RotationState` → `state`. */
function secretRole(secretId: string): string {
  if (/-GitHubToken-/.test(secretId)) return "token";
  if (/-RotationState(-[A-Za-z0-9]{6})?$/.test(secretId)) return "state";
  return secretId;
}

/** Names a GitHub request: method, what it addresses, and the repository. */
export function describeGitHub(method: string, path: string): Described {
  const pathname = new URL(path, "http://proxy.invalid").pathname;
  const secret = /^\/repos\/([^/]+\/[^/]+)\/actions\/secrets\/([^/]+)$/.exec(pathname);
  let action: string;
  let resource: string;
  if (secret?.[1] !== undefined && secret[2] !== undefined) {
    action = secret[2] === "public-key" ? `${method} public-key` : `${method} secret`;
    resource = secret[2] === "public-key" ? secret[1] : `${secret[1]} ${secret[2]}`;
  } else {
    action = method;
    resource = pathname;
  }
  return { service: "github", action, resource, invocationId: undefined, protocol: "github" };
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function readAll(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () => resolve(Buffer.concat(chunks)));
    stream.on("error", reject);
  });
}

/** What moto or the emulator answered to one attempt (before any fault decides what the function gets). */
export interface UpstreamAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[]>;
  readonly body: Buffer;
}

// Hop-by-hop headers are the proxy's own business on each side.
const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"]);

/** Connections to moto and the emulator are reused: a new one per call costs moto a thread each. */
const UPSTREAM_AGENT = new Agent({ keepAlive: true, maxSockets: 64 });

/** Sends one request upstream and reads the whole answer. */
function forward(
  method: string,
  url: string,
  headers: IncomingHttpHeaders,
  body: Buffer,
): Promise<UpstreamAnswer> {
  const target = new URL(url);
  const outgoing: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) outgoing[name] = value;
  }
  outgoing.host = target.host;
  outgoing["content-length"] = String(body.length);
  return new Promise((resolve, reject) => {
    const req = httpRequest(target, { method, headers: outgoing, agent: UPSTREAM_AGENT }, (res) => {
      readAll(res).then((data) => {
        const answerHeaders: Record<string, string | string[]> = {};
        for (const [name, value] of Object.entries(res.headers)) {
          if (value !== undefined && !HOP_BY_HOP.has(name)) answerHeaders[name] = value;
        }
        answerHeaders["content-length"] = String(data.length);
        resolve({ status: res.statusCode ?? 502, headers: answerHeaders, body: data });
      }, reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}
