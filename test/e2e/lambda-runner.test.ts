import { createServer } from "node:http";
import { describe, expect, it } from "vitest";
import { FakeClock } from "../../scripts/local-stack/fake-clock.ts";
import { extractLambdaCode, invokeLambda } from "../../scripts/local-stack/lambda-runner.ts";
import { listenOnLoopback } from "../../scripts/local-stack/loopback.ts";

/** A stand-in function (CommonJS, as Lambda loads index.js) for checking the harness itself. */
const CODE = `
exports.handler = async (event, context) => {
  console.log("handling " + event.action);
  console.error("to stderr");
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
