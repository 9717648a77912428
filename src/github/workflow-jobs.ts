import { load } from "js-yaml";
import {
  holdsExpression,
  type JobEnvironment,
  MAX_WORKFLOW_TEXT,
  type WorkflowCall,
  type WorkflowFile,
  type WorkflowJob,
  type WorkflowRef,
  workflowText,
} from "../domain/workflow.ts";

/**
 * Reads a workflow file's jobs: each job's environment and the reusable workflow it calls. Never throws: a file
 * that is not YAML or has no `jobs` map comes back with `problem` set and no jobs. Parsed with js-yaml's default,
 * YAML 1.2's core schema, so the key `on` stays a string (YAML 1.1 would read it as `true`). js-yaml rather than
 * the larger `yaml` package: the function's code is inlined in the template, which CloudFormation caps at 1 MB.
 * `jobs.<job_id>.environment` is a name or `{ name, url }`; either may be an expression:
 * https://docs.github.com/en/actions/writing-workflows/workflow-syntax-for-github-actions#jobsjob_idenvironment
 * `jobs.<job_id>.uses` is `./.github/workflows/x.yml` or `owner/repo/.github/workflows/x.yml@ref`, with `with`:
 * https://docs.github.com/en/actions/writing-workflows/workflow-syntax-for-github-actions#jobsjob_iduses
 *
 * The file is whatever someone pushed, so reading it costs time and memory in proportion to its size (GitHub's
 * contents API sends at most 1 MB): YAML aliases are kept as shared references and never expanded (a structure
 * where a name should be is only described as "a list" or "a map"), nothing is spread into a call's arguments,
 * and job IDs and expressions are kept as `workflowText`: control characters escaped, at most MAX_WORKFLOW_TEXT
 * characters.
 */
export function parseWorkflow(path: string, text: string): WorkflowFile {
  let document: unknown;
  try {
    document = load(text);
  } catch (error) {
    return unreadable(path, `it is not valid YAML (${firstLine((error as Error).message)})`);
  }
  if (!isMap(document) || !isMap(document.jobs)) return unreadable(path, "it has no jobs map");
  const jobs: WorkflowJob[] = [];
  for (const [key, job] of Object.entries(document.jobs)) {
    if (!isMap(job)) continue;
    const id = workflowText(key);
    const uses = job.uses;
    if (typeof uses === "string") {
      const workflow = parseWorkflowRef(uses);
      jobs.push(
        workflow === undefined
          ? { id, environment: { kind: "expression", expression: workflowText(uses) } }
          : { id, environment: { kind: "none" }, calls: call(workflow, job.with) },
      );
      continue;
    }
    jobs.push({ id, environment: jobEnvironment(job) });
  }
  return { path, jobs, triggers: triggers(document.on), inputDefaults: inputDefaults(document.on) };
}

/** `./.github/workflows/x.yml` or `owner/repo/path@ref`; undefined for anything else. */
export function parseWorkflowRef(uses: string): WorkflowRef | undefined {
  if (holdsExpression(uses)) return undefined;
  if (uses.startsWith("./")) return { repo: undefined, path: uses.slice(2), ref: undefined };
  const match = /^([^/@\s]+)\/([^/@\s]+)\/([^@\s]+)@(\S+)$/.exec(uses);
  if (!match) return undefined;
  const [, owner, name, path, ref] = match as unknown as [string, string, string, string, string];
  return { repo: { owner, name }, path, ref };
}

const MATRIX_VALUE = /^\$\{\{\s*matrix\.([A-Za-z_][\w-]*)\s*\}\}$/;
const INPUT_VALUE = /^\$\{\{\s*inputs\.([A-Za-z_][\w-]*)\s*\}\}$/;

function jobEnvironment(job: Record<string, unknown>): JobEnvironment {
  const raw = job.environment;
  if (raw === undefined || raw === null) return { kind: "none" };
  const name = isMap(raw) ? raw.name : raw;
  if (name === undefined || name === null) return { kind: "none" };
  // Described, not serialized: a list built of YAML aliases may stand for billions of strings.
  if (!isScalar(name)) return { kind: "expression", expression: Array.isArray(name) ? "a list" : "a map" };
  const value = String(name);
  if (!holdsExpression(value)) return { kind: "named", names: [value] };
  const input = INPUT_VALUE.exec(value)?.[1];
  if (input !== undefined) return { kind: "input", input };
  const key = MATRIX_VALUE.exec(value)?.[1];
  const names = key === undefined ? undefined : matrixValues(job.strategy, key);
  return names === undefined
    ? { kind: "expression", expression: workflowText(value) }
    : { kind: "named", names };
}

/**
 * The plain values `matrix.<key>` takes: the key's list plus what `include` entries set it to. Undefined when
 * any of them is computed (or the matrix itself is an expression), so the job counts as "may use".
 * https://docs.github.com/en/actions/writing-workflows/workflow-syntax-for-github-actions#jobsjob_idstrategymatrix
 */
function matrixValues(strategy: unknown, key: string): string[] | undefined {
  if (!isMap(strategy) || !isMap(strategy.matrix)) return undefined;
  const matrix = strategy.matrix;
  const values: unknown[] = [];
  const listed = matrix[key];
  if (listed !== undefined) {
    if (!Array.isArray(listed)) return undefined;
    // One by one: spreading a list of some 100,000 values into push() overflows the call stack.
    for (const value of listed) values.push(value);
  }
  const include = matrix.include;
  if (include !== undefined) {
    if (!Array.isArray(include)) return undefined;
    for (const entry of include) {
      if (!isMap(entry)) return undefined;
      if (entry[key] !== undefined) values.push(entry[key]);
    }
  }
  if (values.length === 0) return undefined;
  const names = new Set<string>();
  for (const value of values) {
    if (!isScalar(value) || holdsExpression(String(value))) return undefined;
    names.add(String(value));
  }
  return [...names];
}

function call(workflow: WorkflowRef, raw: unknown): WorkflowCall {
  const values: Record<string, string> = {};
  if (isMap(raw)) {
    for (const [name, value] of Object.entries(raw)) {
      if (isScalar(value)) values[name] = String(value);
    }
  }
  return { workflow, with: values };
}

/** The event names of `on`: a name, a list of names, or a map keyed by them. */
function triggers(on: unknown): string[] {
  if (typeof on === "string") return [on];
  if (Array.isArray(on)) return on.filter((event): event is string => typeof event === "string");
  return isMap(on) ? Object.keys(on) : [];
}

/** `on.workflow_call.inputs.<name>.default` where it is plain text. */
function inputDefaults(on: unknown): Record<string, string> {
  const defaults: Record<string, string> = {};
  if (!isMap(on) || !isMap(on.workflow_call) || !isMap(on.workflow_call.inputs)) return defaults;
  for (const [name, input] of Object.entries(on.workflow_call.inputs)) {
    if (isMap(input) && isScalar(input.default) && !holdsExpression(String(input.default))) {
      defaults[name] = String(input.default);
    }
  }
  return defaults;
}

function unreadable(path: string, problem: string): WorkflowFile {
  return {
    path,
    jobs: [],
    triggers: [],
    inputDefaults: {},
    problem: workflowText(problem, 2 * MAX_WORKFLOW_TEXT),
  };
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isScalar(value: unknown): value is string | number | boolean {
  return typeof value === "string" || typeof value === "number" || typeof value === "boolean";
}

function firstLine(text: string): string {
  return text.split("\n", 1)[0] ?? text;
}
