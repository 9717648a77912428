import * as v from "valibot";
import type { ListEntry } from "./config/list-entry.ts";
import {
  type EntryField,
  type EntryWords,
  entryIssueMessage,
  LIST_WORDS,
  listEntrySchema,
} from "./config/list-entry-schema.ts";
import { jsonTypeOf, quote } from "./config/message-text.ts";

/**
 * The events the runbooks send to the Lambda (their `InputPayload`) and what it answers (`Payload`).
 * Runbook outputs select fields of `HandlerResult` (`$.Payload.status`, `$.Payload.summary`, ...);
 * `test/runbooks` checks every selector against this contract.
 */

const RUNBOOK_PARAMETERS: Readonly<Record<string, string>> = {
  '"owner"': "GITHUBOWNER",
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

/**
 * The Automation execution ID (`{{ automation:EXECUTION_ID }}`, a UUID such as
 * 4105a4fc-f944-11e6-9d32-0a1b2c3d4e5f), or "manual" for a direct invocation. It names the lock's owner and
 * appears in messages, so nothing else is accepted.
 */
const EXECUTION_ID = /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|manual)$/i;
const ExecutionId = v.pipe(
  v.string((issue) => `executionId must be a string, not ${jsonTypeOf(issue.input)}`),
  v.regex(
    EXECUTION_ID,
    (issue) =>
      `executionId must be an Automation execution ID (a UUID) or "manual", not ${quote(String(issue.input))}`,
  ),
);

export const RotateEvent = eventObject({
  action: v.literal("rotate"),
  dryRun: v.optional(Flag("DryRun"), false),
  replaceOlderKey: v.optional(Flag("ReplaceOlderKey"), false),
  executionId: v.optional(ExecutionId, "manual"),
});

/** After the Rotate loop: what this execution's rotation reached, and what the runbook does next. */
export const RotateResultEvent = eventObject({
  action: v.literal("rotate-result"),
  dryRun: v.optional(Flag("DryRun"), false),
  executionId: v.optional(ExecutionId, "manual"),
});

export const RetireEvent = eventObject({
  action: v.literal("retire"),
  dryRun: v.optional(Flag("DryRun"), false),
  executionId: v.optional(ExecutionId, "manual"),
});

export const ListReposEvent = eventObject({ action: v.literal("list-repos") });

/**
 * Add-RepoConfig's and Delete-RepoConfig's parameters, as their runbooks send them: each runbook parameter (left)
 * becomes an event field (right) and names one field of a repos.json entry. GITHUBOWNER and GITHUBREPO are the
 * original runbooks' parameters, so old executions keep working; the others are optional, and a runbook sends an
 * optional String it was not given as "" (its default), which counts as left out.
 */
const ENTRY_PARAMETERS = {
  owner: { parameter: "GITHUBOWNER", field: "Owner" },
  name: { parameter: "GITHUBREPO", field: "Name" },
  targetType: { parameter: "TargetType", field: "Type" },
  environment: { parameter: "Environment", field: "Environment" },
  secrets: { parameter: "Secrets", field: "Secrets" },
  visibility: { parameter: "Visibility", field: "Visibility" },
  repositories: { parameter: "Repositories", field: "Repositories" },
  topic: { parameter: "Topic", field: "Topic" },
  property: { parameter: "Property", field: "Property" },
  propertyValue: { parameter: "PropertyValue", field: "Value" },
  secretNameKeyId: { parameter: "SecretNameKeyId", field: "SecretNameKeyId" },
  secretNameSecretKey: { parameter: "SecretNameSecretKey", field: "SecretNameSecretKey" },
  keyIdAs: { parameter: "KeyIdAs", field: "KeyIdAs" },
  unmanaged: { parameter: "Unmanaged", field: "Unmanaged" },
} as const satisfies Record<string, { parameter: string; field: EntryField }>;
type EntryEventField = keyof typeof ENTRY_PARAMETERS;

/** Messages about an entry given as runbook parameters name the parameters (GITHUBREPO, not "Name"). */
const RUNBOOK_WORDS: EntryWords = {
  names: {
    ...LIST_WORDS.names,
    ...Object.fromEntries(Object.values(ENTRY_PARAMETERS).map(({ field, parameter }) => [field, parameter])),
  } as EntryWords["names"],
  noun: "parameter",
  quoted: false,
};

const Text = (parameter: string) =>
  v.string((issue) => `${parameter} must be a string, not ${jsonTypeOf(issue.input)}`);

/** An optional String parameter: "" (what a runbook sends for one left empty) counts as left out. */
const OptionalText = (parameter: string) => v.optional(Text(parameter));

/** Repositories: "app-one,app-two" from the runbook (commas, spaces around them ignored), or a list. */
const RepositoryNames = v.optional(
  v.union(
    [v.string(), v.array(v.string())],
    (issue) =>
      `Repositories must be repository names separated by commas, like "app-one,app-two", not ${jsonTypeOf(issue.input)}`,
  ),
);

/** The event fields that carry one entry; which of them a runbook sends depends on the runbook. */
function entryFields<const K extends EntryEventField>(keys: readonly K[]) {
  const all = {
    owner: Text("GITHUBOWNER"),
    name: OptionalText("GITHUBREPO"),
    targetType: OptionalText("TargetType"),
    environment: OptionalText("Environment"),
    secrets: OptionalText("Secrets"),
    visibility: OptionalText("Visibility"),
    repositories: RepositoryNames,
    topic: OptionalText("Topic"),
    property: OptionalText("Property"),
    propertyValue: OptionalText("PropertyValue"),
    secretNameKeyId: OptionalText("SecretNameKeyId"),
    secretNameSecretKey: OptionalText("SecretNameSecretKey"),
    keyIdAs: OptionalText("KeyIdAs"),
    unmanaged: v.optional(Flag("Unmanaged")),
  };
  return Object.fromEntries(keys.map((key) => [key, all[key]])) as Pick<typeof all, K>;
}

/** Add-RepoConfig's or Delete-RepoConfig's event once its parameters are checked: the entry they describe. */
export interface EntryEvent<A extends "add-repo" | "delete-repo"> {
  readonly action: A;
  readonly entry: ListEntry;
}

const ENTRY_SCHEMAS = {
  "add-repo": listEntrySchema({ words: RUNBOOK_WORDS, mode: "entry" }),
  "delete-repo": listEntrySchema({ words: RUNBOOK_WORDS, mode: "reference" }),
};

/**
 * Checks the entry an Add-RepoConfig or Delete-RepoConfig event describes with the list's own schema (the same
 * rules as repos.json; messages name the runbook parameters) and turns the event into `{ action, entry }`.
 */
function toEntryEvent(
  event: Record<string, unknown> & { action: "add-repo" | "delete-repo" },
  addIssue: (info: { message: string; path?: [v.IssuePathItem] }) => void,
): EntryEvent<"add-repo" | "delete-repo"> | undefined {
  const raw: Record<string, unknown> = {};
  for (const [key, { field }] of Object.entries(ENTRY_PARAMETERS)) {
    const value = key === "repositories" ? splitNames(event[key]) : event[key];
    if (value === undefined || value === "" || (key === "unmanaged" && value === false)) continue;
    raw[RUNBOOK_WORDS.names[field]] = value;
  }
  const parsed = v.safeParse(ENTRY_SCHEMAS[event.action], raw, { abortEarly: false });
  if (parsed.success) return { action: event.action, entry: parsed.output };
  for (const issue of parsed.issues) {
    const parameter = String(issue.path?.[0]?.key ?? "");
    const key = (Object.keys(ENTRY_PARAMETERS) as EntryEventField[]).find(
      (k) => ENTRY_PARAMETERS[k].parameter === parameter,
    );
    const message = entryIssueMessage(issue, RUNBOOK_WORDS);
    if (key === undefined) addIssue({ message });
    else {
      const item = { type: "object", origin: "value", input: event, key, value: event[key] };
      addIssue({ message, path: [item as v.IssuePathItem] });
    }
  }
  return undefined;
}

function splitNames(value: unknown): unknown {
  if (typeof value === "string") {
    const names = value
      .split(",")
      .map((name) => name.trim())
      .filter((name) => name !== "");
    return names.length === 0 ? undefined : names;
  }
  return Array.isArray(value) && value.length === 0 ? undefined : value;
}

/** Add-RepoConfig: every field of an entry. */
export const AddRepoEvent = eventObject({
  action: v.literal("add-repo"),
  ...entryFields(Object.keys(ENTRY_PARAMETERS) as EntryEventField[]),
});

/** Delete-RepoConfig: only what names an entry (its owner, repository, environment, store, topic or property). */
export const DeleteRepoEvent = eventObject({
  action: v.literal("delete-repo"),
  ...entryFields([
    "owner",
    "name",
    "targetType",
    "environment",
    "secrets",
    "topic",
    "property",
    "propertyValue",
  ] as const),
});

/**
 * A change of the repository list, as S3 sends it to EventBridge and the stack's rule (templates/60-list-changes.yaml)
 * passes it on unchanged. Only the fields the function reads are checked; S3 may add others.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html
 */
export const ListChangedEvent = v.looseObject({
  source: v.literal("aws.s3"),
  "detail-type": v.picklist(["Object Created", "Object Deleted"]),
  time: v.optional(v.string()),
  detail: v.looseObject({
    bucket: v.looseObject({ name: v.string() }),
    object: v.looseObject({ key: v.string(), "version-id": v.optional(v.string()) }),
    reason: v.optional(v.string()),
    requester: v.optional(v.string()),
    "source-ip-address": v.optional(v.string()),
  }),
});
export type ListChangedEvent = v.InferOutput<typeof ListChangedEvent>;

/** An event from S3 (by way of EventBridge) rather than from a runbook. */
export function isS3Event(event: unknown): boolean {
  return typeof event === "object" && event !== null && (event as { source?: unknown }).source === "aws.s3";
}

export const ACTIONS = [
  "rotate",
  "rotate-result",
  "retire",
  "list-repos",
  "add-repo",
  "delete-repo",
  "list-changed",
] as const;
export type Action = (typeof ACTIONS)[number];

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const Events = v.variant(
  "action",
  [RotateEvent, RotateResultEvent, RetireEvent, ListReposEvent, AddRepoEvent, DeleteRepoEvent],
  (issue) => {
    const actions = ACTIONS.filter((a) => a !== "list-changed")
      .map((a) => `"${a}"`)
      .join(", ");
    return `action must be one of ${actions}, not ${issue.input === undefined ? "missing" : jsonTypeOf(issue.input)}`;
  },
);
type ParsedEvent = v.InferOutput<typeof Events>;

/** A runbook's event, checked: Add-RepoConfig's and Delete-RepoConfig's carry the entry their parameters describe. */
export type HandlerEvent =
  | Exclude<ParsedEvent, { action: "add-repo" | "delete-repo" }>
  | EntryEvent<"add-repo">
  | EntryEvent<"delete-repo">;

export const HandlerEvent = v.pipe(
  // Valibot's variant would read a list as an object (and then miss its action).
  v.custom<Record<string, unknown>>(
    isObject,
    (issue) => `the event must be an object, not ${jsonTypeOf(issue.input)}`,
  ),
  Events,
  v.rawTransform<ParsedEvent, HandlerEvent>(({ dataset, addIssue, NEVER }) => {
    const event = dataset.value;
    if (event.action !== "add-repo" && event.action !== "delete-repo") return event;
    return (toEntryEvent(event, addIssue) as HandlerEvent | undefined) ?? NEVER;
  }),
);

/**
 * - Succeeded: done. Failed: the runbook must end Failed (its summary says why and how to fix it).
 * - InProgress: the step ran out of its time budget, or GitHub's write budget or primary rate limit is used up
 *   until `resumeAt`; invoking again (after `resumeAt`) continues where it stopped.
 */
export type RunStatus = "Succeeded" | "Failed" | "InProgress";

/**
 * What the runbook does next; never empty, so a branch or loop condition never reads "" (the Automation
 * docs leave the value of an empty or unmatched output undefined: see shared/reference/platform-facts.md).
 * - rotate: `again` (invoke again once `resumeAt` has passed) | `done` | `failed`
 * - rotate-result: `retire` (sleep until `retireAfter`, then Retire) | `continues` (the rotation is unfinished
 *   after the loop's last iteration; the next execution resumes it) | `done` | `failed`
 * - retire, list-repos, add-repo, delete-repo, list-changed: `done` | `failed`
 */
export type Next = "again" | "retire" | "continues" | "done" | "failed";

/** Per-repository results (the outcome's; the answer carries only counts and the first failures). */
export type RepoResultKind =
  | "written"
  | "already-current"
  | "would-write"
  | "failed"
  | "mismatched"
  | "skipped"
  | "listed";

export interface RepoResult {
  readonly repo: string;
  readonly result: RepoResultKind;
  readonly detail: string;
}

export interface RepoCounts {
  readonly total: number;
  /** Hold the key (written now or before). */
  readonly done: number;
  readonly failed: number;
  /** Hold a new secret beside an old key ID (a write failed between the two): named first. */
  readonly mismatched: number;
  readonly remaining: number;
}

/** `YYYY-MM-DDThh:mm:ssZ`, the aws:sleep Timestamp form; a past time means "no wait". */
export type SleepTimestamp = string;

/** At most this many failed repositories are named in the answer; the log has every one. */
export const MAX_FAILED_REPOS = 20;
/** The summary's limit in UTF-8 bytes (the runbook's failure message). */
export const MAX_SUMMARY_BYTES = 4000;

/**
 * The function's answer (the step's `Payload`). Small at any list size (< 32 KB at 10,000 repositories;
 * the Payload output is capped at 200 KB): counts and the first failures, never per-repository lists.
 */
export interface HandlerResult {
  readonly next: Next;
  readonly status: RunStatus;
  /** Human-readable, multi-line, at most MAX_SUMMARY_BYTES; access key IDs and repo names only, never a secret. */
  readonly summary: string;
  readonly action: Action;
  readonly dryRun: boolean;
  /** An access key ID, or "none". */
  readonly newAccessKeyId: string;
  /** An access key ID, or "none". */
  readonly oldAccessKeyId: string;
  /** When the old key may be deactivated; the answer's own time when there is nothing to wait for. */
  readonly retireAfter: SleepTimestamp;
  /** When the next invocation may continue (GitHub's write budget or primary rate limit); the answer's own time for "at once". */
  readonly resumeAt: SleepTimestamp;
  /** Estimated time every listed repository holds the new key, or "none". */
  readonly eta: string;
  /** One line: done / failed / remaining repositories ("N repositories not checked yet" before the key exists, "no repositories" without any). */
  readonly progress: string;
  readonly repoCounts: RepoCounts;
  /** The first MAX_FAILED_REPOS failed repositories, mismatched ones first. */
  readonly failedRepos: readonly RepoResult[];
}
