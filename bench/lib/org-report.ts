/**
 * The results.md section that sets per-repository secrets, one organization secret with selected repositories and
 * the mix side by side (org-scenarios.ts), with what the figures say, computed from them.
 */
import { ENDPOINT_POINTS_PER_MINUTE } from "./bounds.ts";
import { LARGE_N, plannedLayoutRuns } from "./org-scenarios.ts";
import { LAMBDA_TIMEOUT_MS } from "./ours.ts";

/** The function stops starting work this long before its timeout (src/handler.ts STEP_MARGIN_MS). */
const STEP_MARGIN_MS = 60_000;

import type { ScenarioResult } from "./scenario.ts";
import {
  LAYOUT_ENVIRONMENT,
  LAYOUT_KINDS,
  type LayoutKind,
  layoutLabel,
  MIXED_SHARES,
} from "./secret-layout.ts";

export interface LayoutSectionInput {
  /** The main bench's results (its runs of ours are the per-repository rows). */
  readonly results: readonly ScenarioResult[];
  /** The organization and mixed layouts' results. */
  readonly layouts: readonly ScenarioResult[];
  readonly orgSizes: readonly number[];
  /** The main bench's `--sizes` (absent in older raw.json). */
  readonly sizes?: readonly number[];
  readonly latencyMs: number;
}

function int(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}

function fixed(value: number, digits = 1): string {
  return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function secs(value: number): string {
  return fixed(value, value < 10 ? 2 : 1);
}

/** "1 read", "100 reads". */
function plural(count: number, noun: string): string {
  return `${int(count)} ${noun}${count === 1 ? "" : "s"}`;
}

function percent(share: number): string {
  return `${fixed(share * 100, 0)} %`;
}

/** Requests GitHub would have refused: the emulator's refusals plus what the access log shows beyond the limits. */
function violations(r: ScenarioResult): number {
  return r.limitViolations + (r.endpointLimitExcess ?? 0);
}

function primaryAnswers(r: ScenarioResult): number {
  return (r as { readonly primaryLimitAnswers?: number }).primaryLimitAnswers ?? 0;
}

/** The row of `layout` at N: the main bench's ours for per-repository secrets. */
function find(input: LayoutSectionInput, repos: number, layout: LayoutKind): ScenarioResult | undefined {
  if (layout === "repository") {
    return input.results.find(
      (r) => r.algorithm === "ours" && r.repos === repos && (r.layout ?? "repository") === "repository",
    );
  }
  return input.layouts.find((r) => r.repos === repos && r.layout === layout);
}

function row(r: ScenarioResult): string {
  const cells = [
    int(r.repos),
    layoutLabel(r.layout ?? "repository"),
    `${int(r.targets ?? r.repos)} · ${int(r.jobs ?? r.repos)}`,
    int(r.writes),
    `${int(r.requests)} (${int(r.reads)} / ${int(r.writes)})`,
    r.organizationListReads === undefined ? "—" : int(r.organizationListReads),
    r.repositoryReads === undefined ? "—" : int(r.repositoryReads),
    r.shadowReads === undefined ? "—" : int(r.shadowReads),
    secs(r.wallSeconds),
    secs(r.boundSeconds),
    // A run the bench stopped did not end: its wall time is no rotation's, so it has no ratio.
    r.outcome === "Success" ? fixed(r.wallSeconds / r.boundSeconds, 2) : "—",
    int(violations(r)),
    int(primaryAnswers(r)),
    int(r.failedRepos),
    fixed(r.downtimePairSeconds),
    fixed(r.downtimeKeyIdSeconds),
    r.longestInvocationSeconds === undefined ? "—" : fixed(r.longestInvocationSeconds),
    `${r.executions ?? 1} · ${r.iterations ?? 0}`,
    String(r.timeScale),
    r.outcome === "Success" ? "Success" : r.outcome.slice(0, 160).replaceAll("|", "\\|"),
  ];
  return `| ${cells.join(" | ")} |`;
}

function notRun(repos: number, layout: LayoutKind, planned: boolean): string {
  const why = planned
    ? "not measured: the run was stopped before it"
    : layout === "repository"
      ? `not run: add ${repos} to \`--sizes\``
      : `not run: add ${repos} to \`--sizes\` (from N = ${int(LARGE_N)}, layouts that write per repository run only when listed)`;
  return `| ${int(repos)} | ${layoutLabel(layout)} | ${why} |${" |".repeat(17)}`;
}

export function renderLayoutSection(input: LayoutSectionInput): string[] {
  if (input.layouts.length === 0) return [];
  const lines: string[] = [];
  const push = (...more: string[]) => lines.push(...more);
  const sizes = input.orgSizes;
  push(
    "## Organization secrets: N writes become two",
    "",
    `The same Rotate runbook, at N = ${sizes.map(int).join(", ")} repositories (\`--org-sizes\`), with the key in three layouts. Every repository's jobs read the key; what changes is where from:`,
    "",
    "- **per-repository secrets**: each repository's own Actions secrets, a version 1 list of N entries — the main table's run of ours at that N (the same run, not a new one);",
    `- **one organization secret (selected)**: one entry \`{"Type": "organization", "Visibility": "selected", "Repositories": [N names]}\`; the organization's Actions secret, seen by the N repositories. Its write sends \`selected_repository_ids\`, so a rotation resolves the N names to IDs once before its key exists, from the organization's repositories listed 100 a page (\`GET /orgs/{org}/repos\`; a few names are looked up one by one), and keeps them in its progress object for its later invocations;`,
    `- **mixed**: ${percent(MIXED_SHARES.ownRepositorySecrets)} of the repositories keep their own repository secrets (listed as repositories, not selected), the others read the organization secret (selected), and one in ${int(1 / MIXED_SHARES.environmentCopies)} of those deploys from an environment \`${LAYOUT_ENVIRONMENT}\` holding its own copy, listed too (a copy the list does not name would keep those jobs on the old key).`,
    "",
    "The start state is the same in each: every place holds the one existing key. *Places · jobs*: entries of the list, and the jobs whose reads are watched (one per repository, plus one in the environment where there is one). **CI downtime** is measured per job on what it would read — the emulator's `effectiveSecret`, GitHub's precedence (environment over repository over organization, the organization's secret only if the repository is selected) — as job-seconds during which the ID and secret it would get were not an Active key's pair; an organization secret's write changes what every selected repository reads at once. **Bound**: the reads that must come before the key — the selected repositories' IDs (one read per 100) and the shadowing check's (per repository whose jobs read the key: its environments, each environment's secrets, and its own secrets when it reads the organization secret; GitHub has no organization-wide listing of these) — at GitHub's read limits (100 at once, one round trip each; 900 points a minute per endpoint; a personal token's 5,000 requests an hour), then the writes at GitHub's pace, as in the main table (`bench/lib/bounds.ts`, `layoutLowerBoundSeconds`). **Limit violations** here also count requests beyond 900 points a minute to one endpoint (GET 1 point, PUT 5), read from the access log: the emulator does not refuse those, GitHub would. *ID reads*: `GET /orgs/{org}/repos` pages read to resolve the selected names; *GET repository*: `GET /repos/{owner}/{repo}` requests — the preflight's per listed repository, and selected names looked up one by one; *shadowing reads*: the shadowing check's requests (Rotate's before the key, and Retire's check again). *Longest invocation*: emulated seconds; the function's timeout is 290 s, which the bench's Lambda runner enforces in real time only. The function starts no new work 60 s before its timeout (at 230 s); what it still does after that (the requests in flight, saving its progress) is real work, which the scaled clock stretches *time ×* times, so a figure above 290 s on a scaled row is the sign to look at that tail in real seconds (given in the notes below), not proof that Lambda would stop it; on a row at ×1 it would be. A run that cannot end is cancelled by the bench after a few Rotate invocations (six plus two per hour of the bound), and its outcome says so.",
    "",
    "| N | layout | places · jobs | writes (PUT) | requests (GET / PUT) | ID reads | GET repository | shadowing reads | wall time (s) | bound (s) | ratio | limit violations | primary-limit answers | failed places | CI downtime (job-s) | key ID not Active (job-s) | longest invocation (s) | executions · iterations | time × | outcome |",
    "|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
  );
  for (const repos of sizes) {
    for (const layout of LAYOUT_KINDS) {
      const r = find(input, repos, layout);
      const planned =
        input.sizes !== undefined &&
        (layout === "repository"
          ? input.sizes.includes(repos)
          : plannedLayoutRuns(sizes, input.sizes).some(
              (run) => run.repos === repos && run.layout === layout,
            ));
      push(r === undefined ? notRun(repos, layout, planned) : row(r));
    }
  }
  push("", "What the figures say:", "");
  for (const repos of sizes) {
    const perRepo = find(input, repos, "repository");
    const org = find(input, repos, "organization");
    const mixed = find(input, repos, "mixed");
    if (org === undefined) continue;
    const parts: string[] = [];
    if (perRepo !== undefined) {
      parts.push(
        `${int(perRepo.writes)} writes per repository against ${int(org.writes)} for the organization secret${mixed ? ` and ${int(mixed.writes)} mixed` : ""}; wall time ${secs(perRepo.wallSeconds)} s against ${secs(org.wallSeconds)} s${mixed ? ` and ${secs(mixed.wallSeconds)} s` : ""}`,
      );
    } else {
      parts.push(
        `${int(org.writes)} writes for the organization secret${mixed ? `, ${int(mixed.writes)} mixed` : ""}`,
      );
    }
    if (org.organizationListReads !== undefined) {
      parts.push(
        `the organization secret's ${int(repos)} selected names were resolved once, with ${plural(org.organizationListReads, "read")} of the organization's repositories (at least ${plural(Math.ceil(repos / 100), "page")} of 100) and ${int(org.repositoryReads ?? 0)} \`GET /repos/{owner}/{repo}\`; the shadowing check read ${int(org.shadowReads ?? 0)} times`,
      );
    }
    if (org.shadowReads !== undefined && org.shadowReads > 0) {
      parts.push(
        `the bound lets reads go 100 at once (GitHub's concurrency limit), but the shadowing check reads one repository after the other, as GitHub's [best practices](https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api) ask of clients ("make requests serially instead of concurrently"): its ${int(org.shadowReads)} reads (Rotate's before the key, and Retire's again once it runs) take ${secs((org.shadowReads * input.latencyMs) / 1000)} s of round trips alone`,
      );
    }
    if ((org.peakEndpointPoints ?? 0) > ENDPOINT_POINTS_PER_MINUTE) {
      parts.push(
        `those reads reached ${int(org.peakEndpointPoints ?? 0)} points a minute on \`GET /repos/{owner}/{repo}\`, beyond GitHub's ${ENDPOINT_POINTS_PER_MINUTE} (${int(org.endpointLimitExcess ?? 0)} requests GitHub could have refused with a secondary rate limit)`,
      );
    }
    if (primaryAnswers(org) > 0) {
      parts.push(
        `GitHub's primary rate limit (5,000 requests an hour) answered ${int(primaryAnswers(org))} of them`,
      );
    }
    if ((org.longestInvocationSeconds ?? 0) * 1000 > LAMBDA_TIMEOUT_MS) {
      parts.push(
        org.timeScale > 1
          ? `one invocation ran ${fixed(org.longestInvocationSeconds ?? 0)} s (emulated), past the function's ${LAMBDA_TIMEOUT_MS / 1000} s timeout: it starts no new work after ${(LAMBDA_TIMEOUT_MS - STEP_MARGIN_MS) / 1000} s, and its ${fixed((org.longestInvocationSeconds ?? 0) - (LAMBDA_TIMEOUT_MS - STEP_MARGIN_MS) / 1000)} s after that are real work stretched ×${org.timeScale} — ${fixed(((org.longestInvocationSeconds ?? 0) - (LAMBDA_TIMEOUT_MS - STEP_MARGIN_MS) / 1000) / org.timeScale)} s of real time on this machine, against the ${STEP_MARGIN_MS / 1000} real seconds Lambda leaves it`
          : `one invocation ran ${fixed(org.longestInvocationSeconds ?? 0)} s, longer than the function's ${LAMBDA_TIMEOUT_MS / 1000} s timeout: in AWS, Lambda would have stopped it`,
      );
    }
    if (org.outcome !== "Success") {
      parts.push(
        `outcome: ${org.outcome} — the bench's safety stop (\`layoutIterationCap\`), not a failure of the rotation: no invocation ran longer than ${fixed(org.longestInvocationSeconds ?? 0)} s (the timeout is ${LAMBDA_TIMEOUT_MS / 1000} s), GitHub answered no request with its primary rate limit, and the invocations went on checking repositories for shadowing copies, about ${int(Math.max(0, repos - Number(/(\d+) repositories not checked/.exec(org.outcome)?.[1] ?? repos)) / Math.max(1, org.iterations ?? 1))} an invocation: on a scaled clock each request's real work (the client, the emulator, loopback, on a loaded machine) appears ×${org.timeScale} longer, so an invocation's 230 s hold far fewer requests than GitHub's round trips alone would allow`,
      );
    }
    if (mixed !== undefined && mixed.outcome !== "Success") parts.push(`mixed: ${mixed.outcome}`);
    push(`- **N = ${int(repos)}**: ${parts.join("; ")}.`);
  }
  const downtimes = input.layouts.filter((r) => r.downtimePairSeconds > 0 && r.layout === "organization");
  if (downtimes.length > 0) {
    push(
      `- **CI downtime of the organization secret**: its two secrets are written one after the other, and between the two PUTs every selected repository's jobs read the new secret key with the old key ID — one round trip, for every job at once (${downtimes.map((r) => `${fixed(r.downtimePairSeconds)} job-s at N = ${int(r.repos)}`).join(", ")}); per-repository secrets have the same window, one repository at a time. No job ever read a key ID that was not Active (${input.layouts.every((r) => r.downtimeKeyIdSeconds === 0) ? "0 job-s in every layout" : "see the table"}).`,
    );
  }
  push("");
  return lines;
}
