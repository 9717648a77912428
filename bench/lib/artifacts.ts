/**
 * Figures about the built artifact: the time `npm run build` takes, the bundle's and the template's bytes, and the
 * cold init of the bundle on Node 24 (loading the template's Lambda code until its handler can be called).
 */
import { spawn } from "node:child_process";
import { statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  extractTemplateLambda,
  LAMBDA_NODE_BIN,
  RENDERED_TEMPLATE_PATH,
  REPO_ROOT,
} from "../../scripts/local-stack/lambda-runner.ts";

export interface ArtifactFigures {
  readonly bundleBytes: number;
  readonly templateBytes: number;
  /** Wall time of each `npm run build -- --check` (ms). */
  readonly buildMs: readonly number[];
  /**
   * Per cold start: loading index.js until `handler` is exported (ms) — `sdkMs` for the AWS SDK clients it
   * requires, `ownMs` for the bundle itself, `requireMs` both — and the first (trivial) call after it.
   */
  readonly coldInit: readonly {
    readonly requireMs: number;
    readonly sdkMs: number;
    readonly ownMs: number;
    readonly firstCallMs: number;
  }[];
  readonly sdkModules: readonly string[];
  readonly nodeVersion: string;
}

/** Runs a command, resolving with its wall time in ms; rejects on a non-zero exit. */
function timed(command: string, args: readonly string[], cwd: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once("error", reject);
    child.once("close", (code) => {
      const ms = performance.now() - started;
      if (code === 0) resolve(ms);
      else reject(new Error(`${command} ${args.join(" ")} exited ${code}:\n${output.slice(-2000)}`));
    });
  });
}

/**
 * What the Lambda runtime does at a cold start, minus its own bootstrap: load index.js (CommonJS) and take the
 * exported handler, then call it once with an event it rejects without any AWS call. The AWS SDK clients the
 * bundle requires (from the runtime's copy in Lambda, from node_modules here) are loaded first and timed apart,
 * so the figure splits into the SDK's share and the bundle's own.
 */
const COLD_INIT_PROBE = `"use strict";
const fs = require("node:fs");
const entry = process.argv[2];
const sdk = [...new Set([...fs.readFileSync(entry, "utf8").matchAll(/require\\("(@aws-sdk\\/[a-z0-9-]+)"\\)/g)].map((m) => m[1]))];
const t0 = performance.now();
for (const name of sdk) require(name);
const t1 = performance.now();
const mod = require(entry);
const handler = mod.handler;
const t2 = performance.now();
if (typeof handler !== "function") throw new Error("no handler export");
handler({ action: "cold-init-probe" }, { getRemainingTimeInMillis: () => 290000 }).then(() => {
  const t3 = performance.now();
  process.stdout.write(JSON.stringify({ sdkMs: t1 - t0, ownMs: t2 - t1, firstCallMs: t3 - t2, sdk, node: process.versions.node }));
});
`;

interface ColdStartSample {
  readonly sdkMs: number;
  readonly ownMs: number;
  readonly firstCallMs: number;
  readonly sdk: readonly string[];
  readonly node: string;
}

function coldStart(dir: string, probe: string): Promise<ColdStartSample> {
  return new Promise((resolve, reject) => {
    const child = spawn(LAMBDA_NODE_BIN, [probe, join(dir, "index.js")], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? "", TZ: "UTC", AWS_REGION: "us-east-1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.once("error", reject);
    child.once("close", (code) => {
      if (code !== 0) reject(new Error(`cold-init probe exited ${code}: ${err.slice(-1000)}`));
      else resolve(JSON.parse(out) as ColdStartSample);
    });
  });
}

export async function measureArtifacts(options: {
  builds: number;
  coldStarts: number;
}): Promise<ArtifactFigures> {
  const buildMs: number[] = [];
  // --check runs the whole build (bundle, template) in memory and compares it with dist/, leaving dist/ alone for
  // anything else reading it meanwhile; writing the two files is not what takes time.
  for (let i = 0; i < options.builds; i++)
    buildMs.push(await timed("npm", ["run", "build", "--", "--check"], REPO_ROOT));
  const lambda = extractTemplateLambda();
  const probe = join(lambda.dir, "cold-init-probe.cjs");
  writeFileSync(probe, COLD_INIT_PROBE);
  const coldInit: ArtifactFigures["coldInit"][number][] = [];
  let nodeVersion = "";
  let sdkModules: readonly string[] = [];
  for (let i = 0; i < options.coldStarts; i++) {
    const sample = await coldStart(lambda.dir, probe);
    nodeVersion = sample.node;
    sdkModules = sample.sdk;
    coldInit.push({
      requireMs: sample.sdkMs + sample.ownMs,
      sdkMs: sample.sdkMs,
      ownMs: sample.ownMs,
      firstCallMs: sample.firstCallMs,
    });
  }
  return {
    bundleBytes: statSync(join(lambda.dir, "index.js")).size,
    templateBytes: statSync(RENDERED_TEMPLATE_PATH).size,
    buildMs,
    coldInit,
    sdkModules,
    nodeVersion,
  };
}
