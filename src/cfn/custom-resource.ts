/**
 * CloudFormation's custom resource protocol, for a Lambda-backed custom resource: the request CloudFormation
 * sends, and the answer the function PUTs to the request's presigned `ResponseURL`.
 *
 * - Requests: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-requesttypes-create.html
 *   (and -update, -delete). CloudFormation invokes the function asynchronously and ignores what it returns
 *   (https://docs.aws.amazon.com/lambda/latest/dg/services-cloudformation.html): the PUT is the only answer.
 * - Responses: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-responses.html
 *   Status SUCCESS or FAILED; Reason required when FAILED; PhysicalResourceId non-empty, at most 1 KB, the
 *   same in every answer for the resource (a different one means replacement); StackId, RequestId and
 *   LogicalResourceId copied verbatim from the request; the whole body at most 4,096 bytes.
 * - The PUT is sent as AWS's own `cfn-response` module sends it, with an empty Content-Type (the presigned
 *   URL was signed without one): https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cfn-lambda-function-code-cfnresponsemodule.html
 *
 * Every request gets an answer, failures included, so a stack never waits for the custom resource's timeout.
 * The ResponseURL carries a signature: it is never logged.
 */
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import * as v from "valibot";
import { redactSecrets } from "../domain/secret-value.ts";
import { AkmError, toAkmError } from "../errors.ts";
import type { Clock } from "../ports.ts";

const NonEmpty = (field: string) =>
  v.pipe(v.string(`${field} must be a string`), v.nonEmpty(`${field} must not be empty`));

const ResponseUrl = v.pipe(
  v.string("ResponseURL must be a string"),
  v.url("ResponseURL must be a URL"),
  v.check((url) => /^https?:$/.test(new URL(url).protocol), "ResponseURL must be an http(s) URL"),
);

/** The fields an answer needs: with these, even a request that is otherwise wrong gets a FAILED answer. */
const Answerable = v.object({
  ResponseURL: ResponseUrl,
  StackId: NonEmpty("StackId"),
  RequestId: NonEmpty("RequestId"),
  LogicalResourceId: NonEmpty("LogicalResourceId"),
  PhysicalResourceId: v.optional(NonEmpty("PhysicalResourceId")),
});

/** A custom resource request (fields CloudFormation may add later are allowed and ignored). */
export const CustomResourceRequest = v.object({
  ...Answerable.entries,
  RequestType: v.picklist(["Create", "Update", "Delete"], "RequestType must be Create, Update or Delete"),
  ResourceType: NonEmpty("ResourceType"),
  ResourceProperties: v.record(v.string(), v.unknown(), "ResourceProperties must be an object"),
  OldResourceProperties: v.optional(v.record(v.string(), v.unknown())),
});
export type CustomResourceRequest = v.InferOutput<typeof CustomResourceRequest>;

/** The documented response object. */
export interface CustomResourceResponse {
  readonly Status: "SUCCESS" | "FAILED";
  readonly Reason?: string;
  readonly PhysicalResourceId: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly NoEcho: false;
  readonly Data?: Readonly<Record<string, string>>;
}

/** The documented limit of the whole response body. */
export const RESPONSE_MAX_BYTES = 4096;

/** What tells a custom resource request from a runbook's event: it names a RequestType and a ResponseURL. */
export interface CfnRequestShape {
  readonly RequestType: unknown;
  readonly ResponseURL: unknown;
}

/**
 * True for an event shaped like a custom resource request; the handler routes it here instead of to the
 * runbook actions. Whether it is valid is decided later.
 */
export function isCustomResourceRequest(event: unknown): event is CfnRequestShape {
  return typeof event === "object" && event !== null && "RequestType" in event && "ResponseURL" in event;
}

/** What a provider does for one resource type. Errors are AkmErrors (anything else is wrapped once). */
export interface CustomResourceProvider {
  /** Create and Update: do the work; the returned Data is small (the whole answer fits in 4 KB). */
  apply(request: CustomResourceRequest): Promise<Readonly<Record<string, string>> | undefined>;
  /** Delete. */
  remove(request: CustomResourceRequest): Promise<void>;
}

/** Sends one response body to a ResponseURL; resolves with the HTTP status. */
export type ResponseSender = (url: string, body: string) => Promise<number>;

export interface AnswerOptions {
  /** When the provider must have finished, so the answer still goes out before the function times out. */
  readonly deadline: Date;
  readonly clock: Clock;
  readonly log: (line: string) => void;
  /** How the answer is PUT (default: node:https as `cfn-response` does). */
  readonly send?: ResponseSender;
}

/** What happened: the answer sent (undefined when the request could not be answered at all) and if it arrived. */
export interface AnswerOutcome {
  readonly response: CustomResourceResponse | undefined;
  readonly delivered: boolean;
}

/** Attempts to deliver the answer; S3 or the network may fail for a moment. */
const SEND_ATTEMPTS = 3;
const SEND_FIRST_WAIT_MS = 1_000;

/**
 * Validates a custom resource request, runs the provider within the deadline and PUTs the answer: SUCCESS, or
 * FAILED with a reason that says what and how to fix it. Never throws.
 */
export async function answerCustomResource(
  event: unknown,
  provider: CustomResourceProvider,
  options: AnswerOptions,
): Promise<AnswerOutcome> {
  const send = options.send ?? putResponse;
  const parsed = v.safeParse(CustomResourceRequest, event);
  let response: CustomResourceResponse;
  let url: string;
  if (!parsed.success) {
    const answerable = v.safeParse(Answerable, event);
    const problems = parsed.issues.map((issue) => `${v.getDotPath(issue) ?? "(event)"}: ${issue.message}`);
    if (!answerable.success) {
      options.log(
        `custom resource: a request without a usable ResponseURL cannot be answered (${problems.join("; ")})`,
      );
      return { response: undefined, delivered: false };
    }
    url = answerable.output.ResponseURL;
    response = customResourceResponse(answerable.output, {
      status: "FAILED",
      reason: new AkmError(
        `CloudFormation sent a custom resource request this function does not understand (${problems.join("; ")}).`,
        {
          fix: "Deploy the template this function was built with (npm run build); do not edit the custom resource.",
          fault: "tool",
        },
      ).describe(),
    });
  } else {
    const request = parsed.output;
    url = request.ResponseURL;
    response = customResourceResponse(request, await outcomeOf(request, provider, options));
  }
  const delivered = await deliver(send, url, response, options);
  options.log(
    `custom resource ${parsed.success ? parsed.output.RequestType : "request"} ${response.LogicalResourceId}: ${response.Status}` +
      `${response.Reason === undefined ? "" : ` (${response.Reason})`}${delivered ? "" : "; the answer could not be delivered"}`,
  );
  return { response, delivered };
}

interface Outcome {
  readonly status: "SUCCESS" | "FAILED";
  readonly reason?: string;
  readonly data?: Readonly<Record<string, string>> | undefined;
}

async function outcomeOf(
  request: CustomResourceRequest,
  provider: CustomResourceProvider,
  options: AnswerOptions,
): Promise<Outcome> {
  try {
    if (request.RequestType === "Delete") {
      await withDeadline(provider.remove(request), options.deadline, options.clock);
      return { status: "SUCCESS" };
    }
    const data = await withDeadline(provider.apply(request), options.deadline, options.clock);
    return { status: "SUCCESS", data };
  } catch (error) {
    return {
      status: "FAILED",
      reason: toAkmError(error, `Custom resource ${request.LogicalResourceId}`).describe(),
    };
  }
}

/**
 * Settles like `work`, or rejects with an AkmError at `deadline` if it has not settled by then (the work is
 * abandoned, not stopped: the answer must go out before the function's timeout).
 */
export async function withDeadline<T>(
  work: Promise<T>,
  deadline: Date,
  clock: Pick<Clock, "now">,
): Promise<T> {
  const remainingMs = deadline.getTime() - clock.now().getTime();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new AkmError(
            `The custom resource did not finish within ${Math.round(Math.max(0, remainingMs) / 1000)} s.`,
            {
              fix: "Update the stack again (Systems Manager may have been slow); if it happens again, read the function's log group.",
              fault: "transient",
            },
          ),
        ),
      Math.max(0, remainingMs),
    );
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The response object for a request (pure). PhysicalResourceId: the request's own on Update and Delete, or
 * `<StackId>/<LogicalResourceId>` on Create (stable, so CloudFormation never sees a replacement). A reason is
 * scrubbed of known secrets and shortened so the whole body fits in 4,096 bytes.
 */
export function customResourceResponse(
  request: v.InferOutput<typeof Answerable>,
  outcome: Outcome,
): CustomResourceResponse {
  const base = {
    Status: outcome.status,
    PhysicalResourceId: request.PhysicalResourceId ?? `${request.StackId}/${request.LogicalResourceId}`,
    StackId: request.StackId,
    RequestId: request.RequestId,
    LogicalResourceId: request.LogicalResourceId,
    NoEcho: false,
    ...(outcome.data === undefined ? {} : { Data: outcome.data }),
  } as const;
  if (outcome.reason === undefined) return base;
  const reason = redactSecrets(outcome.reason);
  const room = RESPONSE_MAX_BYTES - Buffer.byteLength(JSON.stringify({ ...base, Reason: "" }), "utf8");
  return { ...base, Reason: fitUtf8(reason, room) };
}

/** `text` cut (with "…") to at most `maxBytes` bytes of its JSON string form. */
function fitUtf8(text: string, maxBytes: number): string {
  const size = (s: string) => Buffer.byteLength(JSON.stringify(s), "utf8") - 2;
  if (size(text) <= maxBytes) return text;
  let cut = text;
  while (cut.length > 0 && size(`${cut}…`) > maxBytes) cut = cut.slice(0, Math.floor(cut.length * 0.9));
  return `${cut}…`;
}

async function deliver(
  send: ResponseSender,
  url: string,
  response: CustomResourceResponse,
  options: AnswerOptions,
): Promise<boolean> {
  const body = JSON.stringify(response);
  let waitMs = SEND_FIRST_WAIT_MS;
  for (let attempt = 1; attempt <= SEND_ATTEMPTS; attempt++) {
    try {
      const status = await send(url, body);
      if (status >= 200 && status < 300) return true;
      options.log(
        `custom resource: the response URL answered HTTP ${status} (attempt ${attempt} of ${SEND_ATTEMPTS})`,
      );
    } catch (error) {
      const name = error instanceof Error ? error.name : typeof error;
      options.log(
        `custom resource: sending the answer failed (${name}; attempt ${attempt} of ${SEND_ATTEMPTS})`,
      );
    }
    if (attempt < SEND_ATTEMPTS) {
      await options.clock.sleep(waitMs);
      waitMs *= 2;
    }
  }
  return false;
}

/** PUTs `body` to the presigned URL with an empty Content-Type, as `cfn-response` does; resolves with the status. */
export function putResponse(url: string, body: string): Promise<number> {
  const target = new URL(url);
  const request = target.protocol === "http:" ? httpRequest : httpsRequest;
  return new Promise((resolve, reject) => {
    const outgoing = request(
      target,
      {
        method: "PUT",
        headers: { "content-type": "", "content-length": Buffer.byteLength(body, "utf8") },
        timeout: 30_000,
      },
      (answer) => {
        answer.resume();
        answer.on("end", () => resolve(answer.statusCode ?? 0));
        answer.on("error", reject);
      },
    );
    outgoing.on("timeout", () => outgoing.destroy(new Error("no answer from the response URL within 30 s")));
    outgoing.on("error", reject);
    outgoing.end(body, "utf8");
  });
}
