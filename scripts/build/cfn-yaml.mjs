// Reads the YAML sources of the template (templates/*.yaml) and of the runbooks (runbook/*.yaml).
//
// CloudFormation's short-form tags (!Ref, !Sub, ...) become their long form ({"Ref": ...},
// {"Fn::Sub": ...}) while parsing, so the rest of the build and the tests only ever see plain data
// and the generated template needs no custom YAML tags to be read back.
//
// Five more tags belong to this build, not to CloudFormation:
//   !Runbook <name>       the parsed runbook/<name>.yaml (an SSM document's Content)
//   !LambdaBundle         the esbuild bundle of src/handler.ts (the function's Code.ZipFile)
//   !RunbookFingerprint   what changes whenever any runbook's content can change (scripts/build/
//                         runbook-fingerprint.mjs): a property of the custom resource that sets the
//                         runbooks' default versions, so CloudFormation updates it after every such change
//   !SafeIamUserName      the expression of the IAM user name as resource names carry it (see safeIamUserName)
//   !StackUuid            the expression of the UUID that ends the stack's ID (see stackUuid)
// scripts/build/template.mjs replaces the first three, and fails unless every runbook is used once and the
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

// CloudFormation's intrinsic functions whose short form (!Sub x) is a one-key object ({"Fn::Sub": x}), with
// a scalar, a list or a mapping argument; Length and ToJsonString come with the AWS::LanguageExtensions
// transform. https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference.html
// This is the project's one table of them: the scripts (scripts/lib/shared/template.ts) and the tests
// (scripts/local-stack/lambda-runner.ts) import it from here.
const FUNCTIONS = [
  "And",
  "Base64",
  "Cidr",
  "Equals",
  "FindInMap",
  "GetAZs",
  "If",
  "ImportValue",
  "Join",
  "Length",
  "Not",
  "Or",
  "Select",
  "Split",
  "Sub",
  "ToJsonString",
  "Transform",
];

/**
 * YAML tags for CloudFormation's short forms (!Ref, !GetAtt, !Sub, ...), resolved to the long form that
 * deployed templates, diffs and the build's output use. Resolvers see nested nodes already resolved, so
 * `!Sub [..., {X: !Ref Y}]` turns into plain nested objects.
 * @returns {import("yaml").Tags}
 */
export function cfnIntrinsicTags() {
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
  ];
  for (const name of FUNCTIONS) {
    const key = `Fn::${name}`;
    tags.push({ tag: `!${name}`, resolve: (value) => ({ [key]: value }) });
    tags.push({ tag: `!${name}`, collection: "seq", resolve: (seq) => ({ [key]: seq.toJSON() }) });
    tags.push({ tag: `!${name}`, collection: "map", resolve: (map) => ({ [key]: map.toJSON() }) });
  }
  return tags;
}

/**
 * IAM allows + = , @ in user names; SSM document names, EventBridge rule names, log group names, secret names
 * (no comma) and tag values (no comma) do not. Resource names therefore carry the user name with each of
 * these four characters replaced by "_". Any other name comes out unchanged, so the names of a stack of the
 * original tool stay the same and an upgrade updates them in place. Fn::Split inside Fn::Join is
 * documented for property values ("Supported functions" of Fn::Join and Fn::Split:
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-join.html).
 * Conditions cannot use Fn::Split (only Ref, Fn::FindInMap and condition functions are documented there), so
 * the replacement is unconditional.
 */
export const IAM_ONLY_NAME_CHARACTERS = ["+", "=", ",", "@"];

/** The long-form expression `!SafeIamUserName` stands for: Ref pIamUserName with + = , @ turned into _. */
export function safeIamUserName() {
  /** @type {unknown} */
  let expression = { Ref: "pIamUserName" };
  for (const character of IAM_ONLY_NAME_CHARACTERS) {
    expression = { "Fn::Join": ["_", { "Fn::Split": [character, expression] }] };
  }
  return expression;
}

/**
 * The stack ID is arn:<partition>:cloudformation:<region>:<account>:stack/<stack name>/<UUID>, e.g.
 * arn:aws:cloudformation:us-west-2:123456789012:stack/teststack/51af3dc0-da77-11e4-872e-1234567db123
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/pseudo-parameter-reference.html), and a stack
 * name has no "/" (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStack.html). So
 * its third "/"-separated part is the UUID: 36 characters, unique to the stack and the same for its whole life.
 * Names that must be unique and fixed before the stack's function exists (the KMS key policy names them) carry
 * it instead of the IAM user name, which may be too long for them.
 */
export function stackUuid() {
  return { "Fn::Select": [2, { "Fn::Split": ["/", { Ref: "AWS::StackId" }] }] };
}

/**
 * The build's tags: CloudFormation's, plus the build's own.
 * @param {string} file where placeholders come from, refined to file:line by locatePlaceholders
 * @returns {import("yaml").Tags}
 */
function cfnTags(file) {
  return [
    ...cfnIntrinsicTags(),
    { tag: "!Runbook", resolve: (value) => new RunbookRef(value, file) },
    { tag: "!LambdaBundle", resolve: () => new LambdaBundleRef(file) },
    { tag: "!RunbookFingerprint", resolve: () => new RunbookFingerprintRef(file) },
    { tag: "!SafeIamUserName", resolve: () => safeIamUserName() },
    { tag: "!StackUuid", resolve: () => stackUuid() },
  ];
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
        "!Runbook, !LambdaBundle, !RunbookFingerprint and !SafeIamUserName are the only tags understood.",
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
