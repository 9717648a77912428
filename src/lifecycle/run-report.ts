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

  get failedRepos(): readonly RepoResult[] {
    return this.#repos.filter((r) => r.result === "failed");
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
    if (this.#repos.length > 0) {
      lines.push(
        `Repositories (${done} done, ${this.failedRepos.length} failed, ${this.reposRemaining} remaining):`,
      );
      for (const r of this.#repos) lines.push(`- ${r.repo}: ${r.result}${r.detail ? ` — ${r.detail}` : ""}`);
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
      repos: this.#repos.map((r) => ({ ...r, detail: redactSecrets(r.detail) })),
    };
  }
}
