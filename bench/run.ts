/**
 * `npm run bench`: our rotation and the original tool's algorithm side by side, at N = 1, 10, 100, 500 and 1,000
 * repositories (`--sizes 1,10,100,500,1000,10000` adds 10,000, ours only: the original runs up to `--original-max`),
 * against moto and the GitHub emulator with GitHub's limits and latency emulated on a scaled clock;
 * plus the artifact's figures (build time, bundle and template bytes, cold init on Node 24). Writes
 * bench/results.md, bench/results/chart.svg and bench/results/raw.json. Not part of `npm test`.
 *
 * Options (or the environment variables in brackets):
 *   --sizes 1,10,100,500,1000   repository counts [BENCH_SIZES]; 10,000 takes far longer (real work: about
 *                          60,000 requests, 400 Lambda invocations), so it runs only when listed here
 *   --max-time-scale 30    the one time knob: the most emulated seconds per real second [BENCH_MAX_TIME_SCALE]
 *   --target-real-s 60     each scenario's scale is chosen so that writing at GitHub's pace (the lower bound without
 *                          the hourly limit's waits, which take no real time) lasts about this long in real time
 *   --original-max 1000    run the original algorithm only at N up to this
 *   --latency-ms 150       emulated round trip of every GitHub request
 *   --org-sizes 100,1000,10000   N of the organization-secret comparison [BENCH_ORG_SIZES]; `none`: skip it.
 *                          At each N: one organization secret with the N repositories selected, and a mix of
 *                          organization, repository and environment secrets (from N = 10,000 only when --sizes lists
 *                          N); beside the main run of ours at N (per-repository secrets, when --sizes lists N)
 *   --builds 3 --cold-starts 15
 *   --render-only          rewrite results.md and the chart from bench/results/raw.json, measuring nothing
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "../scripts/local-stack/lambda-runner.ts";
import { startMoto } from "../scripts/local-stack/moto.ts";
import { measureArtifacts } from "./lib/artifacts.ts";
import { lowerBoundSeconds, PACE_RULES } from "./lib/bounds.ts";
import { LARGE_N, runLayoutComparison } from "./lib/org-scenarios.ts";
import { renderReport } from "./lib/report.ts";
import { type Algorithm, runScenario, type ScenarioResult } from "./lib/scenario.ts";

interface Options {
  readonly sizes: readonly number[];
  readonly maxTimeScale: number;
  readonly targetRealSeconds: number;
  readonly latencyMs: number;
  /** The original algorithm runs at N ≤ this only. */
  readonly originalMaxRepos: number;
  readonly builds: number;
  readonly coldStarts: number;
  /** N of the organization-secret comparison (bench/lib/org-scenarios.ts); empty: none. */
  readonly orgSizes: readonly number[];
}

function parseOptions(argv: readonly string[]): Options {
  const given = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i] ?? "";
    const value = argv[i + 1];
    if (!name.startsWith("--") || value === undefined)
      throw new Error(`bench: expected --name value, got ${name}`);
    given.set(name.slice(2), value);
  }
  const value = (name: string, env: string | undefined, fallback: string): string =>
    given.get(name) ?? (env ? process.env[env] : undefined) ?? fallback;
  const positive = (name: string, text: string): number => {
    const n = Number(text);
    if (!(Number.isFinite(n) && n > 0))
      throw new Error(`bench: --${name} must be a positive number, got ${text}`);
    return n;
  };
  const known = [
    "sizes",
    "max-time-scale",
    "target-real-s",
    "latency-ms",
    "original-max",
    "builds",
    "cold-starts",
    "org-sizes",
  ];
  for (const name of given.keys())
    if (!known.includes(name)) throw new Error(`bench: unknown option --${name}`);
  return {
    sizes: value("sizes", "BENCH_SIZES", "1,10,100,500,1000")
      .split(",")
      .map((s) => Math.round(positive("sizes", s))),
    maxTimeScale: Math.max(
      1,
      positive("max-time-scale", value("max-time-scale", "BENCH_MAX_TIME_SCALE", "30")),
    ),
    targetRealSeconds: positive("target-real-s", value("target-real-s", undefined, "60")),
    latencyMs: positive("latency-ms", value("latency-ms", undefined, "150")),
    originalMaxRepos: Math.max(0, Number(value("original-max", undefined, "1000")) || 0),
    builds: Math.round(positive("builds", value("builds", undefined, "3"))),
    coldStarts: Math.round(positive("cold-starts", value("cold-starts", undefined, "15"))),
    orgSizes: ((text) =>
      text === "none" ? [] : text.split(",").map((s) => Math.round(positive("org-sizes", s))))(
      value("org-sizes", "BENCH_ORG_SIZES", "100,1000,10000"),
    ),
  };
}

/**
 * The scenario's time scale: real time for small N, faster for large N, never beyond the knob. It is chosen from
 * the time spent writing at GitHub's pace (the bound without the hourly limit's waits, which cost no real time).
 */
function timeScaleFor(repos: number, options: Options): number {
  const bound = lowerBoundSeconds(repos, PACE_RULES, options.latencyMs);
  return Math.min(options.maxTimeScale, Math.max(1, Math.ceil(bound / options.targetRealSeconds)));
}

function gitDescription(): string {
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: REPO_ROOT }).toString().trim();
    const dirty = execFileSync("git", ["status", "--porcelain"], { cwd: REPO_ROOT }).toString().trim() !== "";
    return `${head}${dirty ? " + uncommitted changes" : ""}`;
  } catch {
    return "unknown";
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const dir = join(REPO_ROOT, "bench", "results");
  if (args.includes("--render-only")) {
    const raw = JSON.parse(readFileSync(join(dir, "raw.json"), "utf8")) as Parameters<typeof renderReport>[0];
    writeOutputs(dir, raw);
    return;
  }
  const options = parseOptions(args);
  const started = performance.now();
  const loadAtStart = loadavg()[0] ?? 0;
  const say = (line: string) => process.stdout.write(`${line}\n`);

  say(`bench: build ×${options.builds}, cold init ×${options.coldStarts} ...`);
  const artifacts = await measureArtifacts({ builds: options.builds, coldStarts: options.coldStarts });

  const moto = await startMoto();
  const results: ScenarioResult[] = [];
  const layouts: ScenarioResult[] = [];
  const context = () => ({
    generatedAt: new Date().toISOString(),
    commit: gitDescription(),
    cpu: `${cpus().length} × ${cpus()[0]?.model ?? "unknown CPU"}`,
    nodeVersion: artifacts.nodeVersion,
    totalSeconds: (performance.now() - started) / 1000,
    // Other work on the machine inflates everything scaled (real work × scale) and the cold-init figures.
    loadAverage: { atStart: loadAtStart, atEnd: loadavg()[0] ?? 0 },
    options,
  });
  // The report is rewritten after every scenario, so a run stopped early leaves what it measured (the scenarios not
  // reached show as not run).
  const saveSoFar = () => writeOutputs(dir, { ...context(), artifacts, results, layouts });
  // The organization-secret comparison runs before the main bench's large N (per-repository secrets at 10,000 take
  // by far the longest), so a run stopped early still has it.
  const small = options.sizes.filter((repos) => repos < LARGE_N);
  const large = options.sizes.filter((repos) => repos >= LARGE_N);
  try {
    const runMain = async (sizes: readonly number[]) => {
      for (const repos of sizes) {
        const timeScale = timeScaleFor(repos, options);
        const algorithms: readonly Algorithm[] =
          repos <= options.originalMaxRepos ? ["ours", "original"] : ["ours"];
        for (const algorithm of algorithms) {
          say(`bench: N=${repos} ${algorithm} (time ×${timeScale}) ...`);
          const result = await runScenario({
            motoEndpoint: moto.endpoint,
            algorithm,
            repos,
            timeScale,
            latencyMs: options.latencyMs,
          });
          results.push(result);
          saveSoFar();
          say(
            `  ${result.outcome.slice(0, 200)}; ${result.executions ?? "-"} executions, ${result.iterations ?? "-"} iterations; ${result.wallSeconds.toFixed(1)} s emulated (${result.realSeconds.toFixed(1)} s real), bound ${result.boundSeconds.toFixed(1)} s, ` +
              `${result.limitViolations} limit violations, ${result.failedRepos} failed, downtime ${result.downtimePairSeconds.toFixed(1)} repo-s`,
          );
        }
      }
    };
    await runMain(small);
    await runLayoutComparison({
      motoEndpoint: moto.endpoint,
      say,
      ...options,
      onResult: (result) => {
        layouts.push(result);
        saveSoFar();
      },
    });
    await runMain(large);
  } finally {
    await moto.stop();
  }

  saveSoFar();
  say(
    `bench: done in ${((performance.now() - started) / 1000).toFixed(0)} s; wrote bench/results.md and bench/results/.`,
  );
}

function writeOutputs(dir: string, input: Parameters<typeof renderReport>[0]): void {
  mkdirSync(dir, { recursive: true });
  const report = renderReport(input);
  writeFileSync(join(dir, "raw.json"), `${JSON.stringify(input, null, 2)}\n`);
  writeFileSync(join(dir, "chart.svg"), report.chart);
  writeFileSync(join(REPO_ROOT, "bench", "results.md"), report.markdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
