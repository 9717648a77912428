import { parseDocument } from "yaml";
import { cfnIntrinsicTags } from "../../build/cfn-yaml.mjs";
import { UsageError } from "../cli/errors.ts";
import type { CfnTemplate } from "./cfn-template.ts";

/**
 * Parses a template's text, JSON or YAML with short-form tags, into plain data.
 * @param source where the text came from, for error messages (a path or "stack X")
 */
export function parseCfnYaml(text: string, source: string): CfnTemplate {
  const document = parseDocument(text, {
    customTags: cfnIntrinsicTags(),
    prettyErrors: true,
    uniqueKeys: true,
  });
  const problems = [...document.errors, ...document.warnings];
  if (problems.length > 0) {
    const lines = problems.map((problem) => {
      const at = problem.linePos?.[0];
      return `  ${source}${at ? `:${at.line}:${at.col}` : ""} ${problem.message.split("\n")[0]}`;
    });
    throw new UsageError(
      `${source} is not a readable CloudFormation template:\n${lines.join("\n")}\n` +
        "Fix the YAML or JSON there (CloudFormation's short-form tags such as !Ref and !Sub are understood).",
    );
  }
  const data: unknown = document.toJS({ maxAliasCount: -1 });
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new UsageError(`${source} is not a CloudFormation template: its top level must be a map.`);
  }
  if (!("Resources" in data)) {
    throw new UsageError(
      `${source} is not a CloudFormation template: it has no Resources section. Check that the right file was given.`,
    );
  }
  return data as CfnTemplate;
}
