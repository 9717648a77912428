/**
 * Our rotation as users run it: the Rotate runbook of the rendered template, run by the runbook simulator, each
 * aws:invokeLambdaFunction step a fresh Node 24 process running the template's Lambda code on the scaled clock.
 * Its aws:sleep steps (waiting for GitHub's write budget or rate limit) move the scaled clock on at once: nothing
 * runs meanwhile, so they cost no real time. The runbook repeats Rotate in an aws:loop of at most 100 iterations;
 * when that is not enough its outputs say `CheckRotateResult.Next = continues`, and the next execution (the
 * schedule's, in AWS) resumes the rotation: the bench starts Rotate again at once, as many times as needed.
 */

import { MOTO_ACCOUNT_ID, MOTO_REGION } from "../../scripts/local-stack/aws-fixtures.ts";
import { invokeLambda, type LambdaInvocation } from "../../scripts/local-stack/lambda-runner.ts";
import { runAutomation } from "../../scripts/local-stack/runbook-simulator.ts";
import type { HandlerResult } from "../../src/handler-contract.ts";
import type { ScaledClock } from "./clock.ts";
import type { BenchStack } from "./stack.ts";

/** The Lambda's configured timeout (the template's), whose last minute the function keeps in reserve. */
export const LAMBDA_TIMEOUT_MS = 290_000;
/** An aws:sleep shorter than this is "no wait" (the runbook sleeps until a whole-second timestamp). */
const NO_WAIT_MS = 1_000;
/** A safety stop: a rotation that needs more executions than this is reported as not finished. */
const MAX_EXECUTIONS = 20;

export interface OursOutcome {
  /** The last execution's status, and its failure message if it failed. */
  readonly status: string;
  readonly failureMessage: string | undefined;
  /** Executions of the Rotate runbook until the rotation ended (more than one when 100 iterations were not enough). */
  readonly executions: number;
  /** RotateLoop iterations (Rotate invocations) over all executions. */
  readonly iterations: number;
  /** Lambda invocations of every kind (Start, Rotate, RotateResult, Retire). */
  readonly invocations: number;
  /**
   * WaitForWriteBudget steps that actually waited (1 s or more), and how long in total (emulated ms): for GitHub's
   * write budget, and for its primary rate limit (the Rotate before said so).
   */
  readonly budgetWaits: number;
  readonly budgetWaitMs: number;
  readonly rateLimitWaits: number;
  readonly rateLimitWaitMs: number;
  /** `CheckRotateResult.Next` of the last execution: retire | done | continues. */
  readonly next: string;
  readonly newAccessKeyId: string;
  /** `CheckRotateResult.Progress` of each execution, in order. */
  readonly executionProgress: readonly string[];
  /** Progress lines of the Rotate invocations, in order. */
  readonly progress: readonly string[];
  /** Emulated epoch ms when Rotate answered done (every repository holds the new key, promoted). */
  readonly rotatedAt: number | undefined;
  /** What the last Rotate invocation answered. */
  readonly lastResult: HandlerResult | undefined;
  /** The bench cancelled the execution after `maxIterations` Rotate invocations. */
  readonly stoppedByBench: boolean;
  /**
   * The longest Lambda invocation in emulated ms. The runner's timeout is real time, so at a time scale above 1
   * an invocation can outlast the function's timeout (LAMBDA_TIMEOUT_MS) in emulated time without being killed:
   * compare this with it.
   */
  readonly longestInvocationMs: number;
}

export interface OursOptions {
  /**
   * A safety stop: cancel the execution (status Cancelled, as a user stopping it) once this many Rotate
   * invocations ran, for a rotation that cannot end at this scale. Default: none.
   */
  readonly maxIterations?: number;
}

export async function runOurs(
  stack: BenchStack,
  clock: ScaledClock,
  options: OursOptions = {},
): Promise<OursOutcome> {
  const stop = new AbortController();
  const invocations: LambdaInvocation[] = [];
  const progress: string[] = [];
  const executionProgress: string[] = [];
  let iterations = 0;
  let longestInvocationMs = 0;
  let budgetWaits = 0;
  let budgetWaitMs = 0;
  let rateLimitWaits = 0;
  let rateLimitWaitMs = 0;
  /** Whether the last Rotate stopped for GitHub's primary rate limit (its progress line says so). */
  let rateLimited = false;
  let rotatedAt: number | undefined;
  let executions = 0;
  let status = "";
  let failureMessage: string | undefined;
  let next = "";
  let newAccessKeyId = "";
  do {
    executions++;
    const execution = await runAutomation(
      stack.rotateRunbook,
      {},
      {
        region: MOTO_REGION,
        accountId: MOTO_ACCOUNT_ID,
        now: () => new Date(clock.now()),
        signal: stop.signal,
        onSleep: async (request) => {
          if (request.stepName === "WaitForWriteBudget" && request.ms >= NO_WAIT_MS) {
            if (rateLimited) {
              rateLimitWaits++;
              rateLimitWaitMs += request.ms;
            } else {
              budgetWaits++;
              budgetWaitMs += request.ms;
            }
          }
          // Nothing runs during an aws:sleep (the step before it has ended, no Lambda process is alive): the
          // clock moves on at once instead of waiting it out in real time.
          clock.skip(request.ms);
        },
        invokeLambda: async (call) => {
          // No `environments`: each invocation gets a new execution environment (a cold start). The preload reads
          // the scaled clock's anchor when the process starts, and an aws:sleep moves the anchor (`skip`), so a
          // warm process would run on a stale clock; the report counts this cold start in every step.
          const startedAt = clock.now();
          const invocation = await invokeLambda(call.payload, {
            env: { ...stack.env, ...clock.lambdaEnv() },
            lambda: stack.lambda,
            timeoutMs: LAMBDA_TIMEOUT_MS,
          });
          longestInvocationMs = Math.max(longestInvocationMs, clock.now() - startedAt);
          invocations.push(invocation);
          const result = invocation.result as Partial<HandlerResult> | null;
          if (call.stepName === "Rotate") {
            iterations++;
            if (typeof result?.progress === "string") progress.push(result.progress);
            rateLimited = String(result?.progress ?? "").includes("primary rate limit");
            if (result?.next === "done" && rotatedAt === undefined) rotatedAt = clock.now();
            const limit = options.maxIterations;
            if (limit !== undefined && iterations >= limit && result?.next !== "done") stop.abort();
          }
          if (invocation.outcome !== "returned") {
            process.stderr.write(
              `bench: invocation ${invocation.outcome}:\n${invocation.logs.slice(-2000)}\n`,
            );
          }
          return invocation;
        },
      },
    );
    status = execution.status;
    failureMessage = execution.failureMessage;
    next = String(execution.outputs["CheckRotateResult.Next"] ?? "");
    newAccessKeyId = String(execution.outputs["CheckRotateResult.NewAccessKeyId"] ?? newAccessKeyId);
    executionProgress.push(String(execution.outputs["CheckRotateResult.Progress"] ?? ""));
  } while (status === "Success" && next === "continues" && executions < MAX_EXECUTIONS);
  const rotateResults = invocations
    .map((i) => i.result as HandlerResult | null)
    .filter((r): r is HandlerResult => r?.action === "rotate");
  return {
    status,
    failureMessage,
    executions,
    iterations,
    invocations: invocations.length,
    budgetWaits,
    budgetWaitMs,
    rateLimitWaits,
    rateLimitWaitMs,
    next,
    newAccessKeyId,
    executionProgress,
    progress,
    rotatedAt,
    lastResult: rotateResults.at(-1),
    stoppedByBench: stop.signal.aborted,
    longestInvocationMs,
  };
}
