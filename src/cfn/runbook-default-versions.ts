/**
 * The stack's `Custom::RunbookDefaultVersions` resource (templates/40-runbooks.yaml): after CloudFormation has
 * created or updated the runbooks, it makes each one's latest version its default, so the schedule
 * (`...:$DEFAULT`) and the console run the content the stack deployed (see src/aws/runbook-versions.ts for
 * why CloudFormation's own `UpdateMethod: NewVersion` is not relied on). Deleting it changes nothing.
 *
 * Properties (validated here):
 *   Documents        the runbook names (`!Ref` of each AWS::SSM::Document, which also orders it after them)
 *   RunbookContent   the build's fingerprint of the runbooks (scripts/build/runbook-fingerprint.mjs); not
 *                    read, it only makes CloudFormation send an Update whenever a runbook's content changes
 */
import { SSMClient } from "@aws-sdk/client-ssm";
import * as v from "valibot";
import {
  describeDefaultVersions,
  ensureLatestDefaults,
  SsmDocumentVersions,
} from "../aws/runbook-versions.ts";
import { AkmError } from "../errors.ts";
import { type Clock, systemClock } from "../ports.ts";
import type { CustomResourceProvider, CustomResourceRequest, ResponseSender } from "./custom-resource.ts";

/** The resource type in the template. */
export const RUNBOOK_DEFAULT_VERSIONS_TYPE = "Custom::RunbookDefaultVersions";

// DescribeDocument's name pattern (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_DescribeDocument.html),
// without ARNs: the stack names its own runbooks.
const DOCUMENT_NAME = /^[a-zA-Z0-9_.-]{3,128}$/;

const Properties = v.object({
  Documents: v.pipe(
    v.array(
      v.pipe(
        v.string("each runbook name must be a string"),
        v.regex(DOCUMENT_NAME, "each runbook name must be 3 to 128 letters, digits, '_', '-' or '.'"),
      ),
      "Documents must be a list of runbook names",
    ),
    v.minLength(1, "Documents must name at least one runbook"),
    v.maxLength(10, "Documents may name at most 10 runbooks"),
  ),
});

export interface RunbookDefaultVersionsDeps {
  readonly ssm: SSMClient;
  readonly clock: Clock;
  readonly log: (line: string) => void;
  readonly send?: ResponseSender;
}

/** The provider: Create and Update set every named runbook's default version to its latest; Delete does nothing. */
export function runbookDefaultVersionsProvider(
  deps: Pick<RunbookDefaultVersionsDeps, "ssm" | "clock" | "log">,
): CustomResourceProvider {
  return {
    async apply(request: CustomResourceRequest) {
      const parsed = v.safeParse(Properties, request.ResourceProperties);
      if (!parsed.success) {
        const problems = parsed.issues.map(
          (issue) => `${v.getDotPath(issue) ?? "Properties"}: ${issue.message}`,
        );
        throw new AkmError(
          `The properties of ${request.LogicalResourceId} are not what this function expects (${problems.join("; ")}).`,
          {
            fix: "Deploy the template this function was built with (npm run build); do not edit the custom resource.",
            fault: "tool",
          },
        );
      }
      const { Documents } = parsed.output;
      const report = await ensureLatestDefaults(new SsmDocumentVersions(deps.ssm, deps.clock), Documents, {
        repair: true,
      });
      const changed = describeDefaultVersions(report);
      deps.log(
        changed ?? `The default version of every runbook (${Documents.join(", ")}) is already the latest.`,
      );
      return {
        DefaultVersions: report.checked
          .map((d) => `${d.name}=${report.changes.find((c) => c.name === d.name)?.to ?? d.defaultVersion}`)
          .join(","),
      };
    },
    async remove() {
      // The runbooks go with the stack (or stay, with whatever default they have): nothing to undo.
    },
  };
}

let ssm: SSMClient | undefined;

/** The production wiring: one SSM client per cold start, the system clock, logs to the function's log. */
export function runbookDefaultVersionsDeps(log: (line: string) => void): RunbookDefaultVersionsDeps {
  ssm ??= new SSMClient({});
  return { ssm, clock: systemClock, log };
}
