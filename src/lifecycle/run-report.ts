import { redactSecrets } from "../domain/secret-value.ts";
import type { AkmError } from "../errors.ts";
import type { HandlerEvent, HandlerResult, RepoResult, RunStatus } from "../handler-contract.ts";

/**
 * Collects what a run did, then renders the runbook-facing result. Only access key IDs, repository
 * names and timestamps go in; the rendered text is scrubbed of known secrets once more on the way out.
 */
export class RunReport {
  readonly #action: HandlerEvent["action"];
  readonly #dryRun: boolean;
  readonly #lines: string[] = [];
  readonly #repos: RepoResult[] = [];
  newAccessKeyId = "";
  oldAccessKeyId = "";
  retireAfter = "";
  reposRemaining = 0;
  /** InProgress because of GitHub's write budget: when to continue. */
  resumeAt: Date | undefined;
  /** When every repository should hold the new key, if the rotation continues without hold-ups. */
  eta: Date | undefined;
  /** The GitHub limit that holds writes back until `resumeAt`, for messages. */
  budgetWindow: { readonly limit: number; readonly label: string } | undefined;

  constructor(action: HandlerEvent["action"], dryRun: boolean) {
    this.#action = action;
    this.#dryRun = dryRun;
  }

  note(line: string): void {
    this.#lines.push(line);
  }

  repo(result: RepoResult): void {
    const index = this.#repos.findIndex((r) => r.repo === result.repo);
    if (index >= 0) this.#repos[index] = result;
    else this.#repos.push(result);
  }

  /** Repositories not updated, the mismatched ones (new secret key, old key ID) first. */
  get failedRepos(): readonly RepoResult[] {
    return [
      ...this.#repos.filter((r) => r.result === "mismatched"),
      ...this.#repos.filter((r) => r.result === "failed"),
    ];
  }

  /** Renders the result; `headline` is the first line of the summary. */
  finish(status: RunStatus, headline: string, error?: AkmError): HandlerResult {
    const done = this.#repos.filter((r) => r.result === "written" || r.result === "already-current").length;
    const lines = [headline];
    if (error) {
      lines.push(`Error: ${error.message}`, `Fix: ${error.fix}`);
    }
    if (this.newAccessKeyId || this.oldAccessKeyId) {
      lines.push(`New key: ${this.newAccessKeyId || "(none)"}; old key: ${this.oldAccessKeyId || "(none)"}.`);
    }
    lines.push(...this.#lines);
    const progress = this.#progress(status, done);
    if (progress) lines.push(`Progress: ${progress}.`);
    if (this.#repos.length > 0) {
      lines.push(
        `Repositories (${done} done, ${this.failedRepos.length} failed, ${this.reposRemaining} remaining):`,
      );
      const failed = this.failedRepos;
      for (const r of [...failed, ...this.#repos.filter((r) => !failed.includes(r))]) {
        lines.push(`- ${r.repo}: ${r.result}${r.detail ? ` — ${r.detail}` : ""}`);
      }
    }
    return {
      status,
      summary: redactSecrets(lines.join("\n")),
      action: this.#action,
      dryRun: this.#dryRun,
      newAccessKeyId: this.newAccessKeyId,
      oldAccessKeyId: this.oldAccessKeyId,
      retireAfter: this.retireAfter,
      reposDone: done,
      reposRemaining: this.reposRemaining,
      progress,
      resumeAt: status === "InProgress" && this.resumeAt ? isoSeconds(this.resumeAt) : "",
      eta: status === "InProgress" && this.eta ? isoSeconds(this.eta) : "",
      repos: [...this.failedRepos, ...this.#repos.filter((r) => !this.failedRepos.includes(r))].map((r) => ({
        ...r,
        detail: redactSecrets(r.detail),
      })),
    };
  }

  /** "120 of 500 repositories done, 380 remaining; resumes at T; estimated done at T2" ("" without repos). */
  #progress(status: RunStatus, done: number): string {
    const total = this.#repos.length;
    if (total === 0) return "";
    const failed = this.failedRepos.length;
    const parts = [`${done} of ${total} repositor${total === 1 ? "y" : "ies"} done`];
    if (failed > 0) parts.push(`${failed} failed`);
    if (this.reposRemaining > 0) parts.push(`${this.reposRemaining} remaining`);
    let text = parts.join(", ");
    if (status === "InProgress" && this.resumeAt) {
      text += `; GitHub's write budget is used up, resumes at ${isoSeconds(this.resumeAt)}`;
    }
    if (status === "InProgress" && this.eta) text += `; estimated done at ${isoSeconds(this.eta)}`;
    return text;
  }
}

/** ISO 8601 rounded up to the second (`2026-01-01T00:00:01Z`), the form aws:sleep documents for Timestamp. */
export function isoSeconds(at: Date): string {
  return `${new Date(Math.ceil(at.getTime() / 1000) * 1000).toISOString().slice(0, 19)}Z`;
}
