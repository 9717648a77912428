import * as v from "valibot";
import {
  githubNameSchema,
  jsonTypeOf,
  NAME_PATTERN,
  NAME_RULE,
  OWNER_PATTERN,
  OWNER_RULE,
  quote,
} from "./config/repos-config.ts";

/**
 * The events the runbooks send to the Lambda (their `InputPayload`) and what it answers (`Payload`).
 * Runbook outputs select fields of `HandlerResult` (`$.Payload.status`, `$.Payload.summary`, ...);
 * `test/runbooks` checks every selector against this contract.
 */

const RUNBOOK_PARAMETERS: Readonly<Record<string, string>> = {
  '"owner"': "GITHUBOWNER",
  '"name"': "GITHUBREPO",
};

/**
 * Messages name the runbook parameter a user typed (GITHUBOWNER, DryRun), quote what was sent with every
 * character outside printable ASCII escaped, and never echo more than a short excerpt.
 */
const eventObject = <const TEntries extends v.ObjectEntries>(entries: TEntries) =>
  v.strictObject(entries, (issue) => {
    if (issue.kind === "schema" && issue.expected === "never")
      return `unknown field ${quote(String(issue.input))}`;
    if (issue.kind === "schema" && issue.received === "undefined") {
      const parameter = RUNBOOK_PARAMETERS[String(issue.expected)];
      return `missing required field ${issue.expected}${parameter ? ` (runbook parameter ${parameter})` : ""}`;
    }
    return `the event must be an object, not ${jsonTypeOf(issue.input)}`;
  });

// Automation substitutes Boolean parameters into an InputPayload map; accept both shapes.
const Flag = (parameter: string) =>
  v.pipe(
    v.union(
      [v.boolean(), v.picklist(["true", "false", "True", "False"])],
      (issue) => `${parameter} must be true or false, not ${jsonTypeOf(issue.input)}`,
    ),
    v.transform((value) => value === true || String(value).toLowerCase() === "true"),
  );

const ExecutionId = v.string((issue) => `executionId must be a string, not ${jsonTypeOf(issue.input)}`);

export const RotateEvent = eventObject({
  action: v.literal("rotate"),
  dryRun: v.optional(Flag("DryRun"), false),
  replaceOlderKey: v.optional(Flag("ReplaceOlderKey"), false),
  executionId: v.optional(ExecutionId, "manual"),
});

export const RetireEvent = eventObject({
  action: v.literal("retire"),
  executionId: v.optional(ExecutionId, "manual"),
});

export const ListReposEvent = eventObject({ action: v.literal("list-repos") });

// The runbook parameters GITHUBOWNER and GITHUBREPO become `owner` and `name`.
const Owner = githubNameSchema("GITHUBOWNER", OWNER_PATTERN, OWNER_RULE);
const Name = githubNameSchema("GITHUBREPO", NAME_PATTERN, NAME_RULE);

export const AddRepoEvent = eventObject({ action: v.literal("add-repo"), owner: Owner, name: Name });

export const DeleteRepoEvent = eventObject({ action: v.literal("delete-repo"), owner: Owner, name: Name });

const ACTIONS = ["rotate", "retire", "list-repos", "add-repo", "delete-repo"] as const;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

export const HandlerEvent = v.pipe(
  // Valibot's variant would read a list as an object (and then miss its action).
  v.custom<Record<string, unknown>>(
    isObject,
    (issue) => `the event must be an object, not ${jsonTypeOf(issue.input)}`,
  ),
  v.variant("action", [RotateEvent, RetireEvent, ListReposEvent, AddRepoEvent, DeleteRepoEvent], (issue) => {
    const actions = ACTIONS.map((a) => `"${a}"`).join(", ");
    return `action must be one of ${actions}, not ${issue.input === undefined ? "missing" : jsonTypeOf(issue.input)}`;
  }),
);
export type HandlerEvent = v.InferOutput<typeof HandlerEvent>;

/**
 * - Succeeded: done. Failed: the runbook must end Failed (its summary says why and how to fix it).
 * - InProgress: the step ran out of its time budget, or GitHub's write budget is used up until `resumeAt`;
 *   invoking again (after `resumeAt`) continues where it stopped.
 */
export type RunStatus = "Succeeded" | "Failed" | "InProgress";

export interface RepoResult {
  readonly repo: string;
  /** `mismatched`: the new secret key was written but not the key ID (listed first, with the failed ones). */
  readonly result: "written" | "already-current" | "would-write" | "mismatched" | "failed" | "skipped";
  readonly detail: string;
}

export interface HandlerResult {
  readonly status: RunStatus;
  /** Human-readable, multi-line; access key IDs and repo names only, never a secret. */
  readonly summary: string;
  readonly action: HandlerEvent["action"];
  readonly dryRun: boolean;
  readonly newAccessKeyId: string;
  readonly oldAccessKeyId: string;
  /** ISO time after which the old key may be deactivated; "" when there is none. */
  readonly retireAfter: string;
  readonly reposDone: number;
  readonly reposRemaining: number;
  /**
   * One line for the runbook output: done / failed / remaining repositories and the ETA, e.g.
   * "120 of 500 repositories hold key AKIA…, 380 remaining; estimated done at 2026-…Z". "" without repositories.
   */
  readonly progress: string;
  /**
   * InProgress only: when GitHub's write budget lets the rotation continue (ISO 8601 to the second, for the
   * runbook's aws:sleep). "" means invoke again at once.
   */
  readonly resumeAt: string;
  /** Estimated time every listed repository holds the new key (ISO 8601); "" when done or unknown. */
  readonly eta: string;
  readonly repos: readonly RepoResult[];
}
