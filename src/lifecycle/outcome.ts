import { REPOSITORY_NOUN, type TargetNoun } from "../domain/name-targets.ts";
import type { AkmError } from "../errors.ts";
import type { Action, Next, RepoResult, RunStatus } from "../handler-contract.ts";
import type { ShadowFinding } from "./shadowing.ts";

/** The GitHub limit that held writes back, for messages ("500 writes an hour"). */
export interface BudgetWindow {
  readonly limit: number;
  readonly label: string;
}

/**
 * What one invocation did, as typed data: the lifecycle returns it, and the handler renders the runbook's
 * answer from it once, at the edge (src/render-answer.ts). Only access key IDs, repository names and
 * timestamps go in, never a secret.
 */
export interface RunOutcome {
  readonly action: Action;
  readonly dryRun: boolean;
  readonly status: RunStatus;
  /** What the runbook does next (see `Next`); derived from `status` unless the action chose it. */
  readonly next: Next;
  /** The summary's first line. */
  readonly headline: string;
  readonly error: AkmError | undefined;
  /** What happened, in order ("Created key AKIA…"). */
  readonly notes: readonly string[];
  readonly newAccessKeyId: string | undefined;
  readonly oldAccessKeyId: string | undefined;
  /** When the old key may be deactivated (a grace period is running or ended). */
  readonly retireAfter: Date | undefined;
  /** InProgress because of GitHub's write budget or its primary rate limit: when to continue. */
  readonly resumeAt: Date | undefined;
  /** What holds the run until `resumeAt`, for the progress line ("GitHub's write budget is used up"). */
  readonly resumeReason: string | undefined;
  /** When every repository should hold the new key, if the rotation continues without hold-ups. */
  readonly eta: Date | undefined;
  /** The GitHub limit that holds writes back until `resumeAt`. */
  readonly budgetWindow: BudgetWindow | undefined;
  /** One entry per target (repository, environment, organization) this invocation looked at, in list order. */
  readonly repos: readonly RepoResult[];
  /** How the summary names what `repos` lists: "repository" for a list of repositories only, else "target". */
  readonly noun: TargetNoun;
  readonly reposRemaining: number;
  /**
   * The shadowing check (src/lifecycle/shadowing.ts) when this run made one: every copy of the key's names found
   * so far that would hide it, and how many repositories the round has checked of how many.
   */
  readonly shadowing: ShadowReport | undefined;
  /**
   * Messages for the stack's alert topic (SNS), sent by the handler after the run: security events such as a
   * refused repository, a changed list or an expiring token. Names and IDs only, never a secret.
   */
  readonly alerts: readonly string[];
}

/** What the shadowing check found (see RunOutcome.shadowing). */
export interface ShadowReport {
  readonly findings: readonly ShadowFinding[];
  readonly checked: number;
  readonly total: number;
  /** Organization targets whose secret reaches repositories the check may not have seen (each has a note). */
  readonly unseen?: number;
}

/**
 * Collects a run's outcome while the lifecycle works (the one place its fields are set), then freezes it.
 * One recorder per invocation travels in the run context.
 */
export class OutcomeRecorder {
  readonly #action: Action;
  readonly #dryRun: boolean;
  readonly #notes: string[] = [];
  readonly #repos = new Map<string, RepoResult>();
  readonly #alerts: string[] = [];
  newAccessKeyId: string | undefined;
  oldAccessKeyId: string | undefined;
  retireAfter: Date | undefined;
  resumeAt: Date | undefined;
  resumeReason: string | undefined;
  eta: Date | undefined;
  budgetWindow: BudgetWindow | undefined;
  reposRemaining = 0;
  /** Set by actions that choose beyond the status (rotate-result: retire / continues). */
  next: Next | undefined;
  /** Set once the list is read (src/domain/name-targets.ts `targetNoun`). */
  noun: TargetNoun = REPOSITORY_NOUN;
  /** Set by the shadowing check. */
  shadowing: ShadowReport | undefined;

  constructor(action: Action, dryRun: boolean) {
    this.#action = action;
    this.#dryRun = dryRun;
  }

  note(line: string): void {
    this.#notes.push(line);
  }

  /** Asks for a message to the stack's alert topic (the handler sends it once the run is over). */
  alert(message: string): void {
    this.#alerts.push(message);
  }

  /** Records (or replaces) the result for one repository. */
  repo(result: RepoResult): void {
    this.#repos.set(result.repo, result);
  }

  get failedRepos(): readonly RepoResult[] {
    return [...this.#repos.values()].filter((r) => r.result === "failed" || r.result === "mismatched");
  }

  /** Freezes the outcome; `headline` is the summary's first line. */
  finish(status: RunStatus, headline: string, error?: AkmError): RunOutcome {
    const derived: Next = status === "Failed" ? "failed" : status === "InProgress" ? "again" : "done";
    return {
      action: this.#action,
      dryRun: this.#dryRun,
      status,
      next: status === "Succeeded" && this.next ? this.next : derived,
      headline,
      error,
      notes: [...this.#notes],
      newAccessKeyId: this.newAccessKeyId || undefined,
      oldAccessKeyId: this.oldAccessKeyId || undefined,
      retireAfter: this.retireAfter,
      resumeAt: status === "InProgress" ? this.resumeAt : undefined,
      resumeReason: status === "InProgress" && this.resumeAt ? this.resumeReason : undefined,
      eta: status === "InProgress" ? this.eta : undefined,
      budgetWindow: this.budgetWindow,
      repos: [...this.#repos.values()],
      noun: this.noun,
      reposRemaining: this.reposRemaining,
      shadowing: this.shadowing,
      alerts: [...this.#alerts],
    };
  }
}

/** ISO 8601 rounded up to the second (`2026-01-01T00:00:01Z`), the form aws:sleep documents for Timestamp. */
export function isoSeconds(at: Date): string {
  return `${new Date(Math.ceil(at.getTime() / 1000) * 1000).toISOString().slice(0, 19)}Z`;
}
