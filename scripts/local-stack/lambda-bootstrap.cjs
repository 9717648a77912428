"use strict";
// One Lambda execution environment of the local stack (scripts/local-stack/lambda-environment.ts starts it): a
// small stand-in for the nodejs24.x runtime's bootstrap. Init loads the function's `index.js` once (CommonJS, as
// Lambda loads it); then the environment serves invocations one at a time, each an `invoke` message over the IPC
// channel (where Lambda's runtime asks its Runtime API for the next event) answered by a `result` message.
// https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html
//
// Bare imports from the bundle resolve only to Node built-ins and `@aws-sdk/*` (with `@smithy/*`), as in the real
// runtime, so a dependency left out of the bundle fails here as it would in AWS.
//
// Errors as the Node.js runtime treats them (aws-lambda-nodejs-runtime-interface-client, src/Runtime.js
// `_setErrorCallbacks`): a handler that throws or rejects fails that invocation only, and the environment serves
// the next one; an uncaught exception or an unhandled rejection is reported as the invocation's error, then the
// process exits (129 / 128), so Lambda starts a new environment for the next invocation.
const path = require("node:path");
const Module = require("node:module");

const [codeDir, handlerSpec, functionName, memoryText] = process.argv.slice(2);
const dot = handlerSpec.lastIndexOf(".");
const entry = path.join(codeDir, `${handlerSpec.slice(0, dot)}.js`);
const exportName = handlerSpec.slice(dot + 1);
/** Written to stdout and stderr after each invocation: the runner reads the logs up to it (never shown). */
const END_OF_INVOCATION = "\u001eakm-lambda-invocation-end ";

// A test clock: the function sees the wall clock shifted by the invocation's clockOffsetMs (timers are not
// affected). Installed before the code loads, so that a `Date.now` the code keeps from its init moves too. A clock
// the runner follows (a stack's FakeClock) also moves while an invocation runs: each `clock` message sets the new
// offset and is acknowledged, so the function reads the new time in everything it does after that.
const RealDate = Date;
let clockOffsetMs = 0;
const shiftedNow = () => RealDate.now() + clockOffsetMs;
globalThis.Date = new Proxy(RealDate, {
  construct: (target, args, newTarget) =>
    Reflect.construct(target, args.length === 0 ? [shiftedNow()] : args, newTarget),
  apply: () => new RealDate(shiftedNow()).toString(),
  get: (target, property, receiver) =>
    property === "now" ? shiftedNow : Reflect.get(target, property, receiver),
});

const originalResolve = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  const bare = !request.startsWith(".") && !request.startsWith("/") && !Module.isBuiltin(request);
  if (parent && parent.filename === entry && bare && !/^@(aws-sdk|smithy)\//.test(request)) {
    const error = new Error(
      `Cannot find module '${request}' (the Lambda runtime provides only Node.js built-ins and the AWS SDK for JavaScript v3 with its @smithy packages)`,
    );
    error.code = "MODULE_NOT_FOUND";
    throw error;
  }
  return originalResolve.call(this, request, parent, ...rest);
};

function describe(error) {
  const isError = error instanceof Error;
  return {
    errorType: isError ? error.name : typeof error,
    errorMessage: isError ? error.message : String(error),
    trace: isError && typeof error.stack === "string" ? error.stack.split("\n") : [],
  };
}

/** The request being served, while an invocation runs. */
let current;
let initialized = false;

function answer(outcome, then) {
  const requestId = current;
  current = undefined;
  let message = { type: "result", requestId, ...outcome };
  try {
    JSON.stringify(message);
  } catch (error) {
    message = { type: "result", requestId, ok: false, error: describe(error), fatal: outcome.fatal };
  }
  process.stdout.write(`${END_OF_INVOCATION}${requestId}\n`);
  process.stderr.write(`${END_OF_INVOCATION}${requestId}\n`);
  process.send(message, then);
}

function fatal(error, exitCode) {
  const exit = () => process.exit(exitCode);
  if (current !== undefined) answer({ ok: false, error: describe(error), fatal: true }, exit);
  else if (!initialized) process.send({ type: "init-error", error: describe(error) }, exit);
  else exit(); // between invocations: the runner sees the environment gone and starts another
}
process.on("uncaughtException", (error) => fatal(error, 129));
process.on("unhandledRejection", (error) => fatal(error, 128));
// The runner is gone (or closed the environment): so is this environment.
process.on("disconnect", () => process.exit(0));

// Init: the function's static code runs once per environment.
const initStart = performance.now();
let handler;
try {
  handler = require(entry)[exportName];
  if (typeof handler !== "function") throw new Error(`${handlerSpec} is undefined or not exported`);
} catch (error) {
  process.send({ type: "init-error", error: describe(error) }, () => process.exit(129));
  handler = undefined;
}

async function invoke(request) {
  current = request.requestId;
  clockOffsetMs = request.clockOffsetMs;
  const deadline = RealDate.now() + request.timeoutMs;
  const context = {
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION || "us-east-1"}:123456789012:function:${functionName}`,
    memoryLimitInMB: memoryText,
    awsRequestId: request.requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: "local",
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - RealDate.now()),
  };
  let outcome;
  try {
    const result = await handler(request.event, context);
    outcome = { ok: true, result: result === undefined ? null : result };
  } catch (error) {
    outcome = { ok: false, error: describe(error) };
  }
  // An uncaught error of this invocation may have answered (and be exiting) already.
  if (current === request.requestId) answer(outcome);
}

if (handler !== undefined) {
  process.on("message", (message) => {
    if (message?.type === "invoke") void invoke(message);
    else if (message?.type === "clock") {
      clockOffsetMs = message.clockOffsetMs;
      process.send({ type: "clock-ack", seq: message.seq });
    }
  });
  initialized = true;
  process.send({
    type: "ready",
    node: process.versions.node,
    initMs: Math.round(performance.now() - initStart),
  });
}
