/**
 * Our rotation as users run it: the Rotate runbook of the rendered template, run by the runbook simulator, each
 * aws:invokeLambdaFunction step a fresh Node 24 process running the template's Lambda code on the scaled clock.
 */
import type { HandlerResult } from "../../src/handler-contract.ts";
import { MOTO_ACCOUNT_ID, MOTO_REGION } from "../../test/support/aws-fixtures.ts";
import { invokeLambda, type LambdaInvocation } from "../../test/support/lambda-runner.ts";
import { runAutomation } from "../../test/support/runbook-simulator.ts";
import type { ScaledClock } from "./clock.ts";
import type { BenchStack } from "./stack.ts";

/** The Lambda's configured timeout (the template's), whose last minute the function keeps in reserve. */
const LAMBDA_TIMEOUT_MS = 290_000;

export interface OursOutcome {
  readonly status: string;
  readonly failureMessage: string | undefined;
  readonly invocations: number;
  /** aws:sleep steps that waited for GitHub's write budget, and how long in total (emulated ms). */
  readonly budgetWaits: number;
  readonly budgetWaitMs: number;
  readonly newAccessKeyId: string;
  /** Progress lines of the Rotate steps, in order (what the runbook output showed). */
  readonly progress: readonly string[];
  /** Emulated epoch ms when Rotate answered Succeeded (every repository holds the new key, promoted). */
  readonly rotatedAt: number | undefined;
  /** What the last Rotate invocation answered. */
  readonly lastResult: HandlerResult | undefined;
}

export async function runOurs(stack: BenchStack, clock: ScaledClock): Promise<OursOutcome> {
  const invocations: LambdaInvocation[] = [];
  const progress: string[] = [];
  let budgetWaits = 0;
  let budgetWaitMs = 0;
  let rotatedAt: number | undefined;
  const execution = await runAutomation(
    stack.rotateRunbook,
    {},
    {
      region: MOTO_REGION,
      accountId: MOTO_ACCOUNT_ID,
      now: () => new Date(clock.now()),
      onSleep: async (request) => {
        if (request.stepName === "WaitForWriteBudget") {
          budgetWaits++;
          budgetWaitMs += request.ms;
        }
        await clock.sleep(request.ms);
      },
      invokeLambda: async (call) => {
        const invocation = await invokeLambda(call.payload, {
          env: { ...stack.env, ...clock.lambdaEnv() },
          lambda: stack.lambda,
          timeoutMs: LAMBDA_TIMEOUT_MS,
        });
        invocations.push(invocation);
        const result = invocation.result as Partial<HandlerResult> | null;
        if (call.stepName === "Rotate" && typeof result?.progress === "string")
          progress.push(result.progress);
        if (call.stepName === "Rotate" && result?.status === "Succeeded") rotatedAt = clock.now();
        if (invocation.outcome !== "returned") {
          process.stderr.write(`bench: invocation ${invocation.outcome}:\n${invocation.logs.slice(-2000)}\n`);
        }
        return invocation;
      },
    },
  );
  const rotateResults = invocations
    .map((i) => i.result as HandlerResult | null)
    .filter((r): r is HandlerResult => r?.action === "rotate");
  const lastResult = rotateResults.at(-1);
  return {
    status: execution.status,
    failureMessage: execution.failureMessage,
    invocations: invocations.length,
    budgetWaits,
    budgetWaitMs,
    newAccessKeyId: String(execution.outputs["Rotate.NewAccessKeyId"] ?? ""),
    progress,
    rotatedAt,
    lastResult,
  };
}
