/**
 * `npm run run`: starts one of the stack's Automation runbooks, after checking the --param names and values
 * against the runbook's own declaration (case-sensitive, as Automation compares them), and with --wait follows
 * the execution: each step's status as it changes, then its outputs (secrets redacted) and failure message.
 * `--wait=rotation` stops following a real Rotate once the new key is everywhere, before its grace period.
 */
import { setTimeout as delay } from "node:timers/promises";
import {
  type AutomationExecution,
  GetAutomationExecutionCommand,
  GetDocumentCommand,
  type GetDocumentCommandOutput,
  SSMClient,
  type StepExecution,
} from "@aws-sdk/client-ssm";
import * as v from "valibot";
import { parse } from "yaml";
import {
  AwsCallError,
  awsErrorName,
  DEFAULT_POLL_SECONDS,
  executionConsoleUrl,
  parsePollSeconds,
  type SsmAutomationSender,
  startAutomation,
  statusKind,
  validateRegion,
} from "./shared/aws.ts";
import {
  type CliContext,
  type Command,
  ExitCode,
  exitCodeHelp,
  type KeyValue,
  parseKeyValues,
  parseOptions,
  redactSecrets,
  requireOption,
  UsageError,
} from "./shared/cli.ts";

const OPTIONS = {
  document: { type: "string" },
  region: { type: "string" },
  param: { type: "string", multiple: true },
  wait: { type: "string" },
  "poll-seconds": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** The Rotate runbook's step that keeps the old key active for the grace period (runbook/rotate.yaml). */
const GRACE_STEP = "WaitForGracePeriod";

const HELP = `Usage: npm run run -- --document NAME --region REGION [--param NAME=VALUE ...] [--wait[=rotation]] [--poll-seconds ${DEFAULT_POLL_SECONDS}]

Starts an execution of one of the stack's Automation runbooks and, with --wait, follows it to the end:
each step's status as it changes, then the outputs (Summary, ...) and, if it did not succeed, the failure
message. The runbooks are GHS-AKM-<IamUserName>-Rotate, -Get-RepoList, -Add-RepoConfig and -Delete-RepoConfig
(with each + = , @ of the user name written as _).

Options:
  --document NAME        runbook name (or ARN), e.g. GHS-AKM-ci-deployer-Rotate
  --region REGION        region of the stack, e.g. eu-west-1
  --param NAME=VALUE     runbook parameter; repeatable (repeat a name to give a list), e.g.
                         --param DryRun=true, or --param GITHUBOWNER=my-org --param GITHUBREPO=my-repo.
                         Checked against the runbook before starting (read with ssm:GetDocument): names and
                         values are case-sensitive, as Automation compares them
  --wait                 follow the execution until it ends; the exit code then reflects its status. A real
                         Rotate ends after its grace period (WaitForGracePeriod, 60 minutes by default)
  --wait=rotation        for Rotate: stop following once the new key is in every repository (the execution
                         goes on through the grace period and retires the old key)
  --poll-seconds N       seconds between status checks with --wait, 1 to 300 (default ${DEFAULT_POLL_SECONDS})
  -h, --help             show this help

Ctrl-C stops watching; the execution keeps running. Parameter values are sent to SSM but never printed. AWS credentials and endpoint come from the usual SDK
settings (AWS_PROFILE, AWS_ENDPOINT_URL, ...).

${exitCodeHelp({ runbookFailed: true })}
Without --wait, 0 means the execution started.`;

/** What the runbook command needs from the outside world. */
export interface RunbookCommandDependencies {
  /** An SSM client for the region (an SSMClient in production). */
  readonly ssm: (region: string) => SsmAutomationSender;
  /** Reads a runbook's declared parameters (an SSMClient in production); without it, SSM alone checks them. */
  readonly documents?: (region: string) => SsmDocumentReader;
  /** Waits between status checks. */
  readonly sleep: (milliseconds: number) => Promise<void>;
}

const PRODUCTION: RunbookCommandDependencies = {
  ssm: (region) => new SSMClient({ region }),
  documents: (region) => new SSMClient({ region }),
  sleep: (milliseconds) => delay(milliseconds),
};

/** `npm run run`: start a runbook and optionally follow it. */
export function createRunbookCommand(dependencies: RunbookCommandDependencies = PRODUCTION): Command {
  return {
    name: "run",
    help: HELP,
    async run(argv: readonly string[], context: CliContext) {
      // A bare --wait means "to the end"; node:util parseArgs has no optional option values.
      const options = parseOptions(
        argv.map((argument) => (argument === "--wait" ? "--wait=end" : argument)),
        OPTIONS,
      );
      const wait = parseWait(options.wait);
      const documentName = validateDocumentName(
        requireOption(
          options.document,
          "--document",
          "the runbook to start, e.g. GHS-AKM-ci-deployer-Rotate",
        ),
      );
      const region = validateRegion(requireOption(options.region, "--region", "the region of the stack"));
      const parameters = runParameters(parseKeyValues(options.param ?? [], "--param"));
      const pollSeconds = parsePollSeconds(options["poll-seconds"]);

      if (dependencies.documents !== undefined) {
        const declared = await readRunbookParameters(dependencies.documents(region), documentName);
        if (declared.parameters !== undefined) {
          const problems = runbookParameterProblems(documentName, declared.parameters, parameters);
          if (problems.length > 0) {
            throw new UsageError(
              `--param cannot be used as given, so nothing was started:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
            );
          }
        } else {
          context.stderr(
            `run: could not read the parameters of ${documentName} to check them (${declared.unreadable}); SSM will.`,
          );
        }
      }
      const realRotate = /-Rotate$/.test(documentName) && parameters.DryRun?.[0] !== "true";
      if (wait === "rotation" && !realRotate) {
        throw new UsageError(
          "--wait=rotation is for a real Rotate (not a dry run): other runbooks have no grace period; use --wait.",
        );
      }
      const ssm = dependencies.ssm(region);
      const executionId = await startAutomation(ssm, { documentName, region, parameters });
      const names = Object.keys(parameters);
      context.stdout(
        `Started ${documentName} in ${region}${names.length > 0 ? ` with ${names.join(", ")}` : ""}: execution ${executionId}`,
      );
      const link = executionConsoleUrl(region, executionId);
      if (link !== undefined) context.stdout(`Console: ${link}`);

      const follow = `\`aws ssm get-automation-execution --region ${region} --automation-execution-id ${executionId}\``;
      if (wait === undefined) {
        context.stdout(`Follow it with --wait, or ${follow}.`);
        return ExitCode.Success;
      }
      if (realRotate && wait === "end") {
        context.stdout(
          `Waiting to the end: after the rotation, step ${GRACE_STEP} keeps the old key active for the stack's ` +
            "grace period (pGraceMinutes, 60 minutes by default) before Retire, and this waits through it. " +
            "Ctrl-C, or --wait=rotation next time, stops waiting; the execution goes on.",
        );
      }
      const execution = await watchExecution(ssm, {
        executionId,
        pollSeconds,
        sleep: dependencies.sleep,
        print: context.stdout,
        ...(wait === "rotation" ? { until: reachedGracePeriod } : {}),
      });
      if (statusKind(execution.AutomationExecutionStatus) === "running") {
        context.stdout(
          `The rotation is done: every listed repository holds the new key. The execution goes on: ${GRACE_STEP} ` +
            `keeps the old key active for the grace period, then Retire deactivates it. Follow it with ${follow}.`,
        );
        return ExitCode.Success;
      }
      for (const line of renderExecutionResult(execution)) context.stdout(line);
      return exitCodeForStatus(execution.AutomationExecutionStatus);
    },
  };
}

/** --wait's value: "end" (a bare --wait) or "rotation"; undefined without --wait. */
function parseWait(value: string | undefined): "end" | "rotation" | undefined {
  if (value === undefined || value === "end" || value === "rotation") return value;
  throw new UsageError(`--wait=${value} is not known: use --wait (to the end) or --wait=rotation.`);
}

/** The Rotate runbook has reached its grace period: the rotation itself is over. */
function reachedGracePeriod(execution: AutomationExecution): boolean {
  return (execution.StepExecutions ?? []).some(
    (step) => step.StepName === GRACE_STEP && step.StepStatus !== undefined && step.StepStatus !== "Pending",
  );
}

// A document name (letters, digits, _ - .), or a document ARN, which SSM also accepts.
// https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_StartAutomationExecution.html
const NAME = /^[a-zA-Z0-9_.-]{3,128}$/;
const ARN = /^arn:[a-z-]+:ssm:[a-z0-9-]+:\d{12}:(automation-definition|document)\/[a-zA-Z0-9_.:$-]{3,160}$/;

/** Returns the runbook name if SSM could accept it; a UsageError otherwise. */
function validateDocumentName(name: string): string {
  if (!NAME.test(name) && !ARN.test(name)) {
    throw new UsageError(
      `--document '${name}' is not a runbook name: use 3 to 128 letters, digits, '_', '-' or '.', ` +
        "such as GHS-AKM-ci-deployer-Rotate (or the document's ARN).",
    );
  }
  return name;
}

/**
 * Automation parameters as SSM takes them: every value is a list of strings. Repeating a name adds
 * to its list (`--param Names=a --param Names=b` gives ["a", "b"]), for StringList parameters.
 */
function runParameters(pairs: readonly KeyValue[]): Record<string, string[]> {
  const parameters: Record<string, string[]> = {};
  for (const { key, value } of pairs) {
    const values = parameters[key] ?? [];
    values.push(value);
    parameters[key] = values;
  }
  return parameters;
}

/** The one SSM call that reads a runbook; SSMClient satisfies it. */
export interface SsmDocumentReader {
  send(command: GetDocumentCommand): Promise<GetDocumentCommandOutput>;
}

/** What a runbook declares about one parameter (Automation document schema 0.3, `parameters`). */
interface RunbookParameter {
  readonly name: string;
  readonly type: string;
  readonly required: boolean;
  readonly allowedValues?: readonly string[];
  readonly allowedPattern?: string;
}

const Declaration = v.object({
  type: v.string(),
  default: v.optional(v.unknown()),
  allowedValues: v.optional(v.array(v.union([v.string(), v.number(), v.boolean()]))),
  allowedPattern: v.optional(v.string()),
});
const Content = v.object({ parameters: v.optional(v.record(v.string(), Declaration)) });

/**
 * The runbook's declared parameters, read with ssm:GetDocument (its content as stored, YAML or JSON), or
 * undefined when they cannot be read (no permission, an unreadable document): the start then goes ahead and
 * SSM checks the parameters itself.
 * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetDocument.html
 */
async function readRunbookParameters(
  ssm: SsmDocumentReader,
  documentName: string,
): Promise<{ readonly parameters?: readonly RunbookParameter[]; readonly unreadable?: string }> {
  let content: string | undefined;
  try {
    ({ Content: content } = await ssm.send(new GetDocumentCommand({ Name: documentName })));
  } catch (error) {
    return { unreadable: `ssm:GetDocument failed (${awsErrorName(error) ?? String(error)})` };
  }
  let data: unknown;
  try {
    data = parse(content ?? "");
  } catch {
    return { unreadable: "its content is neither YAML nor JSON" };
  }
  const parsed = v.safeParse(Content, data);
  if (!parsed.success) return { unreadable: "its parameters section is not the Automation schema's" };
  return {
    parameters: Object.entries(parsed.output.parameters ?? {}).map(([name, declaration]) => ({
      name,
      type: declaration.type,
      required: !("default" in declaration),
      ...(declaration.allowedValues === undefined
        ? declaration.type === "Boolean"
          ? { allowedValues: ["true", "false"] }
          : {}
        : { allowedValues: declaration.allowedValues.map(String) }),
      ...(declaration.allowedPattern === undefined ? {} : { allowedPattern: declaration.allowedPattern }),
    })),
  };
}

/**
 * Why Automation would refuse these parameters, or an empty list: names and values compare case-sensitively
 * (`dryrun` is not `DryRun`, `True` is not `true`), as SSM does; unknown names get the declared name that
 * differs only in case; required parameters must be given; values must be allowed and match the pattern.
 */
function runbookParameterProblems(
  documentName: string,
  declared: readonly RunbookParameter[],
  given: Readonly<Record<string, readonly string[]>>,
): string[] {
  const byName = new Map(declared.map((parameter) => [parameter.name, parameter]));
  const problems: string[] = [];
  for (const [name, values] of Object.entries(given)) {
    const parameter = byName.get(name);
    if (parameter === undefined) {
      const sameLetters = declared.find((candidate) => candidate.name.toLowerCase() === name.toLowerCase());
      problems.push(
        sameLetters === undefined
          ? `${name} is not a parameter of ${documentName}; its parameters are ${declared.map((p) => p.name).join(", ") || "none"}.`
          : `${name} is not a parameter of ${documentName}: names are case-sensitive, write ${sameLetters.name}.`,
      );
      continue;
    }
    for (const value of values) {
      if (parameter.allowedValues !== undefined && !parameter.allowedValues.includes(value)) {
        problems.push(
          `${name}=${value}: must be one of ${parameter.allowedValues.join(", ")} (values are case-sensitive).`,
        );
      } else if (parameter.allowedPattern !== undefined && !matches(parameter.allowedPattern, value)) {
        problems.push(`${name}=${value}: must match ${parameter.allowedPattern}.`);
      }
    }
  }
  for (const parameter of declared) {
    if (parameter.required && !(parameter.name in given)) {
      problems.push(`${parameter.name} is required by ${documentName}: add --param ${parameter.name}=VALUE.`);
    }
  }
  return problems;
}

function matches(pattern: string, value: string): boolean {
  try {
    return new RegExp(pattern).test(value);
  } catch {
    // A pattern JavaScript cannot compile: SSM checks it.
    return true;
  }
}

interface WatchOptions {
  readonly executionId: string;
  readonly pollSeconds: number;
  /** Waits between polls; injected so tests never wait. */
  readonly sleep: (milliseconds: number) => Promise<void>;
  /** Prints one progress line. */
  readonly print: (line: string) => void;
  /** Stops watching, before the end, once this holds (e.g. Rotate has reached its grace period). */
  readonly until?: (execution: AutomationExecution) => boolean;
}

/**
 * Polls GetAutomationExecution until the execution ends (or `until` holds), printing the execution's status and each step's
 * status as they change, and returns the ended execution.
 */
async function watchExecution(ssm: SsmAutomationSender, options: WatchOptions): Promise<AutomationExecution> {
  let printed: PrintedStatuses = new Map();
  let lastStatus: string | undefined;
  for (;;) {
    const execution = await getExecution(ssm, options.executionId);
    const status = execution.AutomationExecutionStatus;
    if (status !== lastStatus) {
      options.print(`Execution ${status ?? "(no status yet)"}`);
      lastStatus = status;
    }
    const progress = stepProgress(printed, execution.StepExecutions);
    for (const line of progress.lines) options.print(line);
    printed = progress.printed;
    if (statusKind(status) !== "running" || options.until?.(execution) === true) return execution;
    await options.sleep(options.pollSeconds * 1000);
  }
}

async function getExecution(ssm: SsmAutomationSender, executionId: string): Promise<AutomationExecution> {
  const action = `read the status of Automation execution ${executionId}`;
  let execution: AutomationExecution | undefined;
  try {
    ({ AutomationExecution: execution } = await ssm.send(
      new GetAutomationExecutionCommand({ AutomationExecutionId: executionId }),
    ));
  } catch (error) {
    throw new AwsCallError(
      action,
      error,
      "The execution keeps running; check it later with " +
        `\`aws ssm get-automation-execution --automation-execution-id ${executionId}\`.`,
    );
  }
  if (execution === undefined)
    throw new AwsCallError(action, new Error("SSM returned no AutomationExecution"));
  return execution;
}

/** The statuses printed so far, by step execution; starts empty. */
type PrintedStatuses = ReadonlyMap<string, string>;

/** Lines to print for the steps whose status changed since the last poll, and the statuses now printed. */
interface StepProgress {
  readonly lines: readonly string[];
  readonly printed: PrintedStatuses;
}

/**
 * Compares the steps of one GetAutomationExecution answer with what was printed before. A step appears
 * when it first has a status and again each time its status changes; a failed step shows its message.
 * Steps are told apart by StepExecutionId, because loops run a step name more than once.
 */
function stepProgress(printed: PrintedStatuses, steps: readonly StepExecution[] | undefined): StepProgress {
  const next = new Map(printed);
  const lines: string[] = [];
  (steps ?? []).forEach((step, index) => {
    const status = step.StepStatus;
    if (status === undefined) return;
    const id = step.StepExecutionId ?? `${index}:${step.StepName ?? ""}`;
    if (next.get(id) === status) return;
    next.set(id, status);
    const action = step.Action ? ` (${step.Action})` : "";
    const failure = step.FailureMessage ? `: ${redactSecrets(step.FailureMessage)}` : "";
    lines.push(`  step ${step.StepName ?? "(unnamed)"}${action}: ${status}${failure}`);
  });
  return { lines, printed: next };
}

/**
 * The lines printed when an execution has ended: its status, its outputs (Summary and the like, one per
 * line, multi-line values indented) and, unless it succeeded, its failure message.
 */
function renderExecutionResult(execution: AutomationExecution): string[] {
  const status = execution.AutomationExecutionStatus ?? "an unknown status";
  const lines = [`Execution ${execution.AutomationExecutionId ?? "(no ID)"} ended ${status}.`];
  const outputs = Object.entries(execution.Outputs ?? {}).sort(([a], [b]) => a.localeCompare(b));
  if (outputs.length > 0) {
    lines.push("Outputs:");
    for (const [name, values] of outputs) {
      const text = redactSecrets(values.join("\n"));
      const [first = "", ...rest] = text.split("\n");
      lines.push(`  ${name}: ${first}`, ...rest.map((line) => `    ${line}`));
    }
  }
  if (statusKind(execution.AutomationExecutionStatus) !== "succeeded") {
    const message = execution.FailureMessage ? redactSecrets(execution.FailureMessage) : "(none given)";
    lines.push(`Failure message: ${message}`);
  }
  return lines;
}

/** The exit code for an ended execution: 0 when it succeeded, 3 for any unsuccessful end. */
export function exitCodeForStatus(status: string | undefined): ExitCode {
  return statusKind(status) === "succeeded" ? ExitCode.Success : ExitCode.RunbookFailed;
}
