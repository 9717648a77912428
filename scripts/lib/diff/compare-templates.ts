import { fullDiff, type TemplateDiff } from "@aws-cdk/cloudformation-diff";
import type { CfnTemplate } from "../template/cfn-template.ts";
import { type ParameterValues, resolveParameters } from "./resolve-parameters.ts";
import { summarizeLongStrings } from "./summarize-long-strings.ts";

/**
 * The semantic diff of updating a stack from `current` to `next` (long strings compared by fingerprint).
 * With the stack's parameter values, both templates are compared as those values resolve them, as
 * CloudFormation compares them.
 */
export function compareTemplates(
  current: CfnTemplate,
  next: CfnTemplate,
  values: ParameterValues = {},
): TemplateDiff {
  return fullDiff(
    summarizeLongStrings(resolveParameters(current, values)) as Record<string, unknown>,
    summarizeLongStrings(resolveParameters(next, values)) as Record<string, unknown>,
  );
}
