import * as v from "valibot";
import { NameSchema, OwnerSchema } from "./config/repos-config.ts";

/**
 * The events the runbooks send to the Lambda (their `InputPayload`) and what it answers (`Payload`).
 * Runbook outputs select fields of `HandlerResult` (`$.Payload.status`, `$.Payload.summary`, ...);
 * `test/runbooks` checks every selector against this contract.
 */

// Automation substitutes Boolean parameters into an InputPayload map; accept both shapes.
const Flag = v.pipe(
  v.union([v.boolean(), v.picklist(["true", "false", "True", "False"])]),
  v.transform((value) => value === true || String(value).toLowerCase() === "true"),
);

export const RotateEvent = v.strictObject({
  action: v.literal("rotate"),
  dryRun: v.optional(Flag, false),
  replaceOlderKey: v.optional(Flag, false),
  executionId: v.optional(v.string(), "manual"),
});

export const RetireEvent = v.strictObject({
  action: v.literal("retire"),
  executionId: v.optional(v.string(), "manual"),
});

export const ListReposEvent = v.strictObject({ action: v.literal("list-repos") });

export const AddRepoEvent = v.strictObject({
  action: v.literal("add-repo"),
  owner: OwnerSchema,
  name: NameSchema,
});

export const DeleteRepoEvent = v.strictObject({
  action: v.literal("delete-repo"),
  owner: OwnerSchema,
  name: NameSchema,
});

export const HandlerEvent = v.variant("action", [
  RotateEvent,
  RetireEvent,
  ListReposEvent,
  AddRepoEvent,
  DeleteRepoEvent,
]);
export type HandlerEvent = v.InferOutput<typeof HandlerEvent>;

/**
 * - Succeeded: done. Failed: the runbook must end Failed (its summary says why and how to fix it).
 * - InProgress: the step ran out of its time budget; invoking again continues where it stopped.
 */
export type RunStatus = "Succeeded" | "Failed" | "InProgress";

export interface RepoResult {
  readonly repo: string;
  readonly result: "written" | "already-current" | "would-write" | "failed" | "skipped";
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
  readonly repos: readonly RepoResult[];
}
