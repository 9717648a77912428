/**
 * Organization secrets side by side with per-repository secrets (issue 10, "Scale"): at each N of `--org-sizes`,
 * the key in every repository's own secrets (the main bench's run of ours at that N), in one organization secret
 * with the N repositories selected, and in a mix of both with environment copies (secret-layout.ts). Each layout
 * runs our Rotate runbook like the main bench (scenario.ts), on its own world and scaled clock.
 */
import { GITHUB_RULES, layoutLowerBoundSeconds, PACE_RULES, readRules, resolutionReads } from "./bounds.ts";
import { runScenario, type ScenarioResult } from "./scenario.ts";
import { type LayoutKind, layoutWork, secretLayout } from "./secret-layout.ts";

/**
 * From this N on, a layout that writes per repository (per-repository secrets, the mix) runs only when the main
 * bench's `--sizes` lists N: it takes far longer in real time than the organization secret's two writes.
 */
export const LARGE_N = 10_000;

export interface LayoutRun {
  readonly repos: number;
  readonly layout: LayoutKind;
}

/**
 * The layouts to run beyond the main bench: the organization secret at every N of `orgSizes`; the mix at those
 * below LARGE_N and at those `sizes` lists. Per-repository secrets are the main bench's runs (at the N `sizes` lists).
 */
export function plannedLayoutRuns(orgSizes: readonly number[], sizes: readonly number[]): LayoutRun[] {
  const runs: LayoutRun[] = [];
  for (const repos of orgSizes) {
    runs.push({ repos, layout: "organization" });
    if (repos < LARGE_N || sizes.includes(repos)) runs.push({ repos, layout: "mixed" });
  }
  return runs;
}

/**
 * The layout's time scale, chosen like the main bench's: the lower bound without hourly limits (whose waits cost
 * no real time) lasts about `targetRealSeconds` of real time, never faster than `maxTimeScale`.
 */
export function layoutTimeScale(
  run: LayoutRun,
  options: { readonly latencyMs: number; readonly maxTimeScale: number; readonly targetRealSeconds: number },
): number {
  const required = layoutWork(secretLayout(run.layout, run.repos, "scale"));
  const bound = layoutLowerBoundSeconds(
    required,
    PACE_RULES,
    readRules(options.latencyMs, { hourly: false }),
    options.latencyMs,
  );
  return Math.min(options.maxTimeScale, Math.max(1, Math.ceil(bound / options.targetRealSeconds)));
}

/**
 * The real time one request costs the bench's stack on this kind of machine under load (the client, the emulator,
 * loopback; measured: about 55 ms at a load average of 17 on 2 cores). On a scaled clock it appears `timeScale`
 * times longer, so the sequential reads of a large N need that many more invocations.
 */
const REAL_MS_PER_REQUEST = 60;

/**
 * A safety stop for a rotation that cannot end: six Rotate invocations, plus two per hour of the lower bound (a
 * rotation that can end needs about one per hour of GitHub's limits), plus one per 200 s of its reads made one after
 * the other (the shadowing check reads one repository at a time; an invocation works about 230 s), each read
 * costing its round trip or its real work on the scaled clock, whichever is longer. The report says when it was
 * reached.
 */
export function layoutIterationCap(run: LayoutRun, latencyMs: number, timeScale = 1): number {
  const required = layoutWork(secretLayout(run.layout, run.repos, "cap"));
  const hours = layoutLowerBoundSeconds(required, GITHUB_RULES, readRules(latencyMs), latencyMs) / 3_600;
  const sequentialReads = resolutionReads(required.selectedRepositories) + (required.shadowReads ?? 0);
  const perRead = Math.max(latencyMs, REAL_MS_PER_REQUEST * timeScale);
  return 6 + 2 * Math.ceil(hours) + Math.ceil((sequentialReads * perRead) / 1000 / 200);
}

export interface LayoutComparisonOptions {
  readonly motoEndpoint: string;
  readonly orgSizes: readonly number[];
  /** The main bench's `--sizes`. */
  readonly sizes: readonly number[];
  readonly latencyMs: number;
  readonly maxTimeScale: number;
  readonly targetRealSeconds: number;
  readonly say: (line: string) => void;
  /** Called with each layout's result as soon as it is measured. */
  readonly onResult?: (result: ScenarioResult) => void;
}

/** Runs `plannedLayoutRuns`, in order. */
export async function runLayoutComparison(options: LayoutComparisonOptions): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  for (const run of plannedLayoutRuns(options.orgSizes, options.sizes)) {
    const timeScale = layoutTimeScale(run, options);
    const maxIterations = layoutIterationCap(run, options.latencyMs, timeScale);
    options.say(`bench: N=${run.repos} ${run.layout} (time ×${timeScale}) ...`);
    const result = await runScenario({
      motoEndpoint: options.motoEndpoint,
      algorithm: "ours",
      repos: run.repos,
      timeScale,
      latencyMs: options.latencyMs,
      layout: run.layout,
      maxIterations,
    });
    results.push(result);
    options.onResult?.(result);
    options.say(
      `  ${result.outcome.slice(0, 200)}; ${result.targets} places, ${result.writes} writes, ${result.requests} requests; ${result.wallSeconds.toFixed(1)} s emulated (${result.realSeconds.toFixed(1)} s real), bound ${result.boundSeconds.toFixed(1)} s, ` +
        `${result.limitViolations} limit violations, ${result.failedRepos} failed, downtime ${result.downtimePairSeconds.toFixed(1)} job-s`,
    );
  }
  return results;
}
