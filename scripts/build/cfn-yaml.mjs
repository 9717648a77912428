// Reads the YAML sources of the template (templates/*.yaml) and of the runbooks (runbook/*.yaml).
//
// CloudFormation's short-form tags (!Ref, !Sub, ...) become their long form ({"Ref": ...},
// {"Fn::Sub": ...}) while parsing, so the rest of the build and the tests only ever see plain data
// and the generated template needs no custom YAML tags to be read back.
//
// Three more tags belong to this build, not to CloudFormation; they mark where generated content goes:
//   !Runbook <name>       the parsed runbook/<name>.yaml (an SSM document's Content)
//   !LambdaBundle         the esbuild bundle of src/handler.ts (the function's Code.ZipFile)
//   !RunbookFingerprint   what changes whenever any runbook's content can change (scripts/build/
//                         runbook-fingerprint.mjs): a property of the custom resource that sets the
//                         runbooks' default versions, so CloudFormation updates it after every such change
// scripts/build/template.mjs replaces them, and fails unless every runbook is used once and the
// bundle placed once.

import { readFile } from "node:fs/promises";
import { relative } from "node:path";
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from "yaml";

/** A `!Runbook name` placeholder, replaced by the parsed runbook/<name>.yaml. */
export class RunbookRef {
  /** @param {string} name @param {string} where */
  constructor(name, where) {
    this.name = name;
    this.where = where;
  }
}

/** A `!LambdaBundle` placeholder, replaced by the Lambda bundle's source text. */
export class LambdaBundleRef {
  /** @param {string} where */
  constructor(where) {
    this.where = where;
  }
}

/** A `!RunbookFingerprint` placeholder, replaced by the runbooks' digest and inputs. */
export class RunbookFingerprintRef {
  /** @param {string} where */
  constructor(where) {
    this.where = where;
  }
}

// Functions whose short form takes a scalar, a list or a mapping, by their long-form key.
const FUNCTIONS = {
  "!Base64": "Fn::Base64",
  "!Cidr": "Fn::Cidr",
  "!FindInMap": "Fn::FindInMap",
  "!GetAZs": "Fn::GetAZs",
  "!ImportValue": "Fn::ImportValue",
  "!Join": "Fn::Join",
  "!Select": "Fn::Select",
  "!Split": "Fn::Split",
  "!Sub": "Fn::Sub",
  "!Transform": "Fn::Transform",
  "!And": "Fn::And",
  "!Equals": "Fn::Equals",
  "!If": "Fn::If",
  "!Not": "Fn::Not",
  "!Or": "Fn::Or",
};

/**
 * The custom tags. Resolvers see nested nodes already resolved, so `!Sub [..., {X: !Ref Y}]`
 * turns into plain nested objects.
 * @param {string} file where placeholders come from, refined to file:line by locatePlaceholders
 */
function cfnTags(file) {
  /** @type {import("yaml").Tags} */
  const tags = [
    { tag: "!Ref", resolve: (value) => ({ Ref: value }) },
    { tag: "!Condition", resolve: (value) => ({ Condition: value }) },
    // !GetAtt res.Attr.Sub -> ["res", "Attr.Sub"]: the logical ID never contains a dot, attributes may.
    {
      tag: "!GetAtt",
      resolve: (value) => {
        const dot = value.indexOf(".");
        return { "Fn::GetAtt": dot < 0 ? [value] : [value.slice(0, dot), value.slice(dot + 1)] };
      },
    },
    { tag: "!GetAtt", collection: "seq", resolve: (seq) => ({ "Fn::GetAtt": seq.toJSON() }) },
    { tag: "!Runbook", resolve: (value) => new RunbookRef(value, file) },
    { tag: "!LambdaBundle", resolve: () => new LambdaBundleRef(file) },
    { tag: "!RunbookFingerprint", resolve: () => new RunbookFingerprintRef(file) },
  ];
  for (const [tag, key] of Object.entries(FUNCTIONS)) {
    tags.push({ tag, resolve: (value) => ({ [key]: value }) });
    tags.push({ tag, collection: "seq", resolve: (seq) => ({ [key]: seq.toJSON() }) });
    tags.push({ tag, collection: "map", resolve: (map) => ({ [key]: map.toJSON() }) });
  }
  return tags;
}

/**
 * Parses one CloudFormation-flavoured YAML file into plain data.
 * Any YAML error or warning (an unknown tag, a duplicate key) fails with file:line:column.
 * @param {string} path absolute path
 * @param {string} root repository root, for readable locations
 */
export async function readCfnYaml(path, root) {
  const text = await readFile(path, "utf8");
  const file = relative(root, path);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    customTags: cfnTags(file),
    lineCounter,
    prettyErrors: true,
    uniqueKeys: true,
    strict: true,
  });
  const problems = [...doc.errors, ...doc.warnings];
  if (problems.length > 0) {
    const lines = problems.map((p) => {
      const at = p.linePos?.[0];
      return `  ${file}:${at ? `${at.line}:${at.col}` : "?"} ${p.message.split(" at line ")[0]}`;
    });
    throw new Error(
      `build: cannot read ${file}:\n${lines.join("\n")}\n` +
        "Fix the YAML there; CloudFormation short-form tags (!Ref, !Sub, !GetAtt, ...) and the build's " +
        "!Runbook, !LambdaBundle and !RunbookFingerprint are the only tags understood.",
    );
  }
  // Tag resolvers only see values, so placeholders get their line from the node ranges here.
  locatePlaceholders(doc.contents, file, lineCounter);
  return doc.toJS({ maxAliasCount: -1 });
}

/**
 * Records file:line on each placeholder so a later error can point at the source.
 * @param {unknown} node @param {string} file @param {LineCounter} lineCounter
 */
function locatePlaceholders(node, file, lineCounter) {
  if (isScalar(node)) {
    if (
      node.value instanceof RunbookRef ||
      node.value instanceof LambdaBundleRef ||
      node.value instanceof RunbookFingerprintRef
    ) {
      const pos = node.range ? lineCounter.linePos(node.range[0]) : undefined;
      node.value.where = pos ? `${file}:${pos.line}` : file;
    }
  } else if (isMap(node)) {
    for (const pair of node.items) {
      locatePlaceholders(pair.key, file, lineCounter);
      locatePlaceholders(pair.value, file, lineCounter);
    }
  } else if (isSeq(node)) {
    for (const item of node.items) locatePlaceholders(item, file, lineCounter);
  }
}
