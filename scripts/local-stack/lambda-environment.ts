/**
 * One Lambda execution environment: a Node 24 process (lambda-bootstrap.cjs) that runs the function's Init once
 * and then serves invocations one at a time over IPC, until a timeout, a crash or a kill ends it — the lifecycle
 * Lambda documents (Init, Invoke, Shutdown; "If the Lambda function crashes or times out during the Invoke phase,
 * Lambda resets the execution environment"):
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html
 *
 * Unlike Lambda, an idle environment is not frozen between invocations (a stopped process would outlive a runner
 * that dies without closing it); the function's code leaves nothing running once its handler has answered.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FakeClock } from "./fake-clock.ts";

/** The runtime's stand-in: Init, then invocations over IPC. */
export const LAMBDA_BOOTSTRAP = join(dirname(fileURLToPath(import.meta.url)), "lambda-bootstrap.cjs");
/** What lambda-bootstrap.cjs writes to stdout and stderr after each invocation (END_OF_INVOCATION there). */
const END_OF_INVOCATION = "\u001eakm-lambda-invocation-end ";

/**
 * Lambda's limit on the Init phase of an on-demand function: a longer Init is retried within the first
 * invocation, under the function's timeout. Here an Init that takes longer is charged to that timeout.
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html#runtimes-lifecycle-ib
 */
export const INIT_LIMIT_MS = 10_000;

/** What makes a function configuration: environments of different configurations never share a process. */
export interface EnvironmentConfig {
  /** The Node binary (Node 24, the nodejs24.x runtime's major). */
  readonly nodeBin: string;
  /** The extracted code's directory (its `index.js`), the handler (`index.handler`), name and memory size. */
  readonly codeDir: string;
  readonly handler: string;
  readonly functionName: string;
  readonly memorySize: number;
  /** Every environment variable the process gets (the runtime's and the function's). */
  readonly env: Readonly<Record<string, string>>;
  /** The function timeout (ms): the Invoke phase's limit. */
  readonly timeoutMs: number;
}

/** How an invocation ended. */
export type InvocationOutcome = "returned" | "threw" | "timed-out" | "killed" | "crashed";

export interface LambdaInvocation {
  /** The handler's return value; for a failed invocation, the error object Lambda would return instead. */
  readonly result: unknown;
  /** Set as Lambda sets it when the function did not return normally. */
  readonly functionError: "Unhandled" | undefined;
  readonly outcome: InvocationOutcome;
  /** Everything the function wrote to stdout and stderr during the invocation (the "Lambda logs"). */
  readonly logs: string;
  /** How the environment's process ended during this invocation; both null when it lives on for the next. */
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** `process.versions.node` inside the function; undefined when the environment never finished its Init. */
  readonly nodeVersion: string | undefined;
  readonly requestId: string;
  /** Which of the kill options stopped the process (outcome "killed"). */
  readonly killedBy: "killWhen" | "signal" | "killAfterMs" | undefined;
  /**
   * The execution environment that served it (set by the Lambda runner): its process ID, and whether this
   * invocation started it (a cold start: Init ran first; Lambda's REPORT line then has an Init Duration).
   */
  readonly environment?: { readonly pid: number | undefined; readonly coldStart: boolean };
}

/** One invocation's request and the test harness's ways of stopping it. */
export interface InvocationRequest {
  readonly event: unknown;
  readonly requestId: string;
  /** Shifts the function's `Date` by this many ms for this invocation (a test's fake clock). */
  readonly clockOffsetMs: number;
  /**
   * A fake clock the function follows while this invocation runs (instead of `clockOffsetMs`): the invocation
   * starts at its offset, and each `advance` until the invocation ends reaches the process over IPC; the advance
   * resolves once the function reads the new time (fake-clock.ts).
   */
  readonly clock?: FakeClock;
  /** Kills the process (SIGKILL, like a crashed sandbox) when a log line matches. */
  readonly killWhen?: (logLine: string) => boolean;
  /** Kills the process when aborted. */
  readonly signal?: AbortSignal;
  /** Kills the process this long after the invocation began (what a caller that stops waiting sees). */
  readonly killAfterMs?: number;
}

type ErrorObject = { readonly errorType: string; readonly errorMessage: string; readonly trace: string[] };

type BootstrapMessage =
  | { readonly type: "ready"; readonly node: string; readonly initMs: number }
  | { readonly type: "init-error"; readonly error: ErrorObject }
  /** The function reads the clock offset of `clock` message `seq` from now on. */
  | { readonly type: "clock-ack"; readonly seq: number }
  | {
      readonly type: "result";
      readonly requestId: string;
      readonly ok: boolean;
      readonly result?: unknown;
      readonly error?: ErrorObject;
      /** An uncaught error: the process exits after answering. */
      readonly fatal?: boolean;
    };

type Init =
  | { readonly ok: true; readonly initMs: number }
  | { readonly ok: false; readonly error: ErrorObject | undefined };

type Exit = { readonly code: number | null; readonly signal: NodeJS.Signals | null };

/** What the current invocation has seen so far. */
interface Serving {
  readonly requestId: string;
  logs: string;
  /** The streams whose end-of-invocation marker has arrived. */
  readonly ended: Set<"stdout" | "stderr">;
  result: Extract<BootstrapMessage, { type: "result" }> | undefined;
  readonly onLine: (line: string) => void;
  /** Called whenever something the invocation waits for arrived. */
  readonly wake: () => void;
}

/**
 * A Node 24 process that loads the function once and serves one invocation at a time. Spawned by the
 * constructor (the Init phase starts at once); `invoke` waits for it.
 */
export class LambdaEnvironment {
  readonly config: EnvironmentConfig;
  readonly #child: ChildProcess;
  readonly #init: Promise<Init>;
  readonly #exited: Promise<Exit>;
  #exit: Exit | undefined;
  #spawnError: Error | undefined;
  #node: string | undefined;
  #invocations = 0;
  #busy = false;
  #serving: Serving | undefined;
  /** Output written while no invocation ran: shown in the next invocation's logs, as in Lambda's log stream. */
  #between = "";
  readonly #pending = { stdout: "", stderr: "" };
  #clockMessages = 0;
  /** Clock moves sent and not yet acknowledged, by sequence number: their `advance` waits for them. */
  readonly #clockAcks = new Map<number, () => void>();

  constructor(config: EnvironmentConfig) {
    this.config = config;
    this.#child = spawn(
      config.nodeBin,
      [LAMBDA_BOOTSTRAP, config.codeDir, config.handler, config.functionName, String(config.memorySize)],
      {
        cwd: config.codeDir,
        env: { ...config.env },
        stdio: ["ignore", "pipe", "pipe", "ipc"],
        serialization: "json",
      },
    );
    this.#exited = new Promise((resolve) => {
      const done = (exit: Exit) => {
        this.#exit ??= exit;
        this.#ackAllClockMoves();
        this.#serving?.wake();
        resolve(this.#exit);
      };
      this.#child.on("error", (error) => {
        // Node emits "error" when the process could not be spawned (or killed); only the first ends it here.
        if (this.#child.pid !== undefined) return;
        this.#spawnError = error;
        done({ code: null, signal: null });
      });
      // "close" (not "exit"): every byte of stdout and stderr has been read by then.
      this.#child.once("close", (code, signal) => done({ code, signal }));
    });
    this.#init = new Promise((resolve) => {
      this.#child.on("message", (message: BootstrapMessage) => {
        if (message.type === "ready") {
          this.#node = message.node;
          resolve({ ok: true, initMs: message.initMs });
        } else if (message.type === "init-error") {
          resolve({ ok: false, error: message.error });
        } else if (message.type === "clock-ack") {
          this.#ackClockMove(message.seq);
        } else if (this.#serving?.requestId === message.requestId) {
          this.#serving.result = message;
          this.#serving.wake();
        }
      });
      void this.#exited.then(() => resolve({ ok: false, error: undefined }));
    });
    // A process that lost its channel reads no clock move any more: nothing waits for it.
    this.#child.once("disconnect", () => this.#ackAllClockMoves());
    this.#child.stdout?.on("data", (chunk: Buffer) => this.#output("stdout", chunk.toString("utf8")));
    this.#child.stderr?.on("data", (chunk: Buffer) => this.#output("stderr", chunk.toString("utf8")));
    this.#child.stdout?.on("end", () => this.#flush("stdout"));
    this.#child.stderr?.on("end", () => this.#flush("stderr"));
  }

  /** The process ID (undefined if it could not start). */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Whether the environment can serve another invocation (its process lives and is not serving one). */
  get available(): boolean {
    return this.#exit === undefined && !this.#busy && this.#child.exitCode === null;
  }

  /** Whether the process has exited (or never started). */
  get exited(): boolean {
    return this.#exit !== undefined || this.#child.exitCode !== null || this.#child.signalCode !== null;
  }

  /** Invocations served so far (the first was the cold start). */
  get invocations(): number {
    return this.#invocations;
  }

  /**
   * Runs one invocation: waits for Init (a cold start), sends the event, and resolves with how it ended. The
   * function timeout runs from when the event is sent, less any Init beyond INIT_LIMIT_MS. Never rejects for the
   * function's own failures; after "timed-out", "killed", "crashed" or an uncaught error the environment is gone.
   */
  async invoke(request: InvocationRequest): Promise<LambdaInvocation> {
    if (!this.available) throw new Error("lambda-environment: the environment is busy or gone");
    this.#busy = true;
    const coldStart = this.#invocations === 0;
    this.#invocations++;
    const started = performance.now();
    let wake: () => void = () => {};
    const serving: Serving = {
      requestId: request.requestId,
      logs: this.#between,
      ended: new Set(),
      result: undefined,
      onLine: (line) => {
        if (request.killWhen?.(line)) stop("killWhen");
      },
      wake: () => wake(),
    };
    this.#between = "";
    this.#serving = serving;

    let stoppedBy: "timed-out" | NonNullable<LambdaInvocation["killedBy"]> | undefined;
    const stop = (why: NonNullable<typeof stoppedBy>) => {
      if (stoppedBy !== undefined || this.#exit !== undefined || serving.result !== undefined) return;
      stoppedBy = why;
      this.#child.kill("SIGKILL");
    };
    const onAbort = () => stop("signal");
    request.signal?.addEventListener("abort", onAbort);
    // A limit, not a wait: what a caller that stops waiting sees.
    const killTimer =
      request.killAfterMs === undefined
        ? undefined
        : setTimeout(() => stop("killAfterMs"), request.killAfterMs);
    let timeoutTimer: NodeJS.Timeout | undefined;
    let unfollowClock: (() => void) | undefined;
    if (request.signal?.aborted) onAbort();

    try {
      const init = await this.#init;
      if (init.ok && stoppedBy === undefined) {
        const initExcessMs = coldStart ? Math.max(0, performance.now() - started - INIT_LIMIT_MS) : 0;
        const budgetMs = Math.max(0, this.config.timeoutMs - initExcessMs);
        // Lambda stops a function at its timeout; this is a limit, not a wait.
        timeoutTimer = setTimeout(() => stop("timed-out"), budgetMs);
        // The clock's offset now and following it from now on, in one synchronous step: an advance before this
        // is in the invoke message, one after reaches the process after it (IPC keeps the order of messages).
        const clockOffsetMs = request.clock?.offsetMs ?? request.clockOffsetMs;
        unfollowClock = request.clock?.follow((offsetMs) => this.#moveClock(offsetMs));
        this.#child.send(
          {
            type: "invoke",
            requestId: request.requestId,
            event: request.event,
            timeoutMs: budgetMs,
            clockOffsetMs,
          },
          // Not sent only when the process is gone: its exit ends the invocation ("crashed").
          () => {},
        );
        await new Promise<void>((resolve) => {
          wake = () => {
            const answered =
              serving.result !== undefined &&
              !serving.result.fatal &&
              serving.ended.has("stdout") &&
              serving.ended.has("stderr");
            if (answered || this.#exit !== undefined) resolve();
          };
          wake();
        });
      } else if (!init.ok) {
        // The process exits after an Init error: wait for it, so that its last logs are in.
        await this.#exited;
      }
      if (this.#exit === undefined && (serving.result?.fatal === true || stoppedBy !== undefined)) {
        await this.#exited;
      }
      if (this.#spawnError !== undefined) {
        throw new Error(
          `lambda-environment: could not start ${this.config.nodeBin}: ${this.#spawnError.message}`,
        );
      }
      return this.#outcome(request.requestId, serving, init, stoppedBy, coldStart);
    } finally {
      unfollowClock?.();
      clearTimeout(timeoutTimer);
      clearTimeout(killTimer);
      request.signal?.removeEventListener("abort", onAbort);
      this.#serving = undefined;
      this.#busy = false;
    }
  }

  #outcome(
    requestId: string,
    serving: Serving,
    init: Init,
    stoppedBy: "timed-out" | NonNullable<LambdaInvocation["killedBy"]> | undefined,
    coldStart: boolean,
  ): LambdaInvocation {
    const exit = this.#exit ?? { code: null, signal: null };
    const base = {
      logs: serving.logs,
      exitCode: exit.code,
      signal: exit.signal,
      requestId,
      nodeVersion: this.#node,
      killedBy: stoppedBy === "timed-out" ? undefined : stoppedBy,
      environment: { pid: this.#child.pid, coldStart },
    };
    if (stoppedBy === "timed-out") {
      return {
        ...base,
        outcome: "timed-out",
        functionError: "Unhandled",
        result: {
          errorType: "Sandbox.Timedout",
          errorMessage: `RequestId: ${requestId} Error: Task timed out after ${(this.config.timeoutMs / 1000).toFixed(2)} seconds`,
        },
      };
    }
    if (!init.ok && init.error !== undefined && stoppedBy === undefined) {
      return { ...base, outcome: "threw", functionError: "Unhandled", result: init.error };
    }
    const result = serving.result;
    if (stoppedBy !== undefined || result === undefined) {
      return {
        ...base,
        outcome: stoppedBy !== undefined ? "killed" : "crashed",
        functionError: "Unhandled",
        result: {
          errorType: "Runtime.ExitError",
          errorMessage: `RequestId: ${requestId} Error: Runtime exited ${exit.signal ? `with error: signal: ${exit.signal.toLowerCase().replace(/^sig/, "")}` : `with error: exit status ${exit.code}`}`,
        },
      };
    }
    if (!result.ok) return { ...base, outcome: "threw", functionError: "Unhandled", result: result.error };
    return { ...base, outcome: "returned", functionError: undefined, result: result.result };
  }

  /**
   * Sends the fake clock's new offset to the process; resolves when the process acknowledges it (from then on the
   * function reads the new time), or at once when the process is gone.
   */
  #moveClock(offsetMs: number): Promise<void> {
    if (this.exited || !this.#child.connected) return Promise.resolve();
    const seq = ++this.#clockMessages;
    return new Promise((resolve) => {
      this.#clockAcks.set(seq, resolve);
      this.#child.send({ type: "clock", clockOffsetMs: offsetMs, seq }, (error) => {
        if (error) this.#ackClockMove(seq);
      });
    });
  }

  #ackClockMove(seq: number): void {
    const resolve = this.#clockAcks.get(seq);
    this.#clockAcks.delete(seq);
    resolve?.();
  }

  #ackAllClockMoves(): void {
    for (const seq of [...this.#clockAcks.keys()]) this.#ackClockMove(seq);
  }

  /** Splits a stream's output into lines: the serving invocation's logs (or the next one's, between them). */
  #output(stream: "stdout" | "stderr", text: string): void {
    const lines = (this.#pending[stream] + text).split("\n");
    this.#pending[stream] = lines.pop() ?? "";
    for (const line of lines) this.#line(stream, line, true);
  }

  #flush(stream: "stdout" | "stderr"): void {
    const rest = this.#pending[stream];
    this.#pending[stream] = "";
    if (rest !== "") this.#line(stream, rest, false);
  }

  #line(stream: "stdout" | "stderr", line: string, complete: boolean): void {
    const serving = this.#serving;
    const marker = line.indexOf(END_OF_INVOCATION);
    if (marker >= 0) {
      // What the function wrote without a newline before the marker is the end of its output.
      const before = line.slice(0, marker);
      if (serving !== undefined) {
        serving.logs += before;
        serving.ended.add(stream);
        serving.wake();
      } else this.#between += before;
      return;
    }
    const text = complete ? `${line}\n` : line;
    if (serving === undefined) {
      this.#between += text;
      return;
    }
    serving.logs += text;
    serving.onLine(line);
  }

  /** Ends the environment (SIGKILL) and resolves once its process has exited. */
  async close(): Promise<void> {
    this.killNow();
    await this.#exited;
  }

  /** Sends SIGKILL without waiting (for a process "exit" listener, which cannot wait). */
  killNow(): void {
    if (!this.exited) this.#child.kill("SIGKILL");
  }
}
