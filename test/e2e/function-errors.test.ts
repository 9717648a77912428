/**
 * A function that throws, times out or crashes ends the execution Failed with its own message, whichever way
 * AWS treats FunctionError: the invoke step fails (its onFailure Abort ends the execution), or it succeeds and
 * the check step after it raises Lambda's error from the documented Payload output. AWS documents neither, so
 * every case runs both ways (SimulatorHooks.functionError).
 */
import { describe, expect, inject, it } from "vitest";
import type { LambdaInvocation } from "../../scripts/local-stack/lambda-runner.ts";
import { loadRenderedTemplate } from "../../scripts/local-stack/lambda-runner.ts";
import {
  type AutomationExecution,
  runAutomation,
  templateRunbooks,
} from "../../scripts/local-stack/runbook-simulator.ts";
import { useStacks } from "../../scripts/local-stack/stack-fixture.ts";
import { SAMPLE_PARAMETERS } from "../template/dist.ts";

const endpoint = inject("motoEndpoint");
const createStack = useStacks(endpoint);

const AWS_ANSWERS = ["fail-step", "continue"] as const;

/** Where the execution stopped: the failed step (not the loop around it), and the step before it. */
function failedStep(execution: AutomationExecution): { name: string; invoke: string | undefined } {
  const index = execution.steps.findLastIndex(
    (step) => step.status !== "Success" && step.action !== "aws:loop",
  );
  return { name: execution.steps[index]?.stepName ?? "", invoke: execution.steps[index - 1]?.stepName };
}

describe.each(AWS_ANSWERS)("a function error when Automation's answer to FunctionError is %s", (answer) => {
  it("ends the Rotate runbook Failed with Lambda's timeout message when the function times out", async () => {
    // Prepare: the function times out after 3 s; GitHub answers nothing for 10 minutes (the emulator drops the
    // request when the stack closes). The function cannot answer before GitHub does, so it times out however slow
    // or fast the machine is: no race (both timers run in this process, and the shorter one fires first).
    const stack = await createStack({ lambdaTimeoutSeconds: 3 });
    stack.github.addFault({ delayMs: 10 * 60_000, times: Infinity });

    // Act
    const { execution, invocations } = await stack.runRunbook("Rotate", {}, { functionError: answer });

    // Assess
    // Start only takes the rotation lock (no GitHub call); the loop's Rotate times out.
    expect(invocations.map((invocation) => [invocation.stepName, invocation.outcome])).toEqual([
      ["Start", "returned"],
      ["Rotate", "timed-out"],
    ]);
    expect(execution.status).toBe("Failed");
    expect(execution.failureMessage).toContain("Task timed out after 3.00 seconds");
    expect(failedStep(execution).name).toBe(answer === "fail-step" ? "Rotate" : "CheckRotate");
    expect(execution.steps.map((step) => step.stepName)).not.toContain("RotateResult");
  });

  it("ends the Rotate runbook Failed with Lambda's message when the function's process dies", async () => {
    // Prepare
    const stack = await createStack({ existingKeys: 1, seedReposWithExistingKey: true });
    const crash = new AbortController();
    stack.onSecretWritten(() => crash.abort());

    // Act
    const { execution, invocations } = await stack.runRunbook(
      "Rotate",
      {},
      { functionError: answer, killLambda: crash.signal },
    );

    // Assess
    expect(invocations.map((invocation) => [invocation.stepName, invocation.outcome])).toEqual([
      ["Start", "returned"],
      ["Rotate", "killed"],
    ]);
    expect(execution.status).toBe("Failed");
    expect(execution.failureMessage).toContain("Runtime exited with error: signal: kill");
    expect(failedStep(execution).name).toBe(answer === "fail-step" ? "Rotate" : "CheckRotate");
    expect(execution.steps.map((step) => step.stepName)).not.toContain("RotateResult");
    expect(
      (await stack.keys()).find((key) => key.accessKeyId === stack.existingKeys[0]?.accessKeyId)?.status,
    ).toBe("Active");
  });
});

describe.each(AWS_ANSWERS)(
  "a function that throws, when Automation's answer to FunctionError is %s",
  (answer) => {
    // A function that throws instead of answering (a bug): Lambda returns its error object as the Payload.
    const thrown = (requestId: string): LambdaInvocation => ({
      result: {
        errorType: "TypeError",
        errorMessage: "Cannot read properties of undefined",
        trace: ["at x"],
      },
      functionError: "Unhandled",
      outcome: "threw",
      logs: "",
      exitCode: 0,
      signal: null,
      nodeVersion: "24.0.0",
      requestId,
      killedBy: undefined,
    });
    const template = loadRenderedTemplate();
    const runbooks = templateRunbooks(template, {
      parameters: Object.fromEntries(
        Object.entries(SAMPLE_PARAMETERS).filter(([name]) => name in (template.Parameters ?? {})),
      ),
    });
    const PARAMETERS: Record<string, Record<string, string>> = {
      "Add-RepoConfig": { GITHUBOWNER: "octo-org", GITHUBREPO: "api" },
      "Delete-RepoConfig": { GITHUBOWNER: "octo-org", GITHUBREPO: "api" },
    };

    it.each(["Rotate", "Get-RepoList", "Add-RepoConfig", "Delete-RepoConfig"])(
      "ends %s Failed with the function's own error message",
      async (suffix) => {
        // Prepare
        const runbook = runbooks.find((r) => r.name.endsWith(`-${suffix}`));
        const calls: string[] = [];

        // Act
        const execution = await runAutomation(
          runbook?.document ?? { schemaVersion: "0.3", mainSteps: [] },
          PARAMETERS[suffix] ?? {},
          {
            functionError: answer,
            invokeLambda: async (call) => {
              calls.push(call.stepName);
              return thrown(`request-${calls.length}`);
            },
          },
        );

        // Assess
        expect(execution.status).toBe("Failed");
        expect(execution.failureMessage).toContain("TypeError: Cannot read properties of undefined");
        expect(calls).toHaveLength(1);
        const { name, invoke } = failedStep(execution);
        if (answer === "fail-step") expect(name).toBe(calls[0]);
        else expect([name, invoke]).toEqual([`Check${calls[0]}`, calls[0]]);
      },
    );
  },
);
