#!/usr/bin/env node
// Builds the product: one CloudFormation template with the Lambda bundle and the runbooks inlined.
//
//   npm run build             writes dist/lambda/index.js and dist/aws-github-akm.template.yaml
//   npm run build -- --check  builds in memory and fails if dist/ differs (CI: dist/ is committed)
//
// The output is byte-for-byte reproducible: same sources and lockfile, same dist/.

import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleHandler } from "./build/bundle.mjs";
import {
  assembleTemplate,
  documentSizes,
  renderTemplate,
  SSM_DOCUMENT_MAX_BYTES,
  TEMPLATE_OUT,
} from "./build/template.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const DIST = "dist";
const BUNDLE_OUT = "dist/lambda/index.js";
/** CloudFormation's limit for a template given by TemplateURL (TemplateBody is limited to 51,200 bytes). */
const TEMPLATE_URL_MAX_BYTES = 1024 * 1024;

const HELP = `Usage: npm run build [-- --check]

Renders the product: dist/aws-github-akm.template.yaml (one CloudFormation template with the four runbooks
and the Lambda code of src/handler.ts inlined) and dist/lambda/index.js (that code alone, for review).
The output is reproducible: the same sources and lockfile give the same bytes.

Options:
  --check      build in memory and fail (exit 1) unless dist/ holds exactly that; writes nothing
  -h, --help   show this help

Needs Node.js and the project's dependencies (npm ci); no AWS credentials.

Exit codes:
  0  built (or, with --check, dist/ is up to date)
  1  the build failed, or --check found dist/ out of date (the message says what to do)
  2  bad arguments`;

async function main() {
  const args = process.argv.slice(2);
  if (args.includes("--help") || args.includes("-h")) {
    console.log(HELP);
    return;
  }
  const unknown = args.filter((arg) => arg !== "--check");
  if (unknown.length > 0) {
    console.error(`build: unknown argument(s) ${unknown.join(" ")}.\nRun with --help for usage.`);
    process.exitCode = 2;
    return;
  }
  const check = args.includes("--check");
  const started = performance.now();

  const pkg = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8"));
  const bundle = await bundleHandler({ root: ROOT, name: pkg.name, version: pkg.version });
  const template = await assembleTemplate({ root: ROOT, bundle: bundle.code });
  const sizes = documentSizes(template);
  const tooBig = sizes.filter((d) => d.bytes > SSM_DOCUMENT_MAX_BYTES);
  if (tooBig.length > 0) {
    throw new Error(
      `build: ${tooBig.map((d) => `${d.logicalId} (${d.bytes} bytes)`).join(", ")} exceed(s) the ` +
        `${SSM_DOCUMENT_MAX_BYTES}-byte limit of an SSM document. Shorten the runbook's description or steps.`,
    );
  }
  const text = renderTemplate(template, pkg);
  const templateBytes = Buffer.byteLength(text, "utf8");
  if (templateBytes > TEMPLATE_URL_MAX_BYTES) {
    throw new Error(
      `build: the template is ${templateBytes} bytes; CloudFormation accepts at most ${TEMPLATE_URL_MAX_BYTES}. ` +
        "Look for a dependency that grew the Lambda bundle.",
    );
  }

  /** @type {Map<string, string>} */
  const outputs = new Map([
    [BUNDLE_OUT, bundle.code],
    [TEMPLATE_OUT, text],
  ]);
  if (check) {
    await checkDist(outputs);
    console.log(`build --check: dist/ matches the sources (${Math.round(performance.now() - started)} ms).`);
    return;
  }
  await rm(join(ROOT, DIST), { recursive: true, force: true });
  for (const [path, content] of outputs) {
    await mkdir(dirname(join(ROOT, path)), { recursive: true });
    await writeFile(join(ROOT, path), content, "utf8");
  }

  const kb = (/** @type {number} */ n) => `${(n / 1024).toFixed(1)} KB`;
  console.log(`${BUNDLE_OUT}  ${kb(bundle.bodyBytes)}  sha256 ${bundle.sha256}`);
  console.log(`${TEMPLATE_OUT}  ${kb(templateBytes)} (limit ${kb(TEMPLATE_URL_MAX_BYTES)} via TemplateURL)`);
  for (const d of sizes)
    console.log(`  ${d.logicalId}: ${kb(d.bytes)} (SSM document limit ${kb(SSM_DOCUMENT_MAX_BYTES)})`);
  console.log(`Built in ${Math.round(performance.now() - started)} ms.`);
  console.log("");
  console.log(
    `Launch it:  CloudFormation console -> Create stack -> Upload a template file: ${TEMPLATE_OUT}`,
  );
  console.log("  or get a quick-create link: npm run launch-link -- --bucket BUCKET --region REGION");
  console.log("Upgrade a stack: Update stack -> Replace existing template (README, Upgrading).");
}

/**
 * Fails unless every generated file exists in dist/ with the same bytes and dist/ holds nothing else.
 * @param {Map<string, string>} outputs
 */
async function checkDist(outputs) {
  const problems = [];
  for (const [path, content] of outputs) {
    let current;
    try {
      current = await readFile(join(ROOT, path), "utf8");
    } catch {
      problems.push(`${path} is missing`);
      continue;
    }
    if (current !== content) problems.push(`${path} differs from a fresh build of the sources`);
  }
  for (const path of await listFiles(join(ROOT, DIST))) {
    const rel = relative(ROOT, path).split("\\").join("/");
    if (!outputs.has(rel)) problems.push(`${rel} is not produced by the build (stale file)`);
  }
  if (problems.length > 0) {
    throw new Error(
      `build --check: dist/ is out of date:\n${problems.map((p) => `  - ${p}`).join("\n")}\n` +
        "Run `npm run build` and commit dist/ together with the source change.",
    );
  }
}

/** @param {string} dir @returns {Promise<string[]>} */
async function listFiles(dir) {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const files = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await listFiles(path)));
    else files.push(path);
  }
  return files;
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
