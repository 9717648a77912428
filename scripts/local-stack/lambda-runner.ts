/**
 * Runs the Lambda code exactly as users deploy it: the `Code.ZipFile` of the rendered CloudFormation
 * template, saved as a CommonJS `index.js` and invoked in an execution environment — a child process on Node 24
 * (the nodejs24.x runtime's major), lambda-environment.ts — with a Lambda-like context, environment and module
 * resolution. Environments are reused as Lambda reuses them when the caller passes a pool (lambda-environments.ts).
 */
import { createHash, randomUUID } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { cfnIntrinsicTags } from "../build/cfn-yaml.mjs";
import type { FakeClock } from "./fake-clock.ts";
import {
  type EnvironmentConfig,
  type InvocationRequest,
  LambdaEnvironment,
  type LambdaInvocation,
} from "./lambda-environment.ts";
import type { LambdaEnvironments } from "./lambda-environments.ts";

export type { InvocationOutcome, LambdaInvocation } from "./lambda-environment.ts";
export { LambdaEnvironments } from "./lambda-environments.ts";

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

/** The extracted code's directory; written once per distinct code (content-addressed) and reused. */
export interface ExtractedLambda {
  readonly dir: string;
  readonly handler: string;
  readonly functionName: string;
  readonly memorySize: number;
}

const extracted = new Map<string, ExtractedLambda>();

/** Writes `code` as `index.js` (CommonJS), under `.tmp/lambda-<hash>/` (lambda-bootstrap.cjs loads it from there). */
export function extractLambdaCode(
  code: string,
  options: { handler?: string; functionName?: string; memorySize?: number } = {},
): ExtractedLambda {
  const handler = options.handler ?? "index.handler";
  const hash = createHash("sha256").update(code).digest("hex").slice(0, 16);
  const key = `${hash}:${handler}`;
  const known = extracted.get(key);
  if (known) return known;
  const dir = join(WORK_DIR, `lambda-${hash}`);
  mkdirSync(dir, { recursive: true });
  pruneStaleExtractions(dir);
  const moduleFile = `${handler.slice(0, handler.lastIndexOf("."))}.js`;
  // The repository's package.json says "type": "module"; Lambda loads index.js as CommonJS.
  writeAtomically(join(dir, "package.json"), '{ "type": "commonjs" }\n');
  writeAtomically(join(dir, moduleFile), code);
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
      // Every invocation touches its extraction's directory (see invokeLambda).
      const used = statSync(path).mtimeMs;
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
  /**
   * The execution environments to run in, as Lambda reuses them: an idle one of the same configuration (code,
   * settings, environment variables, timeout) serves the invocation without Init (a warm start), else a new one
   * starts. Without it, a new environment serves this one invocation and is closed after it (a cold start each
   * time). The caller closes the pool.
   */
  readonly environments?: LambdaEnvironments;
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
   * Shifts the function's clock (`Date`, `Date.now()`) by this many milliseconds for this invocation: a test's
   * fake clock, e.g. to let a grace period or a lock lease pass without waiting. Timers and the time budget are
   * unaffected.
   */
  readonly clockOffsetMs?: number;
  /**
   * A fake clock the function follows while it runs (instead of `clockOffsetMs`): the invocation starts at the
   * clock's offset, and each `advance` while it runs reaches the environment's process over its IPC channel and
   * resolves once the function reads the new time, e.g. to make the step's time run out at an exact point of the
   * invocation. A warm environment gets the clock's offset anew at each invocation. Timers and the time budget are
   * unaffected.
   */
  readonly clock?: FakeClock;
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
 * Invokes the handler once on Node 24 — in an environment of `options.environments` (warm when one of the same
 * configuration is idle), or in a new one closed afterwards — and resolves when it has answered, thrown, timed
 * out or been killed. Never rejects for the function's own failures.
 */
export async function invokeLambda(event: unknown, options: InvokeOptions): Promise<LambdaInvocation> {
  const lambda = options.lambda ?? extractTemplateLambda();
  const config: EnvironmentConfig = {
    nodeBin: LAMBDA_NODE_BIN,
    codeDir: lambda.dir,
    handler: lambda.handler,
    functionName: lambda.functionName,
    memorySize: lambda.memorySize,
    env: { ...runtimeEnv(lambda), ...options.env },
    timeoutMs: options.timeoutMs ?? DEFAULT_LAMBDA_TIMEOUT_MS,
  };
  const request: InvocationRequest = {
    event,
    requestId: randomUUID(),
    clockOffsetMs: options.clockOffsetMs ?? 0,
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.killWhen === undefined ? {} : { killWhen: options.killWhen }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.killAfterMs === undefined ? {} : { killAfterMs: options.killAfterMs }),
  };
  markUsed(lambda.dir);
  if (options.environments !== undefined) {
    return options.environments.with(config, (environment) => environment.invoke(request));
  }
  const environment = new LambdaEnvironment(config);
  try {
    return await environment.invoke(request);
  } finally {
    await environment.close();
  }
}

/** The extraction's directory mtime says when it was last used (pruneStaleExtractions). */
function markUsed(dir: string): void {
  const now = new Date();
  try {
    utimesSync(dir, now, now);
  } catch {
    // Pruned by another worker meanwhile: the invocation will say so.
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
