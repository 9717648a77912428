import { fullDiff, type TemplateDiff } from "@aws-cdk/cloudformation-diff";
import type { CfnTemplate } from "../template/cfn-template.ts";
import { summarizeLongStrings } from "./summarize-long-strings.ts";

/** The semantic diff of updating a stack from `current` to `next` (long strings compared by fingerprint). */
export function compareTemplates(current: CfnTemplate, next: CfnTemplate): TemplateDiff {
  return fullDiff(
    summarizeLongStrings(current) as Record<string, unknown>,
    summarizeLongStrings(next) as Record<string, unknown>,
  );
}
