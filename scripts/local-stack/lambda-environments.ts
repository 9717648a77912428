/**
 * The execution environments of the local stack's functions, reused as Lambda reuses them: an invocation gets an
 * idle environment of the same function configuration (code, handler, memory, timeout, environment variables) if
 * there is one — a warm start, no Init — and a new one otherwise (a cold start). An environment serves one
 * invocation at a time, so concurrent invocations get separate environments ("For each concurrent request, Lambda
 * provisions a separate instance of your execution environment":
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html); one that timed out, crashed or was
 * killed is gone, so the next invocation starts a new one (Lambda "resets the execution environment":
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html).
 */
import { type EnvironmentConfig, LambdaEnvironment } from "./lambda-environment.ts";

/** How many idle environments a pool keeps; older ones are shut down (Lambda shuts idle ones down too). */
const DEFAULT_MAX_IDLE = 4;

/** Every pool not yet closed: their processes end when this process exits, whatever else happens. */
const open = new Set<LambdaEnvironments>();
let exitHookInstalled = false;

/**
 * A pool of execution environments. Its owner closes it (a stack's `close()`, a test's end): `close()` ends every
 * process, busy or idle.
 */
export class LambdaEnvironments {
  readonly #maxIdle: number;
  /** Idle environments by configuration key, most recently used last. */
  readonly #idle = new Map<string, LambdaEnvironment[]>();
  readonly #all = new Set<LambdaEnvironment>();
  #closed = false;
  #started = 0;

  constructor(options: { readonly maxIdle?: number } = {}) {
    this.#maxIdle = options.maxIdle ?? DEFAULT_MAX_IDLE;
    open.add(this);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      // Synchronous, as "exit" listeners must be: SIGKILL needs no answer.
      process.once("exit", () => {
        for (const pool of open) pool.#killAll();
      });
    }
  }

  /** Environments started so far (each was a cold start). */
  get started(): number {
    return this.#started;
  }

  /** Processes of this pool that have not exited yet (idle or serving). */
  get alive(): number {
    return [...this.#all].filter((environment) => !environment.exited).length;
  }

  /**
   * Runs `use` on an environment of `config` that no other invocation is using — an idle one if there is one,
   * else a new one — and keeps it for the next invocation if it is still alive afterwards.
   */
  async with<T>(config: EnvironmentConfig, use: (environment: LambdaEnvironment) => Promise<T>): Promise<T> {
    if (this.#closed) throw new Error("lambda-environments: the pool is closed");
    const key = configKey(config);
    const environment = this.#takeIdle(key) ?? this.#start(config);
    try {
      return await use(environment);
    } finally {
      this.#release(key, environment);
    }
  }

  /** Ends every environment and waits for their processes to exit. Later invocations are refused. */
  async close(): Promise<void> {
    this.#closed = true;
    open.delete(this);
    this.#idle.clear();
    const all = [...this.#all];
    this.#all.clear();
    await Promise.all(all.map((environment) => environment.close()));
  }

  #takeIdle(key: string): LambdaEnvironment | undefined {
    const idle = this.#idle.get(key);
    while (idle !== undefined && idle.length > 0) {
      const environment = idle.pop();
      if (environment?.available) return environment;
      if (environment !== undefined) this.#forget(environment);
    }
    return undefined;
  }

  #start(config: EnvironmentConfig): LambdaEnvironment {
    const environment = new LambdaEnvironment(config);
    this.#all.add(environment);
    this.#started++;
    return environment;
  }

  #release(key: string, environment: LambdaEnvironment): void {
    if (this.#closed || !environment.available) {
      this.#forget(environment);
      return;
    }
    const idle = this.#idle.get(key) ?? [];
    idle.push(environment);
    this.#idle.set(key, idle);
    let count = [...this.#idle.values()].reduce((sum, list) => sum + list.length, 0);
    for (const [, list] of this.#idle) {
      while (count > this.#maxIdle && list.length > 0) {
        const oldest = list.shift();
        if (oldest !== undefined) this.#forget(oldest);
        count--;
      }
    }
  }

  #forget(environment: LambdaEnvironment): void {
    this.#all.delete(environment);
    void environment.close();
  }

  #killAll(): void {
    for (const environment of this.#all) environment.killNow();
  }
}

/** Environments share a process only when everything that makes a function configuration is equal. */
function configKey(config: EnvironmentConfig): string {
  const env = Object.entries(config.env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([
    config.nodeBin,
    config.codeDir,
    config.handler,
    config.functionName,
    config.memorySize,
    config.timeoutMs,
    env,
  ]);
}
