import { type RepoRef, repoSlug } from "../domain/repo.ts";
import {
  holdsExpression,
  onlyCalled,
  type WorkflowFile,
  type WorkflowJob,
  workflowRefLabel,
  workflowText,
} from "../domain/workflow.ts";
import type { SecretInventory } from "../ports.ts";

/**
 * A job that runs in a repository, with the environment it runs in as far as the workflow files tell. Jobs of
 * reusable workflows are listed under the job that calls them: they run in the caller's repository, and a called
 * job's `environment` is the caller repository's environment (environment secrets are never passed by the caller,
 * the called job reads them itself). https://docs.github.com/en/actions/sharing-automations/reusing-workflows
 */
export interface RepositoryJob {
  /** `.github/workflows/deploy.yml: release`, or with a call: `…ci.yml: deploy → ./.github/workflows/d.yml: prod`. */
  readonly label: string;
  readonly environment:
    | { readonly kind: "none" }
    | { readonly kind: "named"; readonly names: readonly string[] }
    /** Computed at run time, or in a workflow that could not be read: it may use any environment. */
    | { readonly kind: "unknown"; readonly reason: string };
}

/** Reusable workflows read from other repositories, shared by every repository of one check (by label). */
export type CalledWorkflowCache = Map<string, Promise<WorkflowFile | undefined>>;

/**
 * GitHub runs at most ten levels of workflows (the caller included); deeper nesting or a loop is cut here.
 * https://docs.github.com/en/actions/sharing-automations/reusing-workflows#nesting-reusable-workflows
 */
const MAX_DEPTH = 10;

/**
 * The most characters of a job's label and reason: a chain of reusable workflows is long, and its parts (file
 * names, refs, job IDs) are whatever was pushed. Summaries show each finding in 400 characters anyway.
 */
const MAX_LABEL = 500;

/**
 * The most reusable workflows of other repositories one repository's check reads (each is a request; a workflow
 * file of thousands of jobs calling as many workflows would spend GitHub's hourly rate limit and the step's time).
 * The jobs that call more are counted as ones that may use any environment.
 */
export const MAX_CALLED_WORKFLOW_READS = 100;

interface Context {
  /** The repository the file was read from (where a `./` reference points), and the ref it was read at. */
  readonly home: RepoRef;
  readonly ref: string | undefined;
  /** The caller's `with` values, resolved; undefined for a workflow an event starts (not called). */
  readonly inputs: Readonly<Record<string, string>> | undefined;
  readonly defaults: Readonly<Record<string, string>>;
  readonly chain: string;
  readonly depth: number;
  /** Labels of the workflows being expanded, to stop a loop. */
  readonly open: ReadonlySet<string>;
}

/**
 * Every job that runs in `repo`: the jobs of its workflow files (not those only other workflows call), with the
 * jobs of the reusable workflows they call listed in their place. Reads the files through `inventory`
 * (`workflows` once, `workflow` once per reusable workflow of another repository, shared through `cache`).
 */
export async function repositoryJobs(
  repo: RepoRef,
  inventory: SecretInventory,
  cache: CalledWorkflowCache,
): Promise<RepositoryJob[]> {
  const files = await inventory.workflows(repo);
  const own = new Map(files.map((file) => [file.path, file]));
  const jobs: RepositoryJob[] = [];
  let reads = 0;
  /** The file, undefined when it cannot be read, or "over" once MAX_CALLED_WORKFLOW_READS were read. */
  const read = async (home: RepoRef, path: string, ref: string | undefined) => {
    if (ref === undefined && repoSlug(home) === repoSlug(repo)) return own.get(path);
    const key = `${home.owner}/${home.name}/${path}@${ref ?? ""}`.toLowerCase();
    let file = cache.get(key);
    if (file === undefined) {
      if (reads >= MAX_CALLED_WORKFLOW_READS) return "over";
      reads++;
      file = inventory.workflow(home, path, ref);
      cache.set(key, file);
    }
    return file;
  };

  const expand = async (file: WorkflowFile, context: Context): Promise<void> => {
    const where = context.chain === "" ? file.path : `${context.chain} → ${file.path}`;
    if (file.problem !== undefined) {
      jobs.push({ label: where, environment: { kind: "unknown", reason: `${file.path}: ${file.problem}` } });
      return;
    }
    for (const job of file.jobs) {
      const label = `${where}: ${job.id}`;
      if (job.calls === undefined) {
        jobs.push({ label, environment: resolveEnvironment(job, context) });
        continue;
      }
      const called = job.calls.workflow;
      const home = called.repo ?? context.home;
      const ref = called.repo === undefined ? context.ref : called.ref;
      const calledLabel = workflowRefLabel(called);
      const key = `${home.owner}/${home.name}/${called.path}@${ref ?? ""}`.toLowerCase();
      if (context.depth + 1 >= MAX_DEPTH || context.open.has(key)) {
        const reason = `${calledLabel} nests workflows deeper than GitHub runs them`;
        jobs.push({ label, environment: { kind: "unknown", reason } });
        continue;
      }
      const calledFile = await read(home, called.path, ref);
      if (calledFile === "over") {
        const reason = `the reusable workflow ${calledLabel} was not read (the check reads at most ${MAX_CALLED_WORKFLOW_READS} reusable workflows of other repositories for one repository)`;
        jobs.push({ label, environment: { kind: "unknown", reason } });
        continue;
      }
      if (calledFile === undefined) {
        const reason = `the reusable workflow ${calledLabel} could not be read`;
        jobs.push({ label, environment: { kind: "unknown", reason } });
        continue;
      }
      const inputs: Record<string, string> = {};
      for (const [name, value] of Object.entries(job.calls.with)) inputs[name] = passOn(value, context);
      await expand(
        { ...calledFile, path: called.repo === undefined ? calledFile.path : calledLabel },
        {
          home,
          ref,
          inputs,
          defaults: calledFile.inputDefaults,
          chain: label,
          depth: context.depth + 1,
          open: new Set([...context.open, key]),
        },
      );
    }
  };

  for (const file of files) {
    if (onlyCalled(file) && file.problem === undefined) continue;
    const key = `${repo.owner}/${repo.name}/${file.path}@`.toLowerCase();
    await expand(file, {
      home: repo,
      ref: undefined,
      inputs: undefined,
      defaults: {},
      chain: "",
      depth: 0,
      open: new Set([key]),
    });
  }
  return jobs.map(shown);
}

/** A job as messages show it: its label and reason as `workflowText` (control characters escaped, cut short). */
function shown(job: RepositoryJob): RepositoryJob {
  const label = workflowText(job.label, MAX_LABEL);
  if (job.environment.kind !== "unknown") return { ...job, label };
  return { label, environment: { kind: "unknown", reason: workflowText(job.environment.reason, MAX_LABEL) } };
}

const INPUT_VALUE = /^\$\{\{\s*inputs\.([A-Za-z_][\w-]*)\s*\}\}$/;

/** A caller's `with` value as the called workflow sees it: `${{ inputs.x }}` of a called caller passes its own. */
function passOn(value: string, context: Context): string {
  const input = INPUT_VALUE.exec(value)?.[1];
  if (input === undefined || context.inputs === undefined) return value;
  return context.inputs[input] ?? context.defaults[input] ?? value;
}

function resolveEnvironment(job: WorkflowJob, context: Context): RepositoryJob["environment"] {
  const environment = job.environment;
  switch (environment.kind) {
    case "none":
    case "named":
      return environment;
    case "expression":
      return { kind: "unknown", reason: `its environment is ${environment.expression}` };
    case "input": {
      const written = `\${{ inputs.${environment.input} }}`;
      if (context.inputs === undefined) return { kind: "unknown", reason: `its environment is ${written}` };
      const value = context.inputs[environment.input] ?? context.defaults[environment.input];
      if (value === undefined)
        return { kind: "unknown", reason: `its environment is ${written}, not passed` };
      if (holdsExpression(value)) return { kind: "unknown", reason: `its environment is ${value}` };
      return { kind: "named", names: [value] };
    }
  }
}

/** Whether a job runs in `environment` (GitHub compares environment names case-insensitively). */
export function runsIn(job: RepositoryJob, environment: string): "yes" | "maybe" | "no" {
  if (job.environment.kind === "unknown") return "maybe";
  if (job.environment.kind === "none") return "no";
  const wanted = environment.toLowerCase();
  return job.environment.names.some((name) => name.toLowerCase() === wanted) ? "yes" : "no";
}
