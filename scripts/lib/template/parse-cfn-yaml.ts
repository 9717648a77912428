import { parseDocument, type Tags } from "yaml";
import { UsageError } from "../cli/errors.ts";
import type { CfnTemplate } from "./cfn-template.ts";

// Intrinsic functions whose short form (!Sub x) maps to a one-key object ({"Fn::Sub": x}).
// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html
const FUNCTIONS: Readonly<Record<string, string>> = {
  "!And": "Fn::And",
  "!Base64": "Fn::Base64",
  "!Cidr": "Fn::Cidr",
  "!Equals": "Fn::Equals",
  "!FindInMap": "Fn::FindInMap",
  "!GetAZs": "Fn::GetAZs",
  "!If": "Fn::If",
  "!ImportValue": "Fn::ImportValue",
  "!Join": "Fn::Join",
  "!Not": "Fn::Not",
  "!Or": "Fn::Or",
  "!Select": "Fn::Select",
  "!Split": "Fn::Split",
  "!Sub": "Fn::Sub",
  "!Transform": "Fn::Transform",
};

/** CloudFormation's short-form tags, resolved to the long form that deployed templates and diffs use. */
function cfnTags(): Tags {
  const tags: Tags = [
    { tag: "!Ref", resolve: (value: string) => ({ Ref: value }) },
    { tag: "!Condition", resolve: (value: string) => ({ Condition: value }) },
    // `!GetAtt res.Attr.Sub` splits at the first dot only: logical IDs have no dots, attribute names may.
    {
      tag: "!GetAtt",
      resolve: (value: string) => {
        const dot = value.indexOf(".");
        return { "Fn::GetAtt": dot < 0 ? [value] : [value.slice(0, dot), value.slice(dot + 1)] };
      },
    },
    { tag: "!GetAtt", collection: "seq", resolve: (seq) => ({ "Fn::GetAtt": seq.toJSON() }) },
  ];
  for (const [tag, key] of Object.entries(FUNCTIONS)) {
    tags.push({ tag, resolve: (value: string) => ({ [key]: value }) });
    tags.push({ tag, collection: "seq", resolve: (seq) => ({ [key]: seq.toJSON() }) });
    tags.push({ tag, collection: "map", resolve: (map) => ({ [key]: map.toJSON() }) });
  }
  return tags;
}

/**
 * Parses a template's text, JSON or YAML with short-form tags, into plain data.
 * @param source where the text came from, for error messages (a path or "stack X")
 */
export function parseCfnYaml(text: string, source: string): CfnTemplate {
  const document = parseDocument(text, { customTags: cfnTags(), prettyErrors: true, uniqueKeys: true });
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
