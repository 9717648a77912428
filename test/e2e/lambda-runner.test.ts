import { createServer } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { FakeClock } from "../../scripts/local-stack/fake-clock.ts";
import {
  extractLambdaCode,
  type InvokeOptions,
  invokeLambda,
  LambdaEnvironments,
} from "../../scripts/local-stack/lambda-runner.ts";
import { listenOnLoopback } from "../../scripts/local-stack/loopback.ts";

/** A stand-in function (CommonJS, as Lambda loads index.js) for checking the harness itself. */
const CODE = `
// Init: runs once per execution environment (counted across reloads of this module, if there were any).
globalThis.inits = (globalThis.inits ?? 0) + 1;
let invocations = 0;
exports.handler = async (event, context) => {
  invocations++;
  console.log("handling " + event.action);
  console.error("to stderr");
  if (event.action === "count") return { inits: globalThis.inits, invocations, pid: process.pid };
  if (event.action === "uncaught") {
    setImmediate(() => { throw new RangeError("thrown outside the handler"); });
    return new Promise(() => {});
  }
  if (event.action === "throw") throw new TypeError("bad input");
  if (event.action === "require") return require(event.module) && "loaded";
  if (event.action === "hang") { console.log("hanging now"); return new Promise(() => {}); }
  if (event.action === "clock") return { now: Date.now(), constructed: new Date().getTime() };
  if (event.action === "clock-around-request") {
    const before = Date.now();
    await (await fetch(event.url)).text();
    return { before, now: Date.now(), constructed: new Date().getTime() };
  }
  return {
    echo: event,
    node: process.versions.node,
    region: process.env.AWS_REGION,
    setting: process.env.SOME_SETTING,
    remaining: context.getRemainingTimeInMillis(),
  };
};
`;

const lambda = extractLambdaCode(CODE, { functionName: "harness-check" });
const env = { SOME_SETTING: "from the template" };

describe("Lambda runner", () => {
  it("runs the handler on Node 24 and returns its result and its stdout and stderr", async () => {
    // Prepare: a budget far above a cold start on a loaded machine; the context reports what is left of it.
    const timeoutMs = 10 * 60_000;

    // Act
    const invocation = await invokeLambda({ action: "echo", n: 1 }, { env, lambda, timeoutMs });

    // Assess
    expect(invocation.outcome).toBe("returned");
    expect(invocation.functionError).toBeUndefined();
    const result = invocation.result as Record<string, unknown>;
    expect(result.echo).toEqual({ action: "echo", n: 1 });
    expect(String(result.node).split(".")[0]).toBe("24");
    expect(result.region).toBe("us-east-1");
    expect(result.setting).toBe("from the template");
    expect(result.remaining).toBeGreaterThan(0);
    expect(result.remaining).toBeLessThanOrEqual(timeoutMs);
    expect(invocation.logs).toContain("handling echo");
    expect(invocation.logs).toContain("to stderr");
  });

  it("reports a thrown error as an Unhandled function error with its type and message", async () => {
    // Act
    const invocation = await invokeLambda({ action: "throw" }, { env, lambda });

    // Assess
    expect(invocation.outcome).toBe("threw");
    expect(invocation.functionError).toBe("Unhandled");
    expect(invocation.result).toMatchObject({ errorType: "TypeError", errorMessage: "bad input" });
  });

  it("lets the code require the AWS SDK but no other package, as the Lambda runtime does", async () => {
    // Act
    const sdk = await invokeLambda({ action: "require", module: "@aws-sdk/client-s3" }, { env, lambda });
    const other = await invokeLambda({ action: "require", module: "valibot" }, { env, lambda });

    // Assess
    expect(sdk.result).toBe("loaded");
    expect(other.functionError).toBe("Unhandled");
    expect(other.result).toMatchObject({
      errorMessage: expect.stringContaining("Cannot find module 'valibot'"),
    });
  });

  it("kills the function when a chosen log line appears", async () => {
    // Act
    const invocation = await invokeLambda(
      { action: "hang" },
      { env, lambda, killWhen: (line) => line.includes("hanging now") },
    );

    // Assess
    expect(invocation.outcome).toBe("killed");
    expect(invocation.killedBy).toBe("killWhen");
    expect(invocation.functionError).toBe("Unhandled");
    expect(invocation.signal).toBe("SIGKILL");
  });

  it("stops the function at its timeout", async () => {
    // Act
    const invocation = await invokeLambda({ action: "hang" }, { env, lambda, timeoutMs: 0 });

    // Assess
    expect(invocation.outcome).toBe("timed-out");
    expect(invocation.result).toMatchObject({ errorType: "Sandbox.Timedout" });
  });

  it("shows the function a clock moved forward by clockOffsetMs", async () => {
    // Prepare
    const dayMs = 24 * 60 * 60_000;
    const before = Date.now();

    // Act
    const invocation = await invokeLambda({ action: "clock" }, { env, lambda, clockOffsetMs: dayMs });

    // Assess
    const after = Date.now();
    const seen = invocation.result as { now: number; constructed: number };
    for (const value of [seen.now, seen.constructed]) {
      expect(value).toBeGreaterThanOrEqual(before + dayMs);
      expect(value).toBeLessThanOrEqual(after + dayMs);
    }
  });

  it("moves the clock of a running function, which reads the new time from the moment the move is over", async () => {
    // Prepare: the function asks a server for something; the server moves the clock a day on before it answers.
    const dayMs = 24 * 60 * 60_000;
    const clock = new FakeClock();
    await clock.advance(dayMs);
    const server = createServer((_request, response) => {
      void clock.advance(dayMs).then(() => response.end("moved"));
    });
    const url = await listenOnLoopback(server);
    const before = Date.now();

    try {
      // Act
      const invocation = await invokeLambda({ action: "clock-around-request", url }, { env, lambda, clock });

      // Assess
      const after = Date.now();
      const seen = invocation.result as { before: number; now: number; constructed: number };
      expect(seen.before).toBeGreaterThanOrEqual(before + dayMs);
      expect(seen.before).toBeLessThanOrEqual(after + dayMs);
      for (const value of [seen.now, seen.constructed]) {
        expect(value).toBeGreaterThanOrEqual(seen.before + dayMs);
        expect(value).toBeLessThanOrEqual(after + 2 * dayMs);
      }
      expect(clock.offsetMs).toBe(2 * dayMs);
    } finally {
      server.close();
    }
  });
});

describe("Lambda execution environments", () => {
  const pools: LambdaEnvironments[] = [];
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((pool) => pool.close()));
  });
  const pool = (): LambdaEnvironments => {
    const environments = new LambdaEnvironments();
    pools.push(environments);
    return environments;
  };
  const count = async (options: InvokeOptions) =>
    (await invokeLambda({ action: "count" }, options)).result as {
      inits: number;
      invocations: number;
      pid: number;
    };

  it("serves a later invocation of the same function from the warm environment, without Init", async () => {
    // Prepare
    const environments = pool();
    const first = await invokeLambda({ action: "count" }, { env, lambda, environments });

    // Act
    const second = await invokeLambda({ action: "count" }, { env, lambda, environments });

    // Assess
    expect(first.environment?.coldStart).toBe(true);
    expect(second.environment?.coldStart).toBe(false);
    expect(second.environment?.pid).toBe(first.environment?.pid);
    expect(second.result).toMatchObject({ inits: 1, invocations: 2 });
    expect(second.exitCode).toBeNull();
    expect(environments.started).toBe(1);
  });

  it("shows each invocation only its own logs", async () => {
    // Prepare
    const environments = pool();
    await invokeLambda({ action: "first" }, { env, lambda, environments });

    // Act
    const second = await invokeLambda({ action: "second" }, { env, lambda, environments });

    // Assess
    expect(second.logs).toBe("handling second\nto stderr\n");
  });

  it("keeps the environment after the handler throws, as the Node.js runtime does", async () => {
    // Prepare
    const environments = pool();
    const failed = await invokeLambda({ action: "throw" }, { env, lambda, environments });

    // Act
    const next = await invokeLambda({ action: "count" }, { env, lambda, environments });

    // Assess
    expect(failed.outcome).toBe("threw");
    expect(next.environment?.coldStart).toBe(false);
    expect(next.result).toMatchObject({ inits: 1, invocations: 2 });
  });

  it("starts a new environment after an invocation times out", async () => {
    // Prepare: a timeout of 0 stops the hanging handler at once; the configuration (timeout included) stays.
    const environments = pool();
    const timedOut = await invokeLambda({ action: "hang" }, { env, lambda, environments, timeoutMs: 0 });

    // Act
    const next = await invokeLambda({ action: "hang" }, { env, lambda, environments, timeoutMs: 0 });

    // Assess
    expect(timedOut.outcome).toBe("timed-out");
    expect(next.environment?.coldStart).toBe(true);
    expect(next.environment?.pid).not.toBe(timedOut.environment?.pid);
    expect(environments.started).toBe(2);
  });

  it("starts a new environment after the crash harness kills one", async () => {
    // Prepare
    const environments = pool();
    const killed = await invokeLambda(
      { action: "hang" },
      { env, lambda, environments, killWhen: (line) => line.includes("hanging now") },
    );

    // Act
    const next = await invokeLambda({ action: "count" }, { env, lambda, environments });

    // Assess
    expect(killed.outcome).toBe("killed");
    expect(killed.signal).toBe("SIGKILL");
    expect(next.environment?.coldStart).toBe(true);
    expect(next.result).toMatchObject({ inits: 1, invocations: 1 });
  });

  it("reports an error thrown outside the handler as the invocation's, then starts a new environment", async () => {
    // Prepare
    const environments = pool();
    const crashed = await invokeLambda({ action: "uncaught" }, { env, lambda, environments });

    // Act
    const next = await invokeLambda({ action: "count" }, { env, lambda, environments });

    // Assess
    expect(crashed.outcome).toBe("threw");
    expect(crashed.functionError).toBe("Unhandled");
    expect(crashed.result).toMatchObject({
      errorType: "RangeError",
      errorMessage: "thrown outside the handler",
    });
    expect(crashed.exitCode).toBe(129);
    expect(next.environment?.coldStart).toBe(true);
  });

  it("never shares an environment between different environment variables", async () => {
    // Prepare
    const environments = pool();
    const other = { SOME_SETTING: "another stack's" };
    const a1 = await count({ env, lambda, environments });

    // Act
    const b1 = await count({ env: other, lambda, environments });
    const a2 = await count({ env, lambda, environments });
    const b2 = await count({ env: other, lambda, environments });

    // Assess
    expect(b1.pid).not.toBe(a1.pid);
    expect([a2.pid, a2.invocations]).toEqual([a1.pid, 2]);
    expect([b2.pid, b2.invocations]).toEqual([b1.pid, 2]);
  });

  it("never shares an environment between two settings of the function timeout", async () => {
    // Prepare
    const environments = pool();
    const first = await count({ env, lambda, environments, timeoutMs: 60_000 });

    // Act
    const second = await count({ env, lambda, environments, timeoutMs: 30_000 });

    // Assess
    expect(second.pid).not.toBe(first.pid);
  });

  it("gives concurrent invocations separate environments", async () => {
    // Prepare
    const environments = pool();

    // Act
    const [a, b] = await Promise.all([
      count({ env, lambda, environments }),
      count({ env, lambda, environments }),
    ]);

    // Assess
    expect(a.pid).not.toBe(b.pid);
    expect([a.invocations, b.invocations]).toEqual([1, 1]);
    expect(environments.started).toBe(2);
  });

  it("moves a warm environment's clock with each invocation's clockOffsetMs", async () => {
    // Prepare
    const environments = pool();
    const dayMs = 24 * 60 * 60_000;
    await invokeLambda({ action: "clock" }, { env, lambda, environments });
    const before = Date.now();

    // Act
    const later = await invokeLambda(
      { action: "clock" },
      { env, lambda, environments, clockOffsetMs: dayMs },
    );

    // Assess
    const after = Date.now();
    expect(later.environment?.coldStart).toBe(false);
    const seen = later.result as { now: number; constructed: number };
    for (const value of [seen.now, seen.constructed]) {
      expect(value).toBeGreaterThanOrEqual(before + dayMs);
      expect(value).toBeLessThanOrEqual(after + dayMs);
    }
  });

  it("has a warm environment follow a fake clock that moves while it runs", async () => {
    // Prepare: a first invocation starts the environment; the clock moves a day between the invocations and
    // again, from the server the function asks, during the second one.
    const environments = pool();
    const dayMs = 24 * 60 * 60_000;
    const clock = new FakeClock();
    await invokeLambda({ action: "clock" }, { env, lambda, environments, clock });
    await clock.advance(dayMs);
    const server = createServer((_request, response) => {
      void clock.advance(dayMs).then(() => response.end("moved"));
    });
    const url = await listenOnLoopback(server);
    const before = Date.now();

    try {
      // Act
      const warm = await invokeLambda(
        { action: "clock-around-request", url },
        { env, lambda, environments, clock },
      );

      // Assess
      const after = Date.now();
      expect(warm.environment?.coldStart).toBe(false);
      const seen = warm.result as { before: number; now: number; constructed: number };
      expect(seen.before).toBeGreaterThanOrEqual(before + dayMs);
      expect(seen.before).toBeLessThanOrEqual(after + dayMs);
      for (const value of [seen.now, seen.constructed]) {
        expect(value).toBeGreaterThanOrEqual(seen.before + dayMs);
        expect(value).toBeLessThanOrEqual(after + 2 * dayMs);
      }
    } finally {
      server.close();
    }
  });

  it("lets the clock move on when the environment that follows it is killed meanwhile", async () => {
    // Prepare: the server the function asks kills the invocation, then moves the clock before it answers.
    const environments = pool();
    const clock = new FakeClock();
    const kill = new AbortController();
    let moved: Promise<void> | undefined;
    const server = createServer((_request, response) => {
      kill.abort();
      moved = clock.advance(60_000).then(() => {
        response.end("moved");
      });
    });
    const url = await listenOnLoopback(server);

    try {
      // Act
      const killed = await invokeLambda(
        { action: "clock-around-request", url },
        { env, lambda, environments, clock, signal: kill.signal },
      );
      const next = await count({ env, lambda, environments, clock });

      // Assess
      expect(killed.outcome).toBe("killed");
      await expect(moved).resolves.toBeUndefined();
      expect(next.inits).toBe(1);
      expect(next.pid).not.toBe(killed.environment?.pid);
    } finally {
      server.close();
    }
  });

  it("never shares an environment between two pools, even of the same configuration", async () => {
    // Prepare: two stacks' pools.
    const [first, second] = [pool(), pool()];
    const a1 = await count({ env, lambda, environments: first });

    // Act
    const b1 = await count({ env, lambda, environments: second });
    const a2 = await count({ env, lambda, environments: first });

    // Assess
    expect(b1.pid).not.toBe(a1.pid);
    expect(b1).toMatchObject({ inits: 1, invocations: 1 });
    expect([a2.pid, a2.invocations]).toEqual([a1.pid, 2]);
  });

  it("ends every process when the pool is closed", async () => {
    // Prepare
    const environments = pool();
    const [a, b] = await Promise.all([
      count({ env, lambda, environments }),
      count({ env, lambda, environments }),
    ]);

    // Act
    await environments.close();

    // Assess
    expect(environments.alive).toBe(0);
    for (const pid of [a.pid, b.pid]) expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
  });

  it("ends the environment of an invocation made without a pool once it has answered", async () => {
    // Act
    const { pid } = await count({ env, lambda });

    // Assess
    expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
  });
});
