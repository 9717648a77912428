import type { RepoRef } from "./repo.ts";

/**
 * What the shadowing check needs to know about a repository's GitHub Actions workflows: which jobs run in which
 * environment (an environment's secrets hide the repository's and the organization's of the same name), and which
 * jobs call reusable workflows (whose own jobs run in the caller's repository and may name an environment).
 * Workflow syntax: https://docs.github.com/en/actions/writing-workflows/workflow-syntax-for-github-actions#jobsjob_idenvironment
 * Reusable workflows: https://docs.github.com/en/actions/sharing-automations/reusing-workflows
 */
export interface WorkflowFile {
  /** Where it was read from: `.github/workflows/deploy.yml`. */
  readonly path: string;
  readonly jobs: readonly WorkflowJob[];
  /** The events that start it (`on`): a workflow started only by `workflow_call` runs only through its callers. */
  readonly triggers: readonly string[];
  /**
   * `on.workflow_call.inputs.<name>.default` of a reusable workflow, where it is plain text: what a called job's
   * `${{ inputs.<name> }}` is when the caller does not pass it.
   */
  readonly inputDefaults: Readonly<Record<string, string>>;
  /** Why the file's jobs could not be read (not YAML, no `jobs` map): its jobs are unknown. */
  readonly problem?: string;
}

/** One job of a workflow file (`jobs.<job_id>`). */
export interface WorkflowJob {
  /** The job's key in `jobs`. */
  readonly id: string;
  readonly environment: JobEnvironment;
  /** A job that calls a reusable workflow (`jobs.<job_id>.uses`): it has no environment of its own. */
  readonly calls?: WorkflowCall;
}

/**
 * The environment a job runs in, as far as the file tells:
 * - `none`: no `environment` key;
 * - `named`: plain names (several when the name comes from a matrix of plain names);
 * - `input`: exactly `${{ inputs.<input> }}`, in a reusable workflow: the caller's `with` (or the input's default)
 *   decides;
 * - `expression`: anything else computed at run time: the job may use any environment.
 */
export type JobEnvironment =
  | { readonly kind: "none" }
  | { readonly kind: "named"; readonly names: readonly string[] }
  | { readonly kind: "input"; readonly input: string }
  | { readonly kind: "expression"; readonly expression: string };

/** A job's `uses: <workflow>` with the plain-text values it passes in `with`. */
export interface WorkflowCall {
  readonly workflow: WorkflowRef;
  /** `with.<name>` values; a value holding an expression is kept as written (it contains `${{`). */
  readonly with: Readonly<Record<string, string>>;
}

/**
 * A reusable workflow a job calls: `./.github/workflows/x.yml` (the caller's own repository, same commit: `repo`
 * undefined) or `owner/repo/.github/workflows/x.yml@ref`.
 */
export interface WorkflowRef {
  readonly repo: RepoRef | undefined;
  readonly path: string;
  /** The git ref after `@` (another repository's workflow only). */
  readonly ref: string | undefined;
}

/** How messages name a reusable workflow: `./.github/workflows/x.yml` or `owner/repo/.github/workflows/x.yml@v1`. */
export function workflowRefLabel(ref: WorkflowRef): string {
  return ref.repo === undefined
    ? `./${ref.path}`
    : `${ref.repo.owner}/${ref.repo.name}/${ref.path}@${ref.ref}`;
}

/** GitHub Actions expressions are written `${{ ... }}`; a value holding one is only known at run time. */
export function holdsExpression(value: string): boolean {
  return value.includes("${{");
}

/** A reusable workflow that nothing but a caller starts (`on: workflow_call` alone). */
export function onlyCalled(file: WorkflowFile): boolean {
  return file.triggers.length === 1 && file.triggers[0] === "workflow_call";
}

/**
 * The most characters of a workflow file's own text (a job ID, an expression) that the check keeps and shows. A
 * repository's workflow files are written by whoever may push to it, so their text is cut short here, before it
 * reaches a summary or the progress object (whose stored texts are at most 1,000 characters).
 */
export const MAX_WORKFLOW_TEXT = 200;

/** Control, format (invisible, bidirectional) and line or paragraph separator characters. */
const HIDDEN_CHARACTERS = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;

/**
 * Text from a workflow file as messages show it: each control or invisible character escaped (`\u000a`, `\u202e`),
 * so that a job ID cannot start a new line of a summary or reverse the text around it, and at most `max`
 * characters, the cut marked with "...".
 */
export function workflowText(text: string, max = MAX_WORKFLOW_TEXT): string {
  const visible = text.replace(
    HIDDEN_CHARACTERS,
    (c) => `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, "0")}`,
  );
  return clipText(visible, max);
}

/** `text` cut to at most `max` UTF-16 code units (as `String.length` counts), never inside a surrogate pair. */
export function clipText(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 3;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}...`;
}
