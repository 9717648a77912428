/**
 * The Check* step every runbook runs after each function invocation: the Python script from the rendered
 * template, run for real with python3 as aws:executeScript would run it (handler(events, None), InputPayload
 * as events, the return value as the Payload output).
 */
import { describe, expect, it } from "vitest";
import { type PythonOutcome, runPythonHandler } from "../../scripts/local-stack/runbook-simulator.ts";
import type { HandlerResult } from "../../src/handler-contract.ts";
import { isObject, type JsonObject, loadTemplate, resolveIntrinsics } from "../template/dist.ts";

const { template } = loadTemplate();

function checkStep(): JsonObject {
  const content = resolveIntrinsics(template.Resources.rAkmSsmAutomation?.Properties.Content ?? null);
  const steps = isObject(content) && Array.isArray(content.mainSteps) ? content.mainSteps : [];
  const step = steps.find((s) => isObject(s) && s.name === "CheckRotateResult");
  if (!isObject(step) || !isObject(step.inputs))
    throw new Error("the Rotate runbook has no CheckRotateResult");
  return step.inputs;
}

const { Script: SCRIPT, Handler: HANDLER } = checkStep() as { Script: string; Handler: string };

/** What the step does with this Payload output. */
function check(payload: unknown): Promise<PythonOutcome> {
  return runPythonHandler("python3", SCRIPT, HANDLER, { Payload: payload });
}

// An answer of the function as the handler contract (src/handler-contract.ts) describes it.
const ANSWER = {
  next: "retire",
  status: "Succeeded",
  summary:
    "Rotation done: 2 of 2 repositories hold key TESTKEYNEW000000001.\nOld key retires after the grace period.",
  action: "rotate-result",
  dryRun: false,
  newAccessKeyId: "TESTKEYNEW000000001",
  oldAccessKeyId: "none",
  retireAfter: "2030-01-01T01:00:00Z",
  resumeAt: "2030-01-01T00:00:00Z",
  eta: "none",
  progress: "2 of 2 repositories done",
  repoCounts: { total: 2, done: 2, failed: 0, mismatched: 0, remaining: 0 },
  failedRepos: [],
} satisfies HandlerResult;
const STRING_FIELDS = Object.entries(ANSWER)
  .filter(([key, value]) => typeof value === "string" && !["action", "eta"].includes(key))
  .map(([key]) => key);

describe("the check step of every runbook", () => {
  it("returns the answer's string fields, from the Payload output as JSON text or as a map", async () => {
    // Act
    const fromText = await check(JSON.stringify(ANSWER));
    const fromMap = await check(ANSWER);

    // Assess
    const expected = Object.fromEntries(
      STRING_FIELDS.map((key) => [key, ANSWER[key as keyof typeof ANSWER]]),
    );
    expect(fromText).toEqual({ ok: true, payload: expected });
    expect(fromMap).toEqual(fromText);
  });

  it("fails with the function's summary as the message when the answer says next = failed", async () => {
    // Prepare
    const failed = {
      ...ANSWER,
      next: "failed",
      status: "Failed",
      summary: "Rotation failed: octo-org/api: 403.",
    };

    // Act
    const outcome = await check(JSON.stringify(failed));

    // Assess
    expect(outcome).toEqual({ ok: false, errorType: "RuntimeError", message: failed.summary });
  });

  it.each([
    ["throws", { errorType: "TypeError", errorMessage: "x is undefined", trace: ["at handler"] }],
    [
      "times out",
      {
        errorType: "Sandbox.Timedout",
        errorMessage: "RequestId: r Error: Task timed out after 290.00 seconds",
      },
    ],
    [
      "crashes",
      {
        errorType: "Runtime.ExitError",
        errorMessage: "RequestId: r Error: Runtime exited with error: signal: killed",
      },
    ],
  ])("fails with Lambda's own error when the function %s", async (_, error) => {
    // Act
    const outcome = await check(JSON.stringify(error));

    // Assess
    expect(outcome).toEqual({
      ok: false,
      errorType: "RuntimeError",
      message: `The function failed: ${error.errorType}: ${error.errorMessage}`,
    });
  });

  it.each(STRING_FIELDS)("fails naming %s when the answer lacks it or it is empty", async (field) => {
    // Act
    const missing = await check(JSON.stringify({ ...ANSWER, [field]: undefined }));
    const empty = await check(JSON.stringify({ ...ANSWER, [field]: "" }));

    // Assess
    for (const outcome of [missing, empty]) {
      expect(outcome.ok).toBe(false);
      expect(outcome.message).toMatch(new RegExp(`^The function's answer has no ${field}: \\{`));
    }
  });

  it.each([
    ["text that is not JSON", "Internal error"],
    ["null", null],
    ["a list", "[1, 2]"],
  ])("fails when the Payload output is %s", async (_, payload) => {
    // Act
    const outcome = await check(payload);

    // Assess
    expect(outcome.ok).toBe(false);
    expect(outcome.message).toMatch(/^The function failed: Error: /);
  });

  it("keeps the failure message within 4,000 bytes without splitting a character", async () => {
    // Prepare: a summary of 3-byte characters, far over the limit.
    const failed = { ...ANSWER, next: "failed", summary: "€".repeat(5000) };

    // Act
    const outcome = await check(JSON.stringify(failed));

    // Assess
    expect(outcome.ok).toBe(false);
    expect(Buffer.byteLength(outcome.message ?? "", "utf8")).toBeLessThanOrEqual(4000);
    expect(outcome.message).toBe("€".repeat(1333));
  });
});
