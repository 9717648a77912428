import { describe, expect, it } from "vitest";
import type { LambdaInvocation } from "../../scripts/local-stack/lambda-runner.ts";
import {
  type AutomationDocument,
  InvalidAutomationExecutionParametersError,
  type LambdaCall,
  parseAutomationDocument,
  runAutomation,
  type SimulatorHooks,
} from "../../scripts/local-stack/runbook-simulator.ts";

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

  it("goes on to the next step when no choice matches and there is no Default", async () => {
    // Prepare
    const document = doc(`
mainSteps:
  - name: Decide
    action: aws:branch
    inputs:
      Choices:
        - NextStep: Last
          Variable: "x"
          StringEquals: "y"
  - name: Next
    action: aws:sleep
    inputs: { Duration: PT1S }
  - name: Last
    action: aws:sleep
    inputs: { Duration: PT2S }
`);

    // Act
    const execution = await runAutomation(document, {}, { invokeLambda: scriptedLambda().invokeLambda });

    // Assess
    expect(execution.steps.map((step) => step.stepName)).toEqual(["Decide", "Next", "Last"]);
  });

  it("refuses a branch that matches no choice, has no Default and sets isEnd (AWS does not say which wins)", async () => {
    // Prepare
    const document = doc(`
mainSteps:
  - name: Decide
    action: aws:branch
    isEnd: true
    inputs:
      Choices:
        - NextStep: Last
          Variable: "x"
          StringEquals: "y"
  - name: Last
    action: aws:sleep
    inputs: { Duration: PT2S }
`);

    // Act
    const started = runAutomation(document, {}, { invokeLambda: scriptedLambda().invokeLambda });

    // Assess
    await expect(started).rejects.toThrow(/Decide matched no choice and has no Default/);
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

describe("runbook simulator: aws:loop as documented", () => {
  const counter = (answers: readonly boolean[]) =>
    scriptedLambda(...answers.map((more) => ({ result: { more } })));

  const loop = (inputs: string, steps = "") => `
mainSteps:
  - name: Repeat
    action: aws:loop
    inputs:
${inputs}
      Steps:
        - name: Work
          action: aws:invokeLambdaFunction
          inputs:
            FunctionName: fn
            InputPayload: { iteration: "{{ Repeat.CurrentIteration }}" }
          outputs:
            - { Name: More, Selector: $.Payload.more, Type: Boolean }
${steps}`;

  it("runs the inner steps once before it evaluates the condition (do-while)", async () => {
    // Prepare
    const lambda = counter([false]);
    const document = doc(loop(`      LoopCondition: { Variable: "{{ Work.More }}", BooleanEquals: true }`));

    // Act
    const execution = await runAutomation(document, {}, { invokeLambda: lambda.invokeLambda });

    // Assess
    expect(execution.status).toBe("Success");
    expect(lambda.calls.map((call) => call.payload)).toEqual([{ iteration: 1 }]);
  });

  it("stops at MaxIterations although the condition still holds, and goes on to the next step", async () => {
    // Prepare
    const lambda = counter([true]);
    const document = doc(
      `${loop(
        `      MaxIterations: 3\n      LoopCondition: { Variable: "{{ Work.More }}", BooleanEquals: true }`,
      )}  - name: After\n    action: aws:sleep\n    inputs: { Duration: PT1S }\n`,
    );

    // Act
    const execution = await runAutomation(document, {}, { invokeLambda: lambda.invokeLambda });

    // Assess
    expect(execution.status).toBe("Success");
    expect(lambda.calls).toHaveLength(3);
    expect(execution.steps.map((step) => [step.stepName, step.parent?.iteration])).toEqual([
      ["Repeat", undefined],
      ["Work", 1],
      ["Work", 2],
      ["Work", 3],
      ["After", undefined],
    ]);
  });

  it("evaluates And, Or and Not in the LoopCondition", async () => {
    // Prepare: loop while More is true and the iteration is below 4, or never when Flag is false.
    const lambda = counter([true]);
    const document = doc(`
parameters:
  Flag: { type: Boolean, default: true }
${loop(`      LoopCondition:
        And:
          - Variable: "{{ Work.More }}"
            BooleanEquals: true
          - Or:
              - Not: { Variable: "{{ Repeat.CurrentIteration }}", NumericGreaterOrEquals: 4 }
              - Variable: "{{ Flag }}"
                BooleanEquals: false`)}`);

    // Act
    const execution = await runAutomation(document, {}, { invokeLambda: lambda.invokeLambda });

    // Assess
    expect(lambda.calls.map((call) => call.payload)).toEqual([
      { iteration: 1 },
      { iteration: 2 },
      { iteration: 3 },
      { iteration: 4 },
    ]);
    expect(execution.status).toBe("Success");
  });

  it("runs once per Iterators item, with the item as CurrentIteratorValue", async () => {
    // Prepare
    const lambda = scriptedLambda({ result: {} });
    const document = doc(`
parameters:
  Names: { type: StringList, default: [a, b] }
mainSteps:
  - name: Each
    action: aws:loop
    inputs:
      Iterators: "{{ Names }}"
      Steps:
        - name: Work
          action: aws:invokeLambdaFunction
          inputs:
            FunctionName: fn
            InputPayload: { name: "{{ Each.CurrentIteratorValue }}" }
`);

    // Act
    await runAutomation(document, {}, { invokeLambda: lambda.invokeLambda });

    // Assess
    expect(lambda.calls.map((call) => call.payload)).toEqual([{ name: "a" }, { name: "b" }]);
  });

  it("ends the execution when an inner step fails with onFailure Abort, and goes on with Continue", async () => {
    // Prepare
    const failing = (onFailure: string) =>
      doc(
        loop(
          `      MaxIterations: 2\n      LoopCondition: { Variable: "x", StringEquals: "x" }`,
          `        - name: Fail
          action: aws:executeScript
          onFailure: ${onFailure}
          inputs:
            Runtime: python3.11
            Handler: fail
            Script: |
              def fail(events, context):
                  raise ValueError("inner step failed")
`,
        ),
      );
    const hooks = () => ({ invokeLambda: counter([true]).invokeLambda });

    // Act
    const aborted = await runAutomation(failing("Abort"), {}, hooks());
    const continued = await runAutomation(failing("Continue"), {}, hooks());

    // Assess
    expect(aborted.status).toBe("Failed");
    expect(aborted.failureMessage).toContain("ValueError: inner step failed");
    expect(aborted.steps.map((step) => [step.stepName, step.status])).toEqual([
      ["Repeat", "Failed"],
      ["Work", "Success"],
      ["Fail", "Failed"],
    ]);
    expect(continued.status).toBe("Success");
    expect(continued.steps.filter((step) => step.stepName === "Fail")).toHaveLength(2);
  });

  it("lets a test harness stop every loop after fewer iterations than MaxIterations", async () => {
    // Prepare
    const lambda = counter([true]);
    const document = doc(loop(`      LoopCondition: { Variable: "{{ Work.More }}", BooleanEquals: true }`));

    // Act
    await runAutomation(document, {}, { invokeLambda: lambda.invokeLambda, loopMaxIterations: 5 });

    // Assess
    expect(lambda.calls).toHaveLength(5);
  });

  it.each([
    [
      "both Iterators and LoopCondition",
      `      Iterators: [a]\n      LoopCondition: { Variable: "x", StringEquals: "x" }`,
    ],
    ["neither Iterators nor LoopCondition", `      MaxIterations: 2`],
    ["MaxIterations 0", `      MaxIterations: 0\n      LoopCondition: { Variable: "x", StringEquals: "x" }`],
    [
      "MaxIterations 101",
      `      MaxIterations: 101\n      LoopCondition: { Variable: "x", StringEquals: "x" }`,
    ],
  ])("refuses a loop with %s", (_, inputs) => {
    // Act
    const parse = () => doc(loop(inputs));

    // Assess
    expect(parse).toThrow(/relies on undocumented behaviour: loop Repeat/);
  });

  it.each([
    [
      "a later step's input",
      `  - name: After\n    action: aws:sleep\n    inputs: { Duration: "{{ Work.Wait }}" }\n`,
      "",
    ],
    [
      "a later branch",
      `  - name: After\n    action: aws:branch\n    inputs:\n      Choices: [{ NextStep: End, Variable: "{{ Work.More }}", BooleanEquals: true }]\n      Default: End\n  - name: End\n    action: aws:sleep\n    inputs: { Duration: PT1S }\n`,
      "",
    ],
    ["the document's outputs", "", "outputs: [Work.More]\n"],
  ])("refuses to read an inner step's output from %s (not documented)", (_, after, outputs) => {
    // Act
    const parse = () =>
      doc(
        outputs + loop(`      LoopCondition: { Variable: "{{ Work.More }}", BooleanEquals: true }`) + after,
      );

    // Assess
    expect(parse).toThrow(/Work\.\w+ }}, an output of a step inside loop Repeat, from outside that loop/);
  });
});

describe("runbook simulator: refusals where AWS documents nothing", () => {
  it.each([
    ["a choice", "Choices: [{ NextStep: First, Variable: x, StringEquals: x }]\n      Default: Last"],
    ["its Default", "Choices: [{ NextStep: Last, Variable: x, StringEquals: y }]\n      Default: First"],
    [
      "a choice naming the branch itself",
      "Choices: [{ NextStep: Decide, Variable: x, StringEquals: x }]\n      Default: Last",
    ],
  ])("refuses a branch whose %s jumps back to an earlier step", (_, inputs) => {
    // Act
    const parse = () =>
      doc(`
mainSteps:
  - name: First
    action: aws:sleep
    inputs: { Duration: PT1S }
  - name: Decide
    action: aws:branch
    inputs:
      ${inputs}
  - name: Last
    action: aws:sleep
    inputs: { Duration: PT1S }
`);

    // Assess
    expect(parse).toThrow(/Decide \(.+\) jumps back to/);
  });

  it.each([
    ["nextStep", "nextStep: First"],
    ["onFailure", "onFailure: step:First"],
  ])("refuses a step whose %s jumps back to an earlier step, inside loops too", (_, jump) => {
    // Act
    const main = () =>
      doc(`
mainSteps:
  - name: First
    action: aws:sleep
    inputs: { Duration: PT1S }
  - name: Second
    action: aws:sleep
    ${jump}
    inputs: { Duration: PT1S }
`);
    const inner = () =>
      doc(`
mainSteps:
  - name: Repeat
    action: aws:loop
    inputs:
      LoopCondition: { Variable: x, StringEquals: y }
      Steps:
        - name: First
          action: aws:sleep
          inputs: { Duration: PT1S }
        - name: Second
          action: aws:sleep
          ${jump}
          inputs: { Duration: PT1S }
`);

    // Assess
    expect(main).toThrow(/Second \(.+\) jumps back to the earlier step First/);
    expect(inner).toThrow(/Second \(.+\) jumps back to the earlier step First/);
  });

  const sleepUntil = (timestamp: string) =>
    doc(`mainSteps:\n  - name: Wait\n    action: aws:sleep\n    inputs: { Timestamp: "${timestamp}" }\n`);
  const at = (now: string) => ({ invokeLambda: scriptedLambda().invokeLambda, now: () => new Date(now) });

  it("proceeds at once when the sleep's Timestamp is in the past", async () => {
    // Act
    const execution = await runAutomation(sleepUntil("2030-01-01T00:00:00Z"), {}, at("2030-01-02T00:00:00Z"));

    // Assess
    expect(execution.status).toBe("Success");
    expect(execution.sleeps).toEqual([{ stepName: "Wait", timestamp: "2030-01-01T00:00:00Z", ms: 0 }]);
  });

  it.each(["2030-01-01T00:00:00.000Z", "2030-01-01T00:00:00+00:00", "2030-01-01 00:00:00Z", ""])(
    "refuses the sleep Timestamp %j (not YYYY-MM-DDThh:mm:ssZ)",
    async (timestamp) => {
      // Act
      const run = runAutomation(sleepUntil(timestamp), {}, at("2030-01-01T00:00:00Z"));

      // Assess
      await expect(run).rejects.toThrow(/YYYY-MM-DDThh:mm:ssZ/);
    },
  );

  it("sleeps 604,799 s but refuses a second more (the documented maximum is 7 days)", async () => {
    // Prepare
    const hooks = at("2030-01-01T00:00:00Z");

    // Act
    const longest = await runAutomation(sleepUntil("2030-01-07T23:59:59Z"), {}, hooks);
    const tooLong = runAutomation(sleepUntil("2030-01-08T00:00:00Z"), {}, hooks);
    const tooLongDuration = runAutomation(
      doc("mainSteps:\n  - name: Wait\n    action: aws:sleep\n    inputs: { Duration: P7D }\n"),
      {},
      hooks,
    );

    // Assess
    expect(longest.sleeps[0]?.ms).toBe(604_799_000);
    await expect(tooLong).rejects.toThrow(/at most 604,799 s/);
    await expect(tooLongDuration).rejects.toThrow(/at most 604,799 s/);
  });

  const reader = (answer: unknown, readerStep: string) => ({
    lambda: scriptedLambda({ result: answer }),
    document: doc(`
outputs: [Work.When]
mainSteps:
  - name: Work
    action: aws:invokeLambdaFunction
    inputs: { FunctionName: fn }
    outputs:
      - { Name: When, Selector: $.Payload.when, Type: String }
${readerStep}`),
  });
  const READERS = {
    "a branch": `  - name: Read
    action: aws:branch
    inputs:
      Choices: [{ NextStep: End, Variable: "{{ Work.When }}", StringEquals: soon }]
      Default: End
  - name: End
    action: aws:sleep
    inputs: { Duration: PT1S }
`,
    "a sleep": `  - name: Read
    action: aws:sleep
    inputs: { Timestamp: "{{ Work.When }}" }
`,
    "a step input": `  - name: Read
    action: aws:invokeLambdaFunction
    inputs: { FunctionName: fn, InputPayload: { when: "{{ Work.When }}" } }
`,
  };

  it.each(Object.keys(READERS))(
    'refuses %s that reads an output whose selector matched nothing or that is ""',
    async (name) => {
      // Prepare
      const step = READERS[name as keyof typeof READERS];
      const missing = reader({}, step);
      const empty = reader({ when: "" }, step);

      // Act
      const readMissing = runAutomation(missing.document, {}, { invokeLambda: missing.lambda.invokeLambda });
      const readEmpty = runAutomation(empty.document, {}, { invokeLambda: empty.lambda.invokeLambda });

      // Assess
      await expect(readMissing).rejects.toThrow(
        /reads \{\{ Work\.When \}\}, but its selector \$\.Payload\.when matched nothing/,
      );
      await expect(readEmpty).rejects.toThrow(/reads \{\{ Work\.When \}\}, but its value is ""/);
    },
  );

  it("leaves an unset output out of the document's outputs, and refuses a read of a step that did not run", async () => {
    // Prepare
    const unset = reader({}, "");
    const skipped = doc(`
mainSteps:
  - name: Decide
    action: aws:branch
    inputs:
      Choices: [{ NextStep: Read, Variable: x, StringEquals: x }]
      Default: Skipped
  - name: Skipped
    action: aws:invokeLambdaFunction
    inputs: { FunctionName: fn }
    outputs:
      - { Name: When, Selector: $.Payload.when, Type: String }
  - name: Read
    action: aws:sleep
    inputs: { Timestamp: "{{ Skipped.When }}" }
`);

    // Act
    const execution = await runAutomation(unset.document, {}, { invokeLambda: unset.lambda.invokeLambda });
    const readSkipped = runAutomation(skipped, {}, { invokeLambda: scriptedLambda().invokeLambda });

    // Assess
    expect(execution.status).toBe("Success");
    expect(execution.outputs).toEqual({});
    await expect(readSkipped).rejects.toThrow(/Skipped\.When }}, an output that step did not produce/);
  });
});

describe("runbook simulator: aws:invokeLambdaFunction", () => {
  const THROWN = {
    functionError: "Unhandled" as const,
    outcome: "threw" as const,
    result: { errorType: "Error", errorMessage: "boom" },
  };
  const document = doc(`
mainSteps:
  - name: Work
    action: aws:invokeLambdaFunction
    inputs: { FunctionName: fn, LogType: None }
  - name: Next
    action: aws:sleep
    inputs: { Duration: PT1S }
`);

  it("ends the step Success with FunctionError and Lambda's error as Payload when told AWS does not fail it", async () => {
    // Act
    const execution = await runAutomation(
      document,
      {},
      { invokeLambda: scriptedLambda(THROWN).invokeLambda, functionError: "continue" },
    );

    // Assess
    expect(execution.status).toBe("Success");
    expect(execution.steps.map((step) => step.stepName)).toEqual(["Work", "Next"]);
    expect(execution.steps[0]?.outputs).toMatchObject({
      FunctionError: "Unhandled",
      Payload: JSON.stringify(THROWN.result),
    });
  });

  it("returns the last 4 KB of the function's log unless LogType is None (the default is Tail)", async () => {
    // Prepare
    const lambda = scriptedLambda({ result: {}, logs: "log line\n" });
    const withDefault = doc(
      "mainSteps:\n  - name: Work\n    action: aws:invokeLambdaFunction\n    inputs: { FunctionName: fn }\n",
    );

    // Act
    const tail = await runAutomation(withDefault, {}, { invokeLambda: lambda.invokeLambda });
    const none = await runAutomation(document, {}, { invokeLambda: lambda.invokeLambda });

    // Assess
    expect(tail.steps[0]?.outputs.LogResult).toBe(Buffer.from("log line\n").toString("base64"));
    expect(none.steps[0]?.outputs).not.toHaveProperty("LogResult");
  });
});
