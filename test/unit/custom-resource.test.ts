/**
 * The custom resource protocol as pure logic: delivery retries, the deadline, the 4,096-byte limit and
 * secret scrubbing, with an injected sender and clock (the end-to-end answers are proven in
 * test/e2e/runbook-default-versions.test.ts through the template's Lambda code).
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  answerCustomResource,
  type CustomResourceProvider,
  customResourceResponse,
  RESPONSE_MAX_BYTES,
  withDeadline,
} from "../../src/cfn/custom-resource.ts";
import { SecretValue } from "../../src/domain/secret-value.ts";
import { AkmError } from "../../src/errors.ts";
import { FakeClock } from "../support/fakes.ts";

const REQUEST = {
  RequestType: "Update",
  ResponseURL: "https://cloudformation-custom-resource-response.example/abc?X-Amz-Signature=s3cr3tsig",
  StackId: "arn:aws:cloudformation:eu-west-1:123456789012:stack/akm/1",
  RequestId: "req-1",
  LogicalResourceId: "rRunbookDefaultVersions",
  PhysicalResourceId: "phys-1",
  ResourceType: "Custom::RunbookDefaultVersions",
  ResourceProperties: { ServiceToken: "arn:aws:lambda:eu-west-1:123456789012:function:f" },
} as const;

const succeeds: CustomResourceProvider = { apply: async () => ({ Done: "yes" }), remove: async () => {} };

function recorder(statuses: number[] = []) {
  const sent: { url: string; body: string }[] = [];
  return {
    sent,
    send: async (url: string, body: string) => {
      sent.push({ url, body });
      return statuses.shift() ?? 200;
    },
  };
}

function options(
  clock: FakeClock,
  send: (url: string, body: string) => Promise<number>,
  lines: string[] = [],
) {
  return {
    deadline: new Date(clock.now().getTime() + 60_000),
    clock,
    log: (l: string) => lines.push(l),
    send,
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("delivering the answer", () => {
  it("sends it again, after a short wait, when the response URL answers an error at first", async () => {
    // Prepare
    const clock = new FakeClock();
    const { sent, send } = recorder([500, 503]);

    // Act
    const outcome = await answerCustomResource(REQUEST, succeeds, options(clock, send));

    // Assess
    expect(outcome.delivered).toBe(true);
    expect(sent).toHaveLength(3);
    expect(new Set(sent.map((s) => s.body)).size).toBe(1);
    expect(clock.sleeps).toEqual([1_000, 2_000]);
  });

  it("gives up after three attempts and says so in the log, without the URL", async () => {
    // Prepare
    const clock = new FakeClock();
    const lines: string[] = [];
    const send = async () => {
      throw new Error("connect ECONNREFUSED");
    };

    // Act
    const outcome = await answerCustomResource(REQUEST, succeeds, options(clock, send, lines));

    // Assess
    expect(outcome.delivered).toBe(false);
    expect(lines.join("\n")).toContain("could not be delivered");
    expect(lines.join("\n")).not.toContain("s3cr3tsig");
  });

  it("cannot answer a request without a ResponseURL, and says so instead of throwing", async () => {
    // Prepare
    const clock = new FakeClock();
    const { sent, send } = recorder();
    const lines: string[] = [];

    // Act
    const outcome = await answerCustomResource(
      { RequestType: "Create" },
      succeeds,
      options(clock, send, lines),
    );

    // Assess
    expect(outcome).toEqual({ response: undefined, delivered: false });
    expect(sent).toEqual([]);
    expect(lines.join("\n")).toContain("cannot be answered");
  });
});

describe("the answer's content", () => {
  it("answers FAILED with the provider's message and fix", async () => {
    // Prepare
    const clock = new FakeClock();
    const { send } = recorder();
    const failing: CustomResourceProvider = {
      apply: async () => {
        throw new AkmError("Runbook X does not exist.", { fix: "Update the stack." });
      },
      remove: async () => {},
    };

    // Act
    const { response } = await answerCustomResource(REQUEST, failing, options(clock, send));

    // Assess
    expect(response).toMatchObject({
      Status: "FAILED",
      Reason: "Runbook X does not exist. Fix: Update the stack.",
      PhysicalResourceId: "phys-1",
    });
  });

  it("wraps an unexpected error once, without losing the answer", async () => {
    // Prepare
    const clock = new FakeClock();
    const { send } = recorder();
    const broken: CustomResourceProvider = {
      apply: async () => {
        throw new TypeError("x is undefined");
      },
      remove: async () => {},
    };

    // Act
    const { response } = await answerCustomResource(REQUEST, broken, options(clock, send));

    // Assess
    expect(response?.Status).toBe("FAILED");
    expect(response?.Reason).toMatch(
      /rRunbookDefaultVersions failed unexpectedly \(TypeError: x is undefined\)/,
    );
  });

  it("scrubs known secret values from the reason", () => {
    // Prepare
    const secret = new SecretValue("very-secret-value-0123456789");

    // Act
    const response = customResourceResponse(REQUEST, {
      status: "FAILED",
      reason: `it failed near ${secret.reveal()}`,
    });

    // Assess
    expect(response.Reason).toBe("it failed near [redacted]");
  });

  it("shortens a long reason so the whole body stays within 4,096 bytes", () => {
    // Prepare
    const reason = `${"é problème ".repeat(800)}end`;

    // Act
    const response = customResourceResponse(REQUEST, { status: "FAILED", reason });

    // Assess
    expect(Buffer.byteLength(JSON.stringify(response), "utf8")).toBeLessThanOrEqual(RESPONSE_MAX_BYTES);
    expect(response.Reason?.endsWith("…")).toBe(true);
    expect(response.Reason?.length).toBeGreaterThan(1_000);
  });

  it("gives a new resource a stable physical ID made of the stack and logical IDs", () => {
    // Prepare
    const { PhysicalResourceId: _, ...create } = REQUEST;

    // Act
    const response = customResourceResponse(create, { status: "SUCCESS" });

    // Assess
    expect(response.PhysicalResourceId).toBe(`${REQUEST.StackId}/${REQUEST.LogicalResourceId}`);
  });
});

describe("the deadline", () => {
  it("answers FAILED when the provider has not finished by then, instead of letting the function time out", async () => {
    // Prepare
    vi.useFakeTimers();
    const clock = new FakeClock(Date.now());
    const { sent, send } = recorder();
    const never: CustomResourceProvider = { apply: () => new Promise(() => {}), remove: async () => {} };

    // Act
    const answered = answerCustomResource(REQUEST, never, options(clock, send));
    await vi.advanceTimersByTimeAsync(60_000);
    const { response } = await answered;

    // Assess
    expect(response?.Status).toBe("FAILED");
    expect(response?.Reason).toContain("did not finish within 60 s");
    expect(sent).toHaveLength(1);
  });

  it("passes the work's own result through when it finishes in time", async () => {
    // Prepare
    const clock = new FakeClock();

    // Act
    const result = await withDeadline(Promise.resolve(42), new Date(clock.now().getTime() + 1_000), clock);

    // Assess
    expect(result).toBe(42);
  });
});
