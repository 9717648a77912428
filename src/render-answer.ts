import type { TargetNoun } from "./domain/name-targets.ts";
import { redactSecrets } from "./domain/secret-value.ts";
import {
  type HandlerResult,
  MAX_FAILED_REPOS,
  MAX_SUMMARY_BYTES,
  type RepoCounts,
  type RepoResult,
} from "./handler-contract.ts";
import { isoSeconds, type RunOutcome } from "./lifecycle/outcome.ts";
import { describeFinding } from "./lifecycle/shadowing.ts";

/**
 * Renders a run's outcome as the runbook's answer, once, at the edge.
 *
 * The answer stays small at any list size: counts, the first `MAX_FAILED_REPOS` failures and a summary of at
 * most `MAX_SUMMARY_BYTES` (the runbook raises it as the failure message). Every timestamp a sleep reads is a
 * real `YYYY-MM-DDThh:mm:ssZ` — `now` when there is nothing to wait for, since aws:sleep proceeds at once for a
 * time in the past (https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-action-sleep.html).
 * Known secret values are scrubbed from every text on the way out.
 */
export function renderAnswer(outcome: RunOutcome, now: Date): HandlerResult {
  const counts = repoCounts(outcome);
  const progress = progressLine(outcome, counts);
  const failed = failedFirst(outcome.repos).filter((r) => r.result === "failed" || r.result === "mismatched");
  return {
    next: outcome.next,
    status: outcome.status,
    summary: summaryText(outcome, counts, progress),
    action: outcome.action,
    dryRun: outcome.dryRun,
    newAccessKeyId: outcome.newAccessKeyId ?? "none",
    oldAccessKeyId: outcome.oldAccessKeyId ?? "none",
    retireAfter: isoSeconds(outcome.retireAfter ?? now),
    resumeAt: isoSeconds(outcome.resumeAt && outcome.resumeAt > now ? outcome.resumeAt : now),
    eta: outcome.eta ? isoSeconds(outcome.eta) : "none",
    progress,
    repoCounts: counts,
    failedRepos: failed
      .slice(0, MAX_FAILED_REPOS)
      .map((r) => ({ ...r, detail: clip(redactSecrets(r.detail), 300) })),
  };
}

const REPO_LOG_PREFIX = "repo-result ";

/**
 * One line per target (repository, environment, organization) for the function's log (the answer carries only counts and failures): the prefix
 * `repo-result ` and a JSON object `{ repo, result, detail }`, which CloudWatch Logs Insights parses.
 */
export function repoLogLines(outcome: RunOutcome): string[] {
  return outcome.repos.map((r) => `${REPO_LOG_PREFIX}${JSON.stringify(r)}`);
}

/** The per-repository results in a function log written by `repoLogLines` (later lines win per repository). */
export function parseRepoLogLines(logs: string): RepoResult[] {
  const byRepo = new Map<string, RepoResult>();
  for (const line of logs.split("\n")) {
    const at = line.indexOf(REPO_LOG_PREFIX);
    if (at === -1) continue;
    try {
      const parsed = JSON.parse(line.slice(at + REPO_LOG_PREFIX.length)) as RepoResult;
      if (typeof parsed.repo === "string" && typeof parsed.result === "string")
        byRepo.set(parsed.repo, parsed);
    } catch {
      // not one of ours
    }
  }
  return [...byRepo.values()];
}

function repoCounts(outcome: RunOutcome): RepoCounts {
  const count = (...kinds: RepoResult["result"][]) =>
    outcome.repos.filter((r) => kinds.includes(r.result)).length;
  return {
    total: outcome.repos.length,
    done: count("written", "already-current"),
    failed: count("failed"),
    mismatched: count("mismatched"),
    remaining: outcome.reposRemaining,
  };
}

/**
 * "120 of 500 repositories done, 380 remaining; resumes at T; estimated done at T2" ("targets" for other lists).
 * Before the key exists (a long list's preflight, over several invocations) no target has a result yet: "7500
 * repositories not checked yet".
 */
function progressLine(outcome: RunOutcome, counts: RepoCounts): string {
  const { noun } = outcome;
  let text: string;
  if (counts.total === 0) {
    if (counts.remaining === 0) return `no ${noun.many}`;
    text = `${counts.remaining} ${counts.remaining === 1 ? noun.one : noun.many} not checked yet`;
  } else {
    const parts = [`${counts.done} of ${counts.total} ${counts.total === 1 ? noun.one : noun.many} done`];
    if (counts.mismatched > 0) parts.push(`${counts.mismatched} mismatched`);
    if (counts.failed > 0) parts.push(`${counts.failed} failed`);
    if (counts.remaining > 0) parts.push(`${counts.remaining} remaining`);
    text = parts.join(", ");
  }
  if (outcome.status === "InProgress" && outcome.resumeAt) {
    text += `; ${outcome.resumeReason ?? "GitHub's write budget is used up"}, resumes at ${isoSeconds(outcome.resumeAt)}`;
  }
  if (outcome.status === "InProgress" && outcome.eta)
    text += `; estimated done at ${isoSeconds(outcome.eta)}`;
  return text;
}

function summaryText(outcome: RunOutcome, counts: RepoCounts, progress: string): string {
  const head = [clipBytes(outcome.headline, 600)];
  // The error may list thousands of problems; the fix (which may hold a URL) is kept whole.
  if (outcome.error)
    head.push(`Error: ${clipBytes(outcome.error.message, 1800)}`, `Fix: ${outcome.error.fix}`);
  if (outcome.newAccessKeyId || outcome.oldAccessKeyId) {
    head.push(
      `New key: ${outcome.newAccessKeyId ?? "(none)"}; old key: ${outcome.oldAccessKeyId ?? "(none)"}.`,
    );
  }
  head.push(...outcome.notes);
  head.push(...shadowLines(outcome));
  // Get-RepoList lists entries; nothing is done or remaining there, so no progress line.
  if (counts.total > 0 && outcome.action !== "list-repos") {
    head.push(`Progress: ${progress}.`);
    const heading = `${outcome.noun.many[0]?.toUpperCase()}${outcome.noun.many.slice(1)}`;
    head.push(
      `${heading} (${counts.done} done, ${counts.mismatched > 0 ? `${counts.mismatched} mismatched, ` : ""}${counts.failed} failed, ${counts.remaining} remaining):`,
    );
  }
  const repoLines = failedFirst(outcome.repos).map(repoLine);
  return fitLines(
    head.map((line) => redactSecrets(line)),
    repoLines.map((line) => redactSecrets(line)),
    outcome.noun,
  );
}

/** Findings named in the summary at most (each clipped); every one is in the function's log (`shadowLogLines`). */
const MAX_SHADOW_LINES = 5;

/**
 * The shadowing check's report: how far it got, and the copies found (the first few; the rest are counted and
 * logged), each with what it hides and the jobs that would keep the old key.
 */
function shadowLines(outcome: RunOutcome): string[] {
  const report = outcome.shadowing;
  if (report === undefined || report.total === 0) return [];
  const { findings, checked, total } = report;
  const repositories = total === 1 ? "repository" : "repositories";
  const looked =
    checked !== total
      ? `${checked} of ${total} ${repositories}`
      : (report.unseen ?? 0) > 0
        ? `the ${total} ${repositories} the credential can see; others were not looked at: see the notes`
        : total === 1
          ? "the 1 repository"
          : `all ${total} ${repositories}`;
  if (findings.length === 0) {
    return [`Copies of the key's secrets that would hide it: none (looked at ${looked}).`];
  }
  const lines = [
    `Copies of the key's secrets that would hide it: ${findings.length} (looked at ${looked}):`,
    ...findings.slice(0, MAX_SHADOW_LINES).map((finding) => `- ${clip(describeFinding(finding), 400)}`),
  ];
  const more = findings.length - MAX_SHADOW_LINES;
  if (more > 0)
    lines.push(`- ... and ${more.toLocaleString("en-US")} more: every one is in the function's log.`);
  return lines;
}

const SHADOW_LOG_PREFIX = "shadow-finding ";

/**
 * One line per copy the shadowing check found, for the function's log: the prefix `shadow-finding ` and the finding
 * as JSON (repository, environment, name, what it hides, the jobs), which CloudWatch Logs Insights parses.
 */
export function shadowLogLines(outcome: RunOutcome): string[] {
  return (outcome.shadowing?.findings ?? []).map(
    (finding) => `${SHADOW_LOG_PREFIX}${JSON.stringify(finding)}`,
  );
}

/** Mismatched targets first, then failed ones, then the rest in list order. */
function failedFirst(repos: readonly RepoResult[]): RepoResult[] {
  const rank = (r: RepoResult) => (r.result === "mismatched" ? 0 : r.result === "failed" ? 1 : 2);
  return [...repos].sort((a, b) => rank(a) - rank(b));
}

function repoLine(r: RepoResult): string {
  return `- ${r.repo}: ${r.result}${r.detail ? ` — ${r.detail}` : ""}`;
}

const encoder = new TextEncoder();
const bytes = (text: string) => encoder.encode(text).length;

/**
 * Joins the head lines and as many lines of targets as fit in MAX_SUMMARY_BYTES; the rest is counted
 * ("... and 9,980 more repositories: see the function's log"). A head that alone is too long is cut.
 */
function fitLines(head: readonly string[], repoLines: readonly string[], noun: TargetNoun): string {
  const reserve = 120;
  let text = clipBytes(head.join("\n"), MAX_SUMMARY_BYTES - reserve);
  let used = bytes(text);
  let shown = 0;
  for (const line of repoLines) {
    const size = bytes(line) + 1;
    if (used + size > MAX_SUMMARY_BYTES - reserve) break;
    text += `\n${line}`;
    used += size;
    shown++;
  }
  const hidden = repoLines.length - shown;
  if (hidden > 0) {
    text += `\n... and ${hidden.toLocaleString("en-US")} more ${hidden === 1 ? noun.one : noun.many}: every one is in the function's log.`;
  }
  return text;
}

/** Cuts `text` to at most `limit` UTF-8 bytes on a character boundary, marking the cut with "..." (plain ASCII: failure messages stay printable ASCII). */
function clipBytes(text: string, limit: number): string {
  if (bytes(text) <= limit) return text;
  let cut = "";
  let size = 0;
  for (const char of text) {
    const charSize = bytes(char);
    if (size + charSize + 3 > limit) break;
    cut += char;
    size += charSize;
  }
  return `${cut}...`;
}

function clip(text: string, chars: number): string {
  return text.length <= chars ? text : `${text.slice(0, chars - 3)}...`;
}
