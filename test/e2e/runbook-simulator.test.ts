import { describe, expect, it } from "vitest";
import type { LambdaInvocation } from "../support/lambda-runner.ts";
import {
  type AutomationDocument,
  InvalidAutomationExecutionParametersError,
  type LambdaCall,
  parseAutomationDocument,
  runAutomation,
  type SimulatorHooks,
} from "../support/runbook-simulator.ts";

/** A function that answers each call with the next result (or repeats the last one), and records the calls. */
function scriptedLambda(...answers: Partial<LambdaInvocation>[]) {
  const calls: LambdaCall[] = [];
  const invokeLambda = async (call: LambdaCall): Promise<LambdaInvocation> => {
    calls.push(call);
    const answer = answers[Math.min(calls.length, answers.length) - 1] ?? {};
    return {
      result: null,
      functionError: undefined,
      outcome: "returned",
      logs: "",
      exitCode: 0,
      signal: null,
      nodeVersion: "24.0.0",
      requestId: `request-${calls.length}`,
      killedBy: undefined,
      ...answer,
    };
  };
  return { calls, invokeLambda };
}

function doc(yaml: string): AutomationDocument {
  return parseAutomationDocument(`schemaVersion: "0.3"\n${yaml}`);
}

const INVOKE_STEP = `
  - name: Work
    action: aws:invokeLambdaFunction
    inputs:
      FunctionName: fn
      InputPayload:
        flag: "{{ Flag }}"
        items: "{{ Items }}"
        label: "run {{ automation:EXECUTION_ID }} for {{ Name }}"
    outputs:
      - Name: Status
        Selector: $.Payload.status
        Type: String
      - Name: Count
        Selector: $.Payload.count
        Type: Integer
`;

const PARAMETERS = `
parameters:
  Flag:
    type: Boolean
    default: false
  Items:
    type: StringList
    default: [a]
  Name:
    type: String
    allowedPattern: ^[a-z]+$
`;

describe("runbook simulator", () => {
  it("substitutes typed parameters, defaults and the execution ID into the Lambda's payload", async () => {
    // Prepare
    const lambda = scriptedLambda({ result: { status: "Succeeded", count: 2 } });
    const document = doc(`${PARAMETERS}\noutputs: [Work.Status, Work.Count]\nmainSteps:${INVOKE_STEP}`);

    // Act
    const execution = await runAutomation(
      document,
      { Flag: ["true"], Name: "abc" },
      {
        invokeLambda: lambda.invokeLambda,
        executionId: "exec-1",
      },
    );

    // Assess
    expect(execution.status).toBe("Success");
    expect(lambda.calls[0]?.payload).toEqual({ flag: true, items: ["a"], label: "run exec-1 for abc" });
    expect(execution.outputs).toEqual({ "Work.Status": "Succeeded", "Work.Count": 2 });
  });

  it("refuses to start with a missing, unknown or non-matching parameter, as the API does", async () => {
    // Prepare
    const lambda = scriptedLambda();
    const document = doc(`${PARAMETERS}\nmainSteps:${INVOKE_STEP}`);
    const hooks: SimulatorHooks = { invokeLambda: lambda.invokeLambda };

    // Act
    const missing = runAutomation(document, {}, hooks);
    const unknown = runAutomation(document, { Name: "abc", Other: "x" }, hooks);
    const mismatch = runAutomation(document, { Name: "ABC" }, hooks);
    const wrongType = runAutomation(document, { Name: "abc", Flag: "yes" }, hooks);

    // Assess
    for (const started of [missing, unknown, mismatch, wrongType]) {
      await expect(started).rejects.toBeInstanceOf(InvalidAutomationExecutionParametersError);
    }
    expect(lambda.calls).toEqual([]);
  });

  it("fails the step and the execution when the function reports an error", async () => {
    // Prepare
    const lambda = scriptedLambda({
      functionError: "Unhandled",
      outcome: "threw",
      result: { errorType: "TypeError", errorMessage: "boom" },
    });
    const document = doc(
      `${PARAMETERS}\nmainSteps:${INVOKE_STEP}  - name: After\n    action: aws:sleep\n    inputs: { Duration: PT1S }\n`,
    );

    // Act
    const execution = await runAutomation(document, { Name: "abc" }, { invokeLambda: lambda.invokeLambda });

    // Assess
    expect(execution.status).toBe("Failed");
    expect(execution.failureMessage).toContain("TypeError: boom");
    expect(execution.steps.map((step) => [step.stepName, step.status])).toEqual([["Work", "Failed"]]);
    expect(execution.steps[0]?.outputs.FunctionError).toBe("Unhandled");
  });

  it("marks a step TimedOut when the function outlives the step's timeoutSeconds", async () => {
    // Prepare
    const lambda = scriptedLambda({ functionError: "Unhandled", outcome: "killed", killedBy: "killAfterMs" });
    const document = doc(
      "mainSteps:\n  - name: Slow\n    action: aws:invokeLambdaFunction\n    timeoutSeconds: 5\n    inputs: { FunctionName: fn }\n",
    );

    // Act
    const execution = await runAutomation(document, {}, { invokeLambda: lambda.invokeLambda });

    // Assess
    expect(lambda.calls[0]?.timeoutMs).toBe(5000);
    expect(execution.status).toBe("TimedOut");
    expect(execution.steps[0]?.status).toBe("TimedOut");
  });

  it("retries a failed step up to maxAttempts", async () => {
    // Prepare
    const lambda = scriptedLambda(
      { functionError: "Unhandled", outcome: "threw", result: { errorType: "Error", errorMessage: "flaky" } },
      { result: { status: "Succeeded" } },
    );
    const document = doc(
      "mainSteps:\n  - name: Flaky\n    action: aws:invokeLambdaFunction\n    maxAttempts: 2\n    inputs: { FunctionName: fn }\n",
    );

    // Act
    const execution = await runAutomation(document, {}, { invokeLambda: lambda.invokeLambda });

    // Assess
    expect(execution.status).toBe("Success");
    expect(execution.steps[0]?.attempts).toBe(2);
  });

  it("follows aws:branch choices with And, Or, Not, numeric and Boolean operators, then Default", async () => {
    // Prepare
    const lambda = scriptedLambda({ result: { status: "InProgress", count: 3 } });
    const document = doc(`
parameters:
  Flag: { type: Boolean, default: true }
mainSteps:
  - name: Work
    action: aws:invokeLambdaFunction
    inputs: { FunctionName: fn }
    outputs:
      - { Name: Status, Selector: $.Payload.status, Type: String }
      - { Name: Count, Selector: $.Payload.count, Type: Integer }
  - name: Decide
    action: aws:branch
    inputs:
      Choices:
        - NextStep: Wrong
          Variable: "{{ Work.Status }}"
          StringEquals: Succeeded
        - NextStep: Right
          And:
            - Variable: "{{ Flag }}"
              BooleanEquals: true
            - Or:
                - Variable: "{{ Work.Count }}"
                  NumericGreater: 5
                - Not:
                    Variable: "{{ Work.Count }}"
                    NumericLesser: 3
      Default: Wrong
  - name: Wrong
    action: aws:sleep
    isEnd: true
    inputs: { Duration: PT1M }
  - name: Right
    action: aws:sleep
    inputs: { Duration: PT2M }
`);

    // Act
    const execution = await runAutomation(document, {}, { invokeLambda: lambda.invokeLambda });

    // Assess
    expect(execution.steps.map((step) => step.stepName)).toEqual(["Work", "Decide", "Right"]);
  });

  it("ends at a branch with isEnd when no choice matches, and goes on to the next step without it", async () => {
    // Prepare
    const branch = (isEnd: string) => `
mainSteps:
  - name: Decide
    action: aws:branch
    inputs:
      Choices:
        - NextStep: Last
          Variable: "x"
          StringEquals: "y"
${isEnd}
  - name: Next
    action: aws:sleep
    inputs: { Duration: PT1S }
  - name: Last
    action: aws:sleep
    inputs: { Duration: PT2S }
`;
    const hooks: SimulatorHooks = { invokeLambda: scriptedLambda().invokeLambda };

    // Act
    const ending = await runAutomation(doc(branch("    isEnd: true")), {}, hooks);
    const falling = await runAutomation(doc(branch("")), {}, hooks);

    // Assess
    expect(ending.steps.map((step) => step.stepName)).toEqual(["Decide"]);
    expect(falling.steps.map((step) => step.stepName)).toEqual(["Decide", "Next", "Last"]);
  });

  it("records sleeps without waiting and tells the test about each", async () => {
    // Prepare
    const seen: string[] = [];
    const document = doc(`
mainSteps:
  - name: Short
    action: aws:sleep
    inputs: { Duration: PT1H30M }
  - name: Until
    action: aws:sleep
    inputs: { Timestamp: "2030-01-01T00:10:00Z" }
`);

    // Act
    const execution = await runAutomation(
      document,
      {},
      {
        invokeLambda: scriptedLambda().invokeLambda,
        now: () => new Date("2030-01-01T00:00:00Z"),
        onSleep: (request) => {
          seen.push(request.stepName);
        },
      },
    );

    // Assess
    expect(execution.sleeps.map((sleep) => sleep.ms)).toEqual([90 * 60_000, 10 * 60_000]);
    expect(seen).toEqual(["Short", "Until"]);
  });

  it("runs an aws:executeScript that raises with Python, failing the execution with its message", async () => {
    // Prepare
    const document = doc(`
mainSteps:
  - name: Fail
    action: aws:executeScript
    inputs:
      Runtime: python3.11
      Handler: fail
      InputPayload: { Summary: "Rotation Failed: octo-org/api was not updated." }
      Script: |
        def fail(events, context):
            raise RuntimeError(events["Summary"])
`);

    // Act
    const execution = await runAutomation(document, {}, { invokeLambda: scriptedLambda().invokeLambda });

    // Assess
    expect(execution.status).toBe("Failed");
    expect(execution.failureMessage).toContain(
      "RuntimeError: Rotation Failed: octo-org/api was not updated.",
    );
  });

  it("continues after a failed step with onFailure Continue, and ends Failed after onFailure step:...", async () => {
    // Prepare
    const failing = (onFailure: string) => `
mainSteps:
  - name: Fail
    action: aws:executeScript
    onFailure: ${onFailure}
    inputs:
      Runtime: python3.11
      Handler: fail
      Script: |
        def fail(events, context):
            raise ValueError("expected")
  - name: Next
    action: aws:sleep
    isEnd: true
    inputs: { Duration: PT1S }
  - name: Cleanup
    action: aws:sleep
    inputs: { Duration: PT1S }
`;
    const hooks: SimulatorHooks = { invokeLambda: scriptedLambda().invokeLambda };

    // Act
    const continued = await runAutomation(doc(failing("Continue")), {}, hooks);
    const diverted = await runAutomation(doc(failing("step:Cleanup")), {}, hooks);

    // Assess
    expect(continued.status).toBe("Success");
    expect(continued.steps.map((step) => [step.stepName, step.status])).toEqual([
      ["Fail", "Failed"],
      ["Next", "Success"],
    ]);
    expect(diverted.status).toBe("Failed");
    expect(diverted.failureMessage).toContain("expected");
    expect(diverted.steps.map((step) => step.stepName)).toEqual(["Fail", "Cleanup"]);
  });

  it("repeats an aws:loop while its condition holds, up to MaxIterations", async () => {
    // Prepare
    const lambda = scriptedLambda(
      { result: { more: true } },
      { result: { more: true } },
      { result: { more: false } },
    );
    const document = doc(`
mainSteps:
  - name: Repeat
    action: aws:loop
    inputs:
      MaxIterations: 5
      LoopCondition:
        Variable: "{{ Work.More }}"
        BooleanEquals: true
      Steps:
        - name: Work
          action: aws:invokeLambdaFunction
          inputs:
            FunctionName: fn
            InputPayload: { iteration: "{{ Repeat.CurrentIteration }}" }
          outputs:
            - { Name: More, Selector: $.Payload.more, Type: Boolean }
`);

    // Act
    const execution = await runAutomation(document, {}, { invokeLambda: lambda.invokeLambda });

    // Assess
    expect(execution.status).toBe("Success");
    expect(lambda.calls.map((call) => call.payload)).toEqual([
      { iteration: 1 },
      { iteration: 2 },
      { iteration: 3 },
    ]);
  });

  it("cancels the execution when stopped", async () => {
    // Prepare
    const stop = new AbortController();
    const lambda = scriptedLambda({ result: { status: "Succeeded" } });
    const document = doc(`
mainSteps:
  - name: Work
    action: aws:invokeLambdaFunction
    inputs: { FunctionName: fn }
  - name: Later
    action: aws:sleep
    inputs: { Duration: PT1S }
`);

    // Act
    const execution = await runAutomation(
      document,
      {},
      {
        invokeLambda: async (call) => {
          stop.abort();
          return lambda.invokeLambda(call);
        },
        signal: stop.signal,
      },
    );

    // Assess
    expect(execution.status).toBe("Cancelled");
    expect(execution.steps.map((step) => [step.stepName, step.status])).toEqual([["Work", "Cancelled"]]);
  });

  it("rejects an action it does not simulate instead of skipping it", async () => {
    // Prepare
    const document = doc(
      "mainSteps:\n  - name: Api\n    action: aws:executeAwsApi\n    inputs: { Service: sns, Api: Publish }\n",
    );

    // Act
    const started = runAutomation(document, {}, { invokeLambda: scriptedLambda().invokeLambda });

    // Assess
    await expect(started).rejects.toThrow(/aws:executeAwsApi/);
  });
});
