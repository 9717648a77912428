// Assembles the CloudFormation template from templates/*.yaml, the runbooks and the Lambda bundle.
// Computing (assembleTemplate) is separate from rendering (renderTemplate) so each is testable alone.

import { readdir } from "node:fs/promises";
import { basename, join } from "node:path";
import { Document, isScalar, visit } from "yaml";
import { LambdaBundleRef, RunbookFingerprintRef, RunbookRef, readCfnYaml } from "./cfn-yaml.mjs";
import { runbookFingerprint } from "./runbook-fingerprint.mjs";

/** Where the sources live and where the template goes, relative to the repository root. */
export const TEMPLATE_DIR = "templates";
export const RUNBOOK_DIR = "runbook";
export const TEMPLATE_OUT = "dist/aws-github-akm.template.yaml";

/** Systems Manager rejects documents larger than this (including runtime parameter values). */
export const SSM_DOCUMENT_MAX_BYTES = 64 * 1024;

// The order CloudFormation's own documentation lists the sections in; the output follows it whatever
// order the source files use, so reordering sources never churns dist/.
const SECTION_ORDER = [
  "AWSTemplateFormatVersion",
  "Description",
  "Metadata",
  "Transform",
  "Parameters",
  "Rules",
  "Mappings",
  "Conditions",
  "Resources",
  "Outputs",
];
const SINGLE_VALUE_SECTIONS = new Set(["AWSTemplateFormatVersion", "Description", "Transform"]);

/** @param {string} dir @param {string} root */
async function yamlFiles(dir, root) {
  const names = (await readdir(join(root, dir))).filter((n) => n.endsWith(".yaml")).sort();
  if (names.length === 0)
    throw new Error(`build: ${dir}/ holds no .yaml files; the template sources belong there.`);
  return names.map((n) => join(root, dir, n));
}

/**
 * Merges the template parts: each file contributes sections; a logical ID defined twice is an error.
 * @param {string} root
 * @returns {Promise<Record<string, any>>}
 */
async function mergeTemplateParts(root) {
  /** @type {Record<string, any>} */
  const merged = {};
  /** @type {Map<string, string>} "Section/Key" -> file that defined it */
  const definedIn = new Map();
  for (const path of await yamlFiles(TEMPLATE_DIR, root)) {
    const file = `${TEMPLATE_DIR}/${basename(path)}`;
    const part = await readCfnYaml(path, root);
    if (part === null || typeof part !== "object" || Array.isArray(part)) {
      throw new Error(
        `build: ${file} must be a YAML mapping of template sections (Parameters:, Resources:, ...).`,
      );
    }
    for (const [section, value] of Object.entries(part)) {
      if (!SECTION_ORDER.includes(section)) {
        throw new Error(
          `build: ${file} has an unknown top-level section "${section}". ` +
            `Template sections are: ${SECTION_ORDER.join(", ")}.`,
        );
      }
      if (SINGLE_VALUE_SECTIONS.has(section)) {
        const first = definedIn.get(section);
        if (first) throw new Error(`build: ${section} is set in both ${first} and ${file}; keep one.`);
        definedIn.set(section, file);
        merged[section] = value;
        continue;
      }
      merged[section] ??= {};
      for (const [key, entry] of Object.entries(value ?? {})) {
        const first = definedIn.get(`${section}/${key}`);
        if (first)
          throw new Error(`build: ${section}.${key} is defined in both ${first} and ${file}; keep one.`);
        definedIn.set(`${section}/${key}`, file);
        merged[section][key] = entry;
      }
    }
  }
  /** @type {Record<string, any>} */
  const ordered = {};
  for (const section of SECTION_ORDER) if (section in merged) ordered[section] = merged[section];
  return ordered;
}

/**
 * Replaces the !Runbook, !LambdaBundle and !RunbookFingerprint placeholders, returning a new tree.
 * @param {unknown} node
 * @param {{ runbooks: Map<string, unknown>, used: Set<string>, bundle: string, bundles: string[],
 *           parameters: Record<string, any> }} ctx
 * @returns {unknown}
 */
function fill(node, ctx) {
  if (node instanceof RunbookRef) {
    const runbook = ctx.runbooks.get(node.name);
    if (runbook === undefined) {
      throw new Error(
        `build: ${node.where} asks for !Runbook ${node.name}, but ${RUNBOOK_DIR}/${node.name}.yaml does not exist. ` +
          `Available: ${[...ctx.runbooks.keys()].join(", ")}.`,
      );
    }
    if (ctx.used.has(node.name)) {
      throw new Error(
        `build: ${node.where} uses !Runbook ${node.name} a second time; each runbook is one document.`,
      );
    }
    ctx.used.add(node.name);
    return runbook;
  }
  if (node instanceof LambdaBundleRef) {
    ctx.bundles.push(node.where);
    return ctx.bundle;
  }
  if (node instanceof RunbookFingerprintRef) {
    return runbookFingerprint(ctx.runbooks, ctx.parameters, node.where);
  }
  if (Array.isArray(node)) return node.map((item) => fill(item, ctx));
  if (node !== null && typeof node === "object") {
    /** @type {Record<string, unknown>} */
    const out = {};
    for (const [key, value] of Object.entries(node)) out[key] = fill(value, ctx);
    return out;
  }
  return node;
}

/**
 * Builds the template as plain data.
 * @param {{ root: string, bundle: string }} options
 */
export async function assembleTemplate({ root, bundle }) {
  const template = await mergeTemplateParts(root);
  /** @type {Map<string, unknown>} */
  const runbooks = new Map();
  for (const path of await yamlFiles(RUNBOOK_DIR, root)) {
    runbooks.set(basename(path, ".yaml"), await readCfnYaml(path, root));
  }
  const ctx = {
    runbooks,
    used: new Set(),
    bundle,
    bundles: /** @type {string[]} */ ([]),
    parameters: template.Parameters ?? {},
  };
  const filled = /** @type {Record<string, any>} */ (fill(template, ctx));
  const unused = [...runbooks.keys()].filter((name) => !ctx.used.has(name));
  if (unused.length > 0) {
    throw new Error(
      `build: ${unused.map((n) => `${RUNBOOK_DIR}/${n}.yaml`).join(", ")} is not used by any template resource. ` +
        "Reference it with `Content: !Runbook <name>` in an AWS::SSM::Document, or delete it.",
    );
  }
  if (ctx.bundles.length !== 1) {
    throw new Error(
      `build: the Lambda bundle must be placed exactly once with \`ZipFile: !LambdaBundle\`; found ${ctx.bundles.length}` +
        `${ctx.bundles.length > 0 ? ` (${ctx.bundles.join(", ")})` : ""}.`,
    );
  }
  return filled;
}

/**
 * The size of each SSM document's content, as the YAML Systems Manager stores.
 * Intrinsic functions inside the content are counted as written; resolved values are of similar size.
 * @param {Record<string, any>} template
 */
export function documentSizes(template) {
  return Object.entries(template.Resources ?? {})
    .filter(([, resource]) => resource?.Type === "AWS::SSM::Document")
    .map(([logicalId, resource]) => ({
      logicalId,
      bytes: Buffer.byteLength(
        new Document(resource.Properties?.Content, STRINGIFY).toString(STRINGIFY),
        "utf8",
      ),
    }));
}

/** @type {import("yaml").DocumentOptions & import("yaml").ToStringOptions & import("yaml").CreateNodeOptions} */
const STRINGIFY = {
  // Written for YAML 1.1 readers too (CloudFormation's parser is one): strings such as 2010-09-09, yes
  // or on are quoted, so no reader can take them for a date or a boolean.
  version: "1.1",
  // Never fold lines: the bundle and the Markdown descriptions keep their line breaks as written.
  lineWidth: 0,
  minContentWidth: 0,
  blockQuote: "literal",
  indent: 2,
  indentSeq: true,
  // Identical subtrees stay spelled out; anchors/aliases would make the template harder to read.
  aliasDuplicateObjects: false,
};

/**
 * Serializes the template once, with a header comment.
 * @param {Record<string, any>} template
 * @param {{ name: string, version: string }} pkg
 */
export function renderTemplate(template, pkg) {
  const doc = new Document(template, STRINGIFY);
  // A lone "=" is YAML 1.1's "value" key indicator: PyYAML (so cfn-lint) refuses it unquoted, and the yaml
  // library does not quote it for 1.1. The !SafeIamUserName expression splits at "=".
  visit(doc, {
    Scalar(_key, node) {
      if (isScalar(node) && node.value === "=") node.type = "QUOTE_DOUBLE";
    },
  });
  doc.commentBefore = [
    ` ${pkg.name} ${pkg.version}: generated by scripts/build.mjs from templates/*.yaml, runbook/*.yaml`,
    " and the Lambda bundle of src/handler.ts. Do not edit; change the sources and run `npm run build`.",
  ].join("\n");
  return doc.toString(STRINGIFY);
}
