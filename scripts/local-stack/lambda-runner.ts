/**
 * Runs the Lambda code exactly as users deploy it: the `Code.ZipFile` of the rendered CloudFormation
 * template, saved as a CommonJS `index.js` and invoked in a child process on Node 24 (the nodejs24.x
 * runtime's major), with a Lambda-like context, environment and module resolution.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { cfnIntrinsicTags } from "../build/cfn-yaml.mjs";
import type { FakeClock } from "./fake-clock.ts";

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const RENDERED_TEMPLATE_PATH = join(REPO_ROOT, "dist", "aws-github-akm.template.yaml");
/** The Node binary of the `node@24` dev dependency: the same major as the nodejs24.x runtime. */
export const LAMBDA_NODE_BIN = join(REPO_ROOT, "node_modules", "node", "bin", "node");
/** Where extracted code lives: under the repository (gitignored), so `@aws-sdk/*` resolves from its node_modules. */
const WORK_DIR = join(REPO_ROOT, ".tmp");

/** The Lambda timeout the runbooks' steps run under unless told otherwise (aws:invokeLambdaFunction allows 300 s). */
export const DEFAULT_LAMBDA_TIMEOUT_MS = 290_000;

// ---------------------------------------------------------------------------------------------------------
// The rendered template

/** A CloudFormation template as plain data; short-form intrinsics (`!Ref`, `!Sub`, ...) become long form. */
export interface CfnTemplate {
  readonly Parameters?: Record<string, { readonly Type?: string; readonly Default?: unknown }>;
  readonly Conditions?: Record<string, unknown>;
  readonly Resources: Record<string, CfnResource>;
  readonly Outputs?: Record<string, unknown>;
}

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Condition?: string;
}

/** Parses CloudFormation YAML (or JSON) text into plain data with long-form intrinsics. */
export function parseCfnYaml(text: string): unknown {
  return parse(text, { customTags: cfnIntrinsicTags(), maxAliasCount: -1, uniqueKeys: true });
}

let templateCache: { path: string; mtimeMs: number; template: CfnTemplate } | undefined;

/** The rendered template users deploy (`npm run build` writes it); cached until the file changes. */
export function loadRenderedTemplate(path = RENDERED_TEMPLATE_PATH): CfnTemplate {
  if (!existsSync(path)) {
    throw new Error(`lambda-runner: ${path} does not exist; run \`npm run build\` first.`);
  }
  const { mtimeMs } = statSync(path);
  if (templateCache?.path === path && templateCache.mtimeMs === mtimeMs) return templateCache.template;
  const parsed = parseCfnYaml(readFileSync(path, "utf8"));
  if (!isRecord(parsed) || !isRecord(parsed.Resources)) {
    throw new Error(`lambda-runner: ${path} is not a CloudFormation template (no Resources section).`);
  }
  const template = parsed as unknown as CfnTemplate;
  templateCache = { path, mtimeMs, template };
  return template;
}

/** What the template says about its one Lambda function. */
export interface TemplateLambda {
  readonly logicalId: string;
  /** The inline source (`Code.ZipFile`), which Lambda saves as `index.js`. */
  readonly code: string;
  /** e.g. `index.handler`. */
  readonly handler: string;
  /** e.g. `nodejs24.x`. */
  readonly runtime: string;
  readonly timeoutSeconds: number | undefined;
  readonly memorySize: number | undefined;
  /** `Environment.Variables`, unresolved (values may be intrinsics). */
  readonly environment: Readonly<Record<string, unknown>>;
}

/** Finds the template's single AWS::Lambda::Function and reads its inline code and settings. */
export function templateLambda(template: CfnTemplate = loadRenderedTemplate()): TemplateLambda {
  const functions = Object.entries(template.Resources).filter(([, r]) => r.Type === "AWS::Lambda::Function");
  if (functions.length !== 1) {
    throw new Error(
      `lambda-runner: expected exactly one AWS::Lambda::Function in the template, found ${functions.length} (${functions.map(([id]) => id).join(", ")}).`,
    );
  }
  const [logicalId, resource] = functions[0] as [string, CfnResource];
  const props = resource.Properties ?? {};
  const code = isRecord(props.Code) ? inlineText(props.Code.ZipFile) : undefined;
  if (code === undefined) {
    throw new Error(`lambda-runner: ${logicalId} has no inline Code.ZipFile string.`);
  }
  const environment =
    isRecord(props.Environment) && isRecord(props.Environment.Variables) ? props.Environment.Variables : {};
  return {
    logicalId,
    code,
    handler: typeof props.Handler === "string" ? props.Handler : "index.handler",
    runtime: typeof props.Runtime === "string" ? props.Runtime : "",
    timeoutSeconds: typeof props.Timeout === "number" ? props.Timeout : undefined,
    memorySize: typeof props.MemorySize === "number" ? props.MemorySize : undefined,
    environment,
  };
}

/** A literal string, or an `Fn::Join` of literal strings (how some builders split long inline code). */
function inlineText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (isRecord(value) && Array.isArray(value["Fn::Join"])) {
    const [separator, parts] = value["Fn::Join"] as [unknown, unknown];
    if (typeof separator === "string" && Array.isArray(parts) && parts.every((p) => typeof p === "string")) {
      return parts.join(separator);
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Extracting the code

/**
 * A tiny stand-in for the Lambda Node.js runtime's bootstrap: loads `index.js` as CommonJS, calls the handler
 * with the event (stdin) and a context, and writes the outcome to a file. Bare imports from the bundle resolve
 * only to Node built-ins and `@aws-sdk/*`, as in the real runtime, so a dependency left out of the bundle
 * fails here as it would in AWS.
 */
const RUNNER_SOURCE = String.raw`"use strict";
const fs = require("node:fs");
const path = require("node:path");
const Module = require("node:module");

const [codeDir, handlerSpec, resultFile, timeoutMsText, requestId, functionName, memoryText, offsetText, clockText] =
  process.argv.slice(2);
const dot = handlerSpec.lastIndexOf(".");
const entry = path.join(codeDir, handlerSpec.slice(0, dot) + ".js");
const exportName = handlerSpec.slice(dot + 1);
const RealDate = Date;
const deadline = RealDate.now() + Number(timeoutMsText);

// A test clock: the function sees the wall clock shifted by offset ms (timers are not affected). A live clock
// moves while the function runs: the parent sends each new offset over the IPC channel and waits for the
// acknowledgement, so the function reads the new time in everything it does after that.
let offset = Number(offsetText || 0);
const liveClock = clockText === "live" && typeof process.send === "function";
if (liveClock) {
  process.on("message", (message) => {
    if (message === null || typeof message !== "object" || typeof message.clockOffsetMs !== "number") return;
    offset = message.clockOffsetMs;
    process.send({ clockAck: message.seq });
  });
}
if (offset !== 0 || liveClock) {
  const shiftedNow = () => RealDate.now() + offset;
  globalThis.Date = new Proxy(RealDate, {
    construct: (target, args, newTarget) =>
      Reflect.construct(target, args.length === 0 ? [shiftedNow()] : args, newTarget),
    apply: () => new RealDate(shiftedNow()).toString(),
    get: (target, property, receiver) => (property === "now" ? shiftedNow : Reflect.get(target, property, receiver)),
  });
}

const originalResolve = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  const bare = !request.startsWith(".") && !request.startsWith("/") && !Module.isBuiltin(request);
  if (parent && parent.filename === entry && bare && !/^@(aws-sdk|smithy)\//.test(request)) {
    const error = new Error("Cannot find module '" + request + "' (the Lambda runtime provides only Node.js built-ins and the AWS SDK for JavaScript v3 with its @smithy packages)");
    error.code = "MODULE_NOT_FOUND";
    throw error;
  }
  return originalResolve.call(this, request, parent, ...rest);
};

let settled = false;
function finish(outcome) {
  if (settled) return;
  settled = true;
  fs.writeFileSync(resultFile, JSON.stringify({ ...outcome, node: process.versions.node }));
  process.exit(0);
}
function failure(error) {
  const isError = error instanceof Error;
  return {
    ok: false,
    error: {
      errorType: isError ? error.name : typeof error,
      errorMessage: isError ? error.message : String(error),
      trace: isError && typeof error.stack === "string" ? error.stack.split("\n") : [],
    },
  };
}
process.on("uncaughtException", (error) => finish(failure(error)));
process.on("unhandledRejection", (error) => finish(failure(error)));

const context = {
  functionName,
  functionVersion: "$LATEST",
  invokedFunctionArn: "arn:aws:lambda:" + (process.env.AWS_REGION || "us-east-1") + ":123456789012:function:" + functionName,
  memoryLimitInMB: memoryText,
  awsRequestId: requestId,
  logGroupName: "/aws/lambda/" + functionName,
  logStreamName: "local",
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => Math.max(0, deadline - RealDate.now()),
};

// The runtime keeps the sandbox alive while an invocation is pending, even with nothing left to do.
setInterval(() => {}, 1 << 30);

(async () => {
  const event = JSON.parse(fs.readFileSync(0, "utf8"));
  const handler = require(entry)[exportName];
  if (typeof handler !== "function") throw new Error(handlerSpec + " is undefined or not exported");
  const result = await handler(event, context);
  finish({ ok: true, result: result === undefined ? null : result });
})().catch((error) => finish(failure(error)));
`;

/** The extracted code's directory; written once per distinct code (content-addressed) and reused. */
export interface ExtractedLambda {
  readonly dir: string;
  readonly handler: string;
  readonly functionName: string;
  readonly memorySize: number;
}

const extracted = new Map<string, ExtractedLambda>();

/** Writes `code` as `index.js` (CommonJS) with the runner next to it, under `.tmp/lambda-<hash>/`. */
export function extractLambdaCode(
  code: string,
  options: { handler?: string; functionName?: string; memorySize?: number } = {},
): ExtractedLambda {
  const handler = options.handler ?? "index.handler";
  const hash = createHash("sha256").update(code).update(RUNNER_SOURCE).digest("hex").slice(0, 16);
  const key = `${hash}:${handler}`;
  const known = extracted.get(key);
  if (known) return known;
  const dir = join(WORK_DIR, `lambda-${hash}`);
  mkdirSync(join(dir, "results"), { recursive: true });
  pruneStaleExtractions(dir);
  const moduleFile = `${handler.slice(0, handler.lastIndexOf("."))}.js`;
  // The repository's package.json says "type": "module"; Lambda loads index.js as CommonJS.
  writeAtomically(join(dir, "package.json"), '{ "type": "commonjs" }\n');
  writeAtomically(join(dir, moduleFile), code);
  writeAtomically(join(dir, "runner.cjs"), RUNNER_SOURCE);
  const result: ExtractedLambda = {
    dir,
    handler,
    functionName: options.functionName ?? "akm-test-function",
    memorySize: options.memorySize ?? 256,
  };
  extracted.set(key, result);
  return result;
}

/** Extracts the Lambda code of the rendered template (the exact code users deploy). */
export function extractTemplateLambda(template: CfnTemplate = loadRenderedTemplate()): ExtractedLambda {
  const fn = templateLambda(template);
  return extractLambdaCode(fn.code, {
    handler: fn.handler,
    functionName: fn.logicalId,
    ...(fn.memorySize === undefined ? {} : { memorySize: fn.memorySize }),
  });
}

/** Extractions of earlier builds pile up; remove those untouched for an hour (never one in use now). */
const STALE_EXTRACTION_MS = 60 * 60_000;

function pruneStaleExtractions(keep: string): void {
  for (const name of readdirSync(WORK_DIR)) {
    const path = join(WORK_DIR, name);
    if (!name.startsWith("lambda-") || path === keep) continue;
    try {
      // results/ changes at every invocation, so its mtime says when the extraction was last used.
      const used = statSync(existsSync(join(path, "results")) ? join(path, "results") : path).mtimeMs;
      if (Date.now() - used > STALE_EXTRACTION_MS) rmSync(path, { recursive: true, force: true });
    } catch {
      // Another worker pruned it first.
    }
  }
}

/** Test files run in parallel workers: write to a private name, then rename over the target. */
function writeAtomically(path: string, text: string): void {
  if (existsSync(path) && readFileSync(path, "utf8") === text) return;
  const temporary = `${path}.${process.pid}.${randomUUID()}.tmp`;
  writeFileSync(temporary, text);
  renameSync(temporary, path);
}

// ---------------------------------------------------------------------------------------------------------
// Invoking

export interface InvokeOptions {
  /** The function's environment variables (settings, endpoints); merged over the runtime's own. */
  readonly env: Readonly<Record<string, string>>;
  /** The function timeout: the context's time budget, and when the process is stopped (default 290 s). */
  readonly timeoutMs?: number;
  /** Code to run; default: the rendered template's Lambda. */
  readonly lambda?: ExtractedLambda;
  /** Kills the process (SIGKILL, like a crashed sandbox) when a log line matches; for crash tests. */
  readonly killWhen?: (logLine: string) => boolean;
  /** Kills the process when aborted (e.g. from an emulator hook, at an exact point of a rotation). */
  readonly signal?: AbortSignal;
  /**
   * Kills the process after this long although the function's own timeout is later: what a caller that stops
   * waiting sees (e.g. a runbook step's `timeoutSeconds`). The outcome is "killed", `killedBy` "killAfterMs".
   */
  readonly killAfterMs?: number;
  /**
   * Shifts the function's clock (`Date`, `Date.now()`) by this many milliseconds: a test's fake clock, e.g.
   * to let a grace period or a lock lease pass without waiting. Timers and the time budget are unaffected.
   */
  readonly clockOffsetMs?: number;
  /**
   * A fake clock the function follows while it runs (instead of `clockOffsetMs`): each `advance` reaches the
   * process over an IPC channel and resolves once the function reads the new time, e.g. to make the step's time
   * run out at an exact point of the invocation. Timers and the time budget are unaffected.
   */
  readonly clock?: FakeClock;
}

/** How the invocation ended. */
export type InvocationOutcome = "returned" | "threw" | "timed-out" | "killed" | "crashed";

export interface LambdaInvocation {
  /** The handler's return value; for a failed invocation, the error object Lambda would return instead. */
  readonly result: unknown;
  /** Set as Lambda sets it when the function did not return normally. */
  readonly functionError: "Unhandled" | undefined;
  readonly outcome: InvocationOutcome;
  /** Everything the function wrote to stdout and stderr (the "Lambda logs"). */
  readonly logs: string;
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** `process.versions.node` inside the function; undefined when it did not get as far as answering. */
  readonly nodeVersion: string | undefined;
  readonly requestId: string;
  /** Which of the kill options stopped the process (outcome "killed"). */
  readonly killedBy: "killWhen" | "signal" | "killAfterMs" | undefined;
}

interface RunnerOutcome {
  readonly ok: boolean;
  readonly result?: unknown;
  readonly error?: { readonly errorType: string; readonly errorMessage: string; readonly trace: string[] };
  readonly node: string;
}

/** Environment the runtime provides before the function's own variables. */
function runtimeEnv(lambda: ExtractedLambda): Record<string, string> {
  return {
    PATH: `${dirname(LAMBDA_NODE_BIN)}:/usr/local/bin:/usr/bin:/bin`,
    LANG: "en_US.UTF-8",
    TZ: "UTC",
    AWS_REGION: "us-east-1",
    AWS_DEFAULT_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    AWS_EXECUTION_ENV: "AWS_Lambda_nodejs24.x",
    AWS_LAMBDA_FUNCTION_NAME: lambda.functionName,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(lambda.memorySize),
    AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
    // Never read the developer's ~/.aws files: the function gets credentials only from its environment.
    AWS_CONFIG_FILE: join(lambda.dir, "no-aws-config"),
    AWS_SHARED_CREDENTIALS_FILE: join(lambda.dir, "no-aws-credentials"),
  };
}

/**
 * Invokes the handler once in a fresh Node 24 process (a cold start each time) and resolves when it has
 * answered, thrown, timed out or been killed. Never rejects for the function's own failures.
 */
export async function invokeLambda(event: unknown, options: InvokeOptions): Promise<LambdaInvocation> {
  const lambda = options.lambda ?? extractTemplateLambda();
  const timeoutMs = options.timeoutMs ?? DEFAULT_LAMBDA_TIMEOUT_MS;
  const requestId = randomUUID();
  const resultFile = join(lambda.dir, "results", `${requestId}.json`);
  const { clock } = options;
  const child = spawn(
    LAMBDA_NODE_BIN,
    [
      join(lambda.dir, "runner.cjs"),
      lambda.dir,
      lambda.handler,
      resultFile,
      String(timeoutMs),
      requestId,
      lambda.functionName,
      String(lambda.memorySize),
      String(clock?.offsetMs ?? options.clockOffsetMs ?? 0),
      clock === undefined ? "fixed" : "live",
    ],
    {
      cwd: lambda.dir,
      env: { ...runtimeEnv(lambda), ...options.env },
      stdio: clock === undefined ? ["pipe", "pipe", "pipe"] : ["pipe", "pipe", "pipe", "ipc"],
    },
  );
  const unfollow = clock?.follow((offsetMs) => tellClock(child, offsetMs));

  let logs = "";
  let pendingLine = "";
  let stoppedBy: "timed-out" | "killed" | undefined;
  let killedBy: LambdaInvocation["killedBy"];
  const stop = (why: "timed-out" | NonNullable<LambdaInvocation["killedBy"]>) => {
    if (stoppedBy === undefined && child.exitCode === null && child.signalCode === null) {
      stoppedBy = why === "timed-out" ? "timed-out" : "killed";
      if (why !== "timed-out") killedBy = why;
      child.kill("SIGKILL");
    }
  };
  const onOutput = (chunk: Buffer) => {
    const text = chunk.toString("utf8");
    logs += text;
    if (options.killWhen === undefined) return;
    const lines = (pendingLine + text).split("\n");
    pendingLine = lines.pop() ?? "";
    if (lines.some((line) => options.killWhen?.(line))) stop("killWhen");
  };
  // Piped (stdio below), so never null; typed nullable because the stdio array is chosen at run time.
  child.stdout?.on("data", onOutput);
  child.stderr?.on("data", onOutput);

  const onAbort = () => stop("signal");
  options.signal?.addEventListener("abort", onAbort);
  if (options.signal?.aborted) onAbort();
  // Lambda stops a function at its timeout; these are limits, not waits.
  const timer = setTimeout(() => stop("timed-out"), timeoutMs);
  const killTimer =
    options.killAfterMs === undefined
      ? undefined
      : setTimeout(() => stop("killAfterMs"), options.killAfterMs);

  const exited = waitForExit(child);
  child.stdin?.on("error", () => {}); // the child may die before reading its event
  child.stdin?.end(JSON.stringify(event));
  const { code, signal, spawnError } = await exited;
  unfollow?.();
  clearTimeout(timer);
  clearTimeout(killTimer);
  options.signal?.removeEventListener("abort", onAbort);
  if (spawnError) throw new Error(`lambda-runner: could not start ${LAMBDA_NODE_BIN}: ${spawnError.message}`);

  const outcome = readOutcome(resultFile);
  const base = { logs, exitCode: code, signal, requestId, nodeVersion: outcome?.node, killedBy };
  if (stoppedBy === "timed-out") {
    return {
      ...base,
      outcome: "timed-out",
      functionError: "Unhandled",
      result: {
        errorType: "Sandbox.Timedout",
        errorMessage: `RequestId: ${requestId} Error: Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`,
      },
    };
  }
  if (stoppedBy === "killed" || outcome === undefined) {
    return {
      ...base,
      outcome: stoppedBy === "killed" ? "killed" : "crashed",
      functionError: "Unhandled",
      result: {
        errorType: "Runtime.ExitError",
        errorMessage: `RequestId: ${requestId} Error: Runtime exited ${signal ? `with error: signal: ${signal.toLowerCase().replace(/^sig/, "")}` : `with error: exit status ${code}`}`,
      },
    };
  }
  if (!outcome.ok) {
    return { ...base, outcome: "threw", functionError: "Unhandled", result: outcome.error };
  }
  return { ...base, outcome: "returned", functionError: undefined, result: outcome.result };
}

let clockMessages = 0;

/**
 * Sends a live clock's new offset to the function's process; resolves when the process acknowledges it (from then
 * on the function reads the new time), or at once when the process is gone.
 */
function tellClock(child: ChildProcess, offsetMs: number): Promise<void> {
  const seq = ++clockMessages;
  return new Promise((resolve) => {
    if (!child.connected) {
      resolve();
      return;
    }
    const done = () => {
      child.off("message", onMessage);
      child.off("disconnect", done);
      resolve();
    };
    const onMessage = (message: unknown) => {
      if (isRecord(message) && message.clockAck === seq) done();
    };
    child.on("message", onMessage);
    child.once("disconnect", done);
    child.send({ clockOffsetMs: offsetMs, seq }, (error) => {
      if (error) done();
    });
  });
}

function waitForExit(
  child: ChildProcess,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; spawnError: Error | undefined }> {
  return new Promise((resolve) => {
    child.once("error", (error) => resolve({ code: null, signal: null, spawnError: error }));
    // "close" (not "exit"): every byte of stdout/stderr has been read by then.
    child.once("close", (code, signal) => resolve({ code, signal, spawnError: undefined }));
  });
}

function readOutcome(file: string): RunnerOutcome | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, "utf8")) as RunnerOutcome;
  } catch {
    return undefined; // killed while writing
  } finally {
    rmSync(file, { force: true });
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
