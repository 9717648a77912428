/**
 * The stack's custom resources, each answered by the function that also rotates the key (src/handler.ts sends
 * every CloudFormation request here): `Custom::ResourceNames` (src/cfn/resource-names.ts) and
 * `Custom::RunbookDefaultVersions` (src/cfn/runbook-default-versions.ts). A request for any other type is
 * answered FAILED on Create and Update, saying so; its Delete succeeds, so a stack can always be deleted.
 */
import { AkmError } from "../errors.ts";
import { type AnswerOutcome, answerCustomResource, type CustomResourceProvider } from "./custom-resource.ts";
import { RESOURCE_NAMES_TYPE, resourceNamesProvider } from "./resource-names.ts";
import {
  RUNBOOK_DEFAULT_VERSIONS_TYPE,
  type RunbookDefaultVersionsDeps,
  runbookDefaultVersionsProvider,
} from "./runbook-default-versions.ts";

/** The Lambda context's part this needs. */
export interface InvocationContext {
  getRemainingTimeInMillis(): number;
}

/** Time kept back from the invocation's budget to deliver the answer (with its retries) before the timeout. */
const ANSWER_MARGIN_MS = 20_000;

/** The provider for a request's `ResourceType` (read loosely: the request is validated when answered). */
function providerFor(event: unknown, deps: RunbookDefaultVersionsDeps): CustomResourceProvider {
  const type =
    typeof event === "object" && event !== null && "ResourceType" in event ? event.ResourceType : undefined;
  if (type === RESOURCE_NAMES_TYPE) return resourceNamesProvider(deps.log);
  if (type === RUNBOOK_DEFAULT_VERSIONS_TYPE) return runbookDefaultVersionsProvider(deps);
  return {
    async apply(request) {
      throw new AkmError(
        `${request.LogicalResourceId} is a ${request.ResourceType}; this function serves ` +
          `${RESOURCE_NAMES_TYPE} and ${RUNBOOK_DEFAULT_VERSIONS_TYPE} only.`,
        { fix: "Point only the stack's own custom resources at this function.", fault: "user" },
      );
    },
    async remove() {
      // Never created by this function: nothing to undo.
    },
  };
}

/**
 * Answers one CloudFormation custom resource request of the stack (the Lambda handler's entry for them), within
 * the invocation's remaining time. Never throws; the answer goes to the request's ResponseURL.
 */
export function answerStackResource(
  event: unknown,
  context: InvocationContext,
  deps: RunbookDefaultVersionsDeps,
): Promise<AnswerOutcome> {
  const deadline = new Date(
    deps.clock.now().getTime() + Math.max(0, context.getRemainingTimeInMillis() - ANSWER_MARGIN_MS),
  );
  return answerCustomResource(event, providerFor(event, deps), {
    deadline,
    clock: deps.clock,
    log: deps.log,
    ...(deps.send === undefined ? {} : { send: deps.send }),
  });
}
