/**
 * `npm run smoke`: proves on a real deployed stack what the local tests cannot. Every runbook runs its latest
 * version by default; a DryRun execution of Rotate goes through every step (the loop's included), each ending
 * Success; its outputs follow the handler contract and hold no secret. Each check returns findings (what,
 * where, fix) rather than throwing, so one run reports every problem it sees, and ends with one verdict line.
 */
import { setTimeout as delay } from "node:timers/promises";
import {
  CloudFormationClient,
  ListStackResourcesCommand,
  type ListStackResourcesCommandOutput,
  type StackResourceSummary,
} from "@aws-sdk/client-cloudformation";
import {
  type AutomationExecution,
  DescribeAutomationStepExecutionsCommand,
  type DescribeAutomationStepExecutionsCommandOutput,
  DescribeDocumentCommand,
  type DescribeDocumentCommandOutput,
  GetAutomationExecutionCommand,
  type GetAutomationExecutionCommandOutput,
  GetDocumentCommand,
  type GetDocumentCommandOutput,
  SSMClient,
  type StartAutomationExecutionCommand,
  type StartAutomationExecutionCommandOutput,
  type StepExecution,
} from "@aws-sdk/client-ssm";
import { parse } from "yaml";
import { type DocumentVersions, staleDefaults } from "../../src/aws/runbook-versions.ts";
import {
  AwsCallError,
  awsErrorName,
  DEFAULT_POLL_SECONDS,
  executionConsoleUrl,
  parsePollSeconds,
  startAutomation,
  statusKind,
  validateRegion,
  validateStackName,
} from "./shared/aws.ts";
import {
  type CliContext,
  type Command,
  ExitCode,
  parseOptions,
  redactSecrets,
  requireOption,
  UsageError,
} from "./shared/cli.ts";

const DEFAULT_TIMEOUT_MINUTES = 20;

const OPTIONS = {
  stack: { type: "string" },
  region: { type: "string" },
  "poll-seconds": { type: "string" },
  "timeout-minutes": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

const HELP = `Usage: npm run smoke -- --stack NAME --region REGION [--poll-seconds ${DEFAULT_POLL_SECONDS}] [--timeout-minutes ${DEFAULT_TIMEOUT_MINUTES}]

After a deploy (or an update), checks on the real stack what cannot be checked locally:
  1. every runbook of the stack runs its latest version by default (what the schedule and the console run);
  2. a DryRun execution of the Rotate runbook goes through every step, the loop's steps included, and each
     step ends Success (a DryRun changes nothing: no key, no secret, no list is touched);
  3. the execution's outputs are what the handler contract says (Next an allowed value, times as
     YYYY-MM-DDThh:mm:ssZ, access key IDs or "none", nothing shaped like a secret).
It ends with one line: "smoke: PASS — ..." or "smoke: FAIL — <what> (<where>). Fix: <how>."

Options:
  --stack NAME            the deployed stack (name or ID)
  --region REGION         its region, e.g. eu-west-1
  --poll-seconds N        seconds between status checks of the execution, 1 to 300 (default ${DEFAULT_POLL_SECONDS})
  --timeout-minutes N     stop waiting for the execution after N minutes, 1 to 120 (default ${DEFAULT_TIMEOUT_MINUTES})
  -h, --help              show this help

AWS credentials and endpoint come from the usual SDK settings (AWS_PROFILE, AWS_ENDPOINT_URL, ...). They need
cloudformation:ListStackResources, ssm:DescribeDocument, ssm:GetDocument, ssm:StartAutomationExecution,
ssm:GetAutomationExecution, ssm:DescribeAutomationStepExecutions, and iam:PassRole on the runbooks' role.

Exit codes:
  0  PASS
  1  FAIL: a check failed, or AWS could not be asked (the verdict line says which and how to fix it)
  2  bad arguments (fix what the message names; see --help)`;

/**
 * One thing the smoke test found wrong: what, where, and how to fix it. Every check returns findings instead
 * of throwing, so one run reports every problem it can see.
 */
interface Finding {
  /** What is wrong, as a sentence without a final period: "runbook X runs version 1, not its latest 2". */
  readonly what: string;
  /** Where to look: a runbook, a step, an output, the stack. */
  readonly where: string;
  /** How to fix it, as an instruction. */
  readonly fix: string;
}

/** The one CloudFormation call the smoke test makes; CloudFormationClient satisfies it. */
export interface SmokeCloudFormation {
  send(command: ListStackResourcesCommand): Promise<ListStackResourcesCommandOutput>;
}

/**
 * The SSM calls the smoke test makes; SSMClient satisfies it. Tests route the document calls to moto and the
 * execution calls to a fake, since moto does not emulate Automation executions.
 */
export interface SmokeSsm {
  send(command: DescribeDocumentCommand): Promise<DescribeDocumentCommandOutput>;
  send(command: GetDocumentCommand): Promise<GetDocumentCommandOutput>;
  send(command: StartAutomationExecutionCommand): Promise<StartAutomationExecutionCommandOutput>;
  send(command: GetAutomationExecutionCommand): Promise<GetAutomationExecutionCommandOutput>;
  send(
    command: DescribeAutomationStepExecutionsCommand,
  ): Promise<DescribeAutomationStepExecutionsCommandOutput>;
}

/** Time, injected so tests never wait. */
export interface SmokeClock {
  now(): Date;
  sleep(milliseconds: number): Promise<void>;
}

/** What the smoke command needs from the outside world. */
export interface SmokeDependencies {
  readonly cloudFormation: (region: string) => SmokeCloudFormation;
  readonly ssm: (region: string) => SmokeSsm;
  readonly clock: SmokeClock;
}

const PRODUCTION: SmokeDependencies = {
  cloudFormation: (region) => new CloudFormationClient({ region }),
  ssm: (region) => new SSMClient({ region }),
  clock: { now: () => new Date(), sleep: (milliseconds) => delay(milliseconds) },
};

/** `npm run smoke`: prove a deployed stack works as the tests here cannot. */
export function createSmokeCommand(dependencies: SmokeDependencies = PRODUCTION): Command {
  return {
    name: "smoke",
    help: HELP,
    async run(argv: readonly string[], context: CliContext) {
      const options = parseOptions(argv, OPTIONS);
      const stack = requireOption(options.stack, "--stack", "the deployed stack to check");
      if (!stack.startsWith("arn:")) validateStackName(stack, "--stack");
      const region = validateRegion(requireOption(options.region, "--region", "the region of the stack"));
      const pollSeconds = parsePollSeconds(options["poll-seconds"]);
      const timeoutMinutes = parseTimeoutMinutes(options["timeout-minutes"]);

      let outcome: { findings: Finding[]; passed: string };
      try {
        outcome = await smoke(dependencies, {
          stack,
          region,
          pollSeconds,
          timeoutMinutes,
          print: context.stdout,
        });
      } catch (error) {
        if (!(error instanceof AwsCallError)) throw error;
        const [what = error.message, ...hint] = error.message.split("\n");
        outcome = {
          findings: [
            {
              what: what.replace(/^Could not/, "could not"),
              where: `stack ${stack} (${region})`,
              fix:
                hint.join(" ") ||
                "check your AWS credentials and their permissions (README, First deploy), then run it again",
            },
          ],
          passed: "",
        };
      }
      for (const line of renderVerdict(outcome.findings, outcome.passed)) context.stdout(line);
      return outcome.findings.length === 0 ? ExitCode.Success : ExitCode.Failure;
    },
  };
}

interface SmokeRun {
  readonly stack: string;
  readonly region: string;
  readonly pollSeconds: number;
  readonly timeoutMinutes: number;
  readonly print: (line: string) => void;
}

async function smoke(
  dependencies: SmokeDependencies,
  run: SmokeRun,
): Promise<{ findings: Finding[]; passed: string }> {
  const { stack, region, print } = run;
  const where = `stack ${stack} (${region})`;
  print(`Checking ${where}.`);
  const { runbooks, rotate } = await stackRunbooks(dependencies.cloudFormation(region), stack, region);
  if (runbooks.length === 0 || rotate === undefined) {
    return {
      findings: [
        {
          what: runbooks.length === 0 ? "the stack has no runbooks" : "the stack has no Rotate runbook",
          where,
          fix: "check --stack: it must name a stack deployed from dist/aws-github-akm.template.yaml",
        },
      ],
      passed: "",
    };
  }
  const ssm = dependencies.ssm(region);

  print(`1. Default versions of ${runbooks.length} runbooks`);
  const versions = await checkDefaultVersions(ssm, runbooks, region);
  for (const v of versions.versions)
    print(`  ${v.name}: default ${v.defaultVersion}, latest ${v.latestVersion}`);
  const findings: Finding[] = [...versions.findings];
  if (versions.findings.some((f) => f.what.startsWith(`runbook ${rotate.name} `))) {
    findings.push({
      what: "the DryRun was not started, because it would run the Rotate runbook's older default version",
      where: `runbook ${rotate.name}`,
      fix: "set its default version (see above), then run the smoke test again",
    });
    return { findings, passed: "" };
  }

  print(`2. DryRun execution of ${rotate.name}`);
  const dryRun = await runDryRun(ssm, {
    documentName: rotate.name,
    region,
    pollSeconds: run.pollSeconds,
    timeoutMs: run.timeoutMinutes * 60_000,
    clock: dependencies.clock,
    print,
  });
  const execution = `DryRun execution ${dryRun.executionId} of ${rotate.name}`;
  const link = consoleLink(region, dryRun.executionId);
  if (!dryRun.ended) {
    findings.push({
      what: `the DryRun execution is still ${dryRun.execution.AutomationExecutionStatus ?? "running"} after ${run.timeoutMinutes} minutes`,
      where: `${execution}${link}`,
      fix: "see which step it waits in (a DryRun should take minutes); run the smoke test again with a longer --timeout-minutes if it is only slow",
    });
    return { findings, passed: "" };
  }
  const status = dryRun.execution.AutomationExecutionStatus;
  if (status !== "Success") {
    const message = dryRun.execution.FailureMessage
      ? `: ${redactOutput(dryRun.execution.FailureMessage)}`
      : "";
    findings.push({
      what: `the DryRun execution ended ${status ?? "without a status"}${message}`,
      where: `${execution}${link}`,
      fix: "fix what the failure message names (README, Troubleshooting; repos.json must be in place), then run the smoke test again",
    });
  }
  findings.push(...stepFindings(dryRun.steps, requiredSteps(dryRun.content), `${execution}${link}`));

  print("3. Outputs of the DryRun execution");
  const outputs = dryRun.execution.Outputs ?? {};
  for (const [name, values] of Object.entries(outputs).sort(([a], [b]) => a.localeCompare(b))) {
    print(`  ${name}: ${redactOutput((values[0] ?? "").split("\n")[0] ?? "")}`);
  }
  findings.push(...outputFindings(outputs, `${execution}${link}`));

  const loops = requiredSteps(dryRun.content)?.insideLoops.size ?? 0;
  return {
    findings,
    passed:
      `${runbooks.length} runbooks run their latest version; DryRun execution ${dryRun.executionId} went through ` +
      `all ${dryRun.steps.length} step executions${loops > 0 ? " (loop included)" : ""}, each Success; its outputs follow the contract.`,
  };
}

/** ", <console URL of the execution>", or "" in a partition without a known console. */
function consoleLink(region: string, executionId: string): string {
  const url = executionConsoleUrl(region, executionId);
  return url === undefined ? "" : `, ${url}`;
}

function parseTimeoutMinutes(text: string | undefined): number {
  if (text === undefined) return DEFAULT_TIMEOUT_MINUTES;
  const minutes = Number(text);
  if (!/^\d+$/.test(text) || minutes < 1 || minutes > 120) {
    throw new UsageError(`--timeout-minutes '${text}' must be a whole number of minutes from 1 to 120.`);
  }
  return minutes;
}

/**
 * The lines that end a smoke run: each finding (what, where, fix), then one verdict line,
 * "smoke: PASS — <what was proven>" or "smoke: FAIL — <the first problem, where, how to fix it>".
 */
function renderVerdict(findings: readonly Finding[], passed: string): string[] {
  const [first, ...rest] = findings;
  if (first === undefined) return [`smoke: PASS — ${passed}`];
  const lines = findings.length > 1 ? ["Problems:", ...findings.map((f) => `  - ${describeFinding(f)}`)] : [];
  const more = rest.length > 0 ? ` (${rest.length} more problem${rest.length === 1 ? "" : "s"} above)` : "";
  return [...lines, `smoke: FAIL — ${describeFinding(first)}${more}`];
}

function describeFinding(finding: Finding): string {
  return `${finding.what} (${finding.where}). Fix: ${finding.fix}.`;
}

/** One AWS::SSM::Document of the stack. */
interface StackRunbook {
  readonly logicalId: string;
  /** The document name (its physical ID). */
  readonly name: string;
  /** CloudFormation's status for it, e.g. UPDATE_COMPLETE. */
  readonly status: string;
}

/** The stack's runbooks and which one is Rotate. */
interface StackRunbooks {
  readonly runbooks: readonly StackRunbook[];
  /** The Rotate runbook: logical ID rAkmSsmAutomation (the original stack's), else the one named *-Rotate. */
  readonly rotate: StackRunbook | undefined;
}

/** The logical ID of the Rotate runbook, kept from the original stack (templates/40-runbooks.yaml). */
const ROTATE_LOGICAL_ID = "rAkmSsmAutomation";

/**
 * Every SSM document the stack holds, from ListStackResources (all pages):
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ListStackResources.html
 */
async function stackRunbooks(
  cloudFormation: SmokeCloudFormation,
  stack: string,
  region: string,
): Promise<StackRunbooks> {
  const summaries: StackResourceSummary[] = [];
  let nextToken: string | undefined;
  do {
    let page: Awaited<ReturnType<SmokeCloudFormation["send"]>>;
    try {
      page = await cloudFormation.send(
        new ListStackResourcesCommand({ StackName: stack, ...(nextToken ? { NextToken: nextToken } : {}) }),
      );
    } catch (error) {
      throw new AwsCallError(
        `list the resources of stack ${stack} in ${region}`,
        error,
        listResourcesHint(error, stack, region),
      );
    }
    summaries.push(...(page.StackResourceSummaries ?? []));
    nextToken = page.NextToken;
  } while (nextToken);
  const runbooks = summaries
    .filter((r) => r.ResourceType === "AWS::SSM::Document" && r.PhysicalResourceId)
    .map((r) => ({
      logicalId: r.LogicalResourceId ?? "",
      name: r.PhysicalResourceId ?? "",
      status: r.ResourceStatus ?? "",
    }));
  const rotate =
    runbooks.find((r) => r.logicalId === ROTATE_LOGICAL_ID) ??
    runbooks.find((r) => r.name.endsWith("-Rotate"));
  return { runbooks, rotate };
}

function listResourcesHint(error: unknown, stack: string, region: string): string | undefined {
  const name = awsErrorName(error);
  if (name === "ValidationError") {
    return `Check --stack ${stack} and --region ${region}: \`aws cloudformation list-stacks --region ${region}\` lists the stacks there.`;
  }
  if (name === "AccessDenied" || name === "AccessDeniedException") {
    return "Your credentials need cloudformation:ListStackResources on that stack (see README, First deploy).";
  }
  return undefined;
}

/** Every runbook's versions, and a finding for each whose default is not its latest. */
interface DefaultVersionsResult {
  readonly versions: readonly DocumentVersions[];
  readonly findings: readonly Finding[];
}

/**
 * Reads each runbook's DefaultVersion and LatestVersion (DescribeDocument,
 * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_DescribeDocument.html): the schedule and
 * the console run the default, so after a deploy it must be the latest (the stack's custom resource
 * rRunbookDefaultVersions sets it; this proves it did).
 */
async function checkDefaultVersions(
  ssm: SmokeSsm,
  runbooks: readonly StackRunbook[],
  region: string,
): Promise<DefaultVersionsResult> {
  const versions: DocumentVersions[] = [];
  for (const runbook of runbooks) {
    let document: Awaited<ReturnType<typeof describeDocument>>;
    try {
      document = await describeDocument(ssm, runbook.name);
    } catch (error) {
      throw new AwsCallError(
        `read the versions of runbook ${runbook.name} in ${region}`,
        error,
        "Your credentials need ssm:DescribeDocument on the stack's runbooks (see README, First deploy).",
      );
    }
    versions.push({
      name: runbook.name,
      defaultVersion: document?.DefaultVersion ?? "(none)",
      latestVersion: document?.LatestVersion ?? "(none)",
    });
  }
  const findings = staleDefaults(versions).map((change) => ({
    what: `runbook ${change.name} runs version ${change.from} by default, not its latest version ${change.to}: the schedule and the console run older content`,
    where: `Systems Manager > Documents > ${change.name} > Versions (${region})`,
    fix:
      `update the stack again (its custom resource rRunbookDefaultVersions sets the default), or run ` +
      `\`aws ssm update-document-default-version --region ${region} --name ${change.name} --document-version ${change.to}\``,
  }));
  return { versions, findings };
}

async function describeDocument(ssm: SmokeSsm, name: string) {
  const { Document } = await ssm.send(new DescribeDocumentCommand({ Name: name }));
  return Document;
}

interface DryRunOptions {
  readonly documentName: string;
  readonly region: string;
  readonly pollSeconds: number;
  /** Give up waiting after this long (the execution keeps running). */
  readonly timeoutMs: number;
  readonly clock: SmokeClock;
  /** One progress line (status changes). */
  readonly print: (line: string) => void;
}

/** How the DryRun execution went: its last state, every step execution, and the content of the version it ran. */
interface DryRun {
  readonly executionId: string;
  readonly execution: AutomationExecution;
  /** False when it was still running at the timeout. */
  readonly ended: boolean;
  readonly steps: readonly StepExecution[];
  /** The runbook content (YAML or JSON text) of the version that ran, when SSM returned it. */
  readonly content: string | undefined;
}

/**
 * Starts the runbook with DryRun=true (StartAutomationExecution runs the default version when none is named,
 * as the schedule does) and polls GetAutomationExecution until it ends or the timeout passes. Step executions
 * come from DescribeAutomationStepExecutions when GetAutomationExecution says its list is truncated
 * (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_AutomationExecution.html,
 * StepExecutionsTruncated).
 */
async function runDryRun(ssm: SmokeSsm, options: DryRunOptions): Promise<DryRun> {
  const executionId = await startAutomation(ssm, {
    documentName: options.documentName,
    region: options.region,
    parameters: { DryRun: ["true"] },
  });
  options.print(`  started DryRun execution ${executionId}`);
  const started = options.clock.now().getTime();
  let execution: AutomationExecution;
  let lastStatus: string | undefined;
  for (;;) {
    execution = await getExecution(ssm, executionId);
    const status = execution.AutomationExecutionStatus;
    if (status !== lastStatus) {
      options.print(`  execution ${status ?? "(no status yet)"}`);
      lastStatus = status;
    }
    if (statusKind(status) !== "running") break;
    if (options.clock.now().getTime() - started >= options.timeoutMs) {
      return {
        executionId,
        execution,
        ended: false,
        steps: execution.StepExecutions ?? [],
        content: undefined,
      };
    }
    await options.clock.sleep(options.pollSeconds * 1000);
  }
  const steps =
    execution.StepExecutionsTruncated === true
      ? await allStepExecutions(ssm, executionId)
      : (execution.StepExecutions ?? []);
  const content = await documentContent(ssm, options.documentName, execution.DocumentVersion);
  return { executionId, execution, ended: true, steps, content };
}

async function getExecution(ssm: SmokeSsm, executionId: string): Promise<AutomationExecution> {
  try {
    const { AutomationExecution: execution } = await ssm.send(
      new GetAutomationExecutionCommand({ AutomationExecutionId: executionId }),
    );
    if (execution === undefined) throw new Error("SSM returned no AutomationExecution");
    return execution;
  } catch (error) {
    throw new AwsCallError(
      `read the status of Automation execution ${executionId}`,
      error,
      "Your credentials need ssm:GetAutomationExecution (see README, First deploy). The execution keeps running.",
    );
  }
}

async function allStepExecutions(ssm: SmokeSsm, executionId: string): Promise<StepExecution[]> {
  const steps: StepExecution[] = [];
  let nextToken: string | undefined;
  try {
    do {
      const page = await ssm.send(
        new DescribeAutomationStepExecutionsCommand({
          AutomationExecutionId: executionId,
          ...(nextToken ? { NextToken: nextToken } : {}),
        }),
      );
      steps.push(...(page.StepExecutions ?? []));
      nextToken = page.NextToken;
    } while (nextToken);
  } catch (error) {
    throw new AwsCallError(
      `list the steps of Automation execution ${executionId}`,
      error,
      "Your credentials need ssm:DescribeAutomationStepExecutions (see README, First deploy).",
    );
  }
  return steps;
}

async function documentContent(
  ssm: SmokeSsm,
  name: string,
  version: string | undefined,
): Promise<string | undefined> {
  try {
    const { Content } = await ssm.send(
      new GetDocumentCommand({ Name: name, ...(version ? { DocumentVersion: version } : {}) }),
    );
    return Content;
  } catch (error) {
    throw new AwsCallError(
      `read runbook ${name}${version ? ` version ${version}` : ""}`,
      error,
      "Your credentials need ssm:GetDocument on the stack's runbooks (see README, First deploy).",
    );
  }
}

/** The steps a DryRun must run: each invoke and loop step, and each step inside a loop (by loop). */
interface RequiredSteps {
  readonly topLevel: readonly string[];
  readonly insideLoops: ReadonlyMap<string, readonly string[]>;
}

interface StepDefinition {
  readonly name?: unknown;
  readonly action?: unknown;
  readonly inputs?: { readonly Steps?: unknown };
}

// The contract (a DryRun goes through every step) makes these run; branch-only steps (a terminal
// "continues" step, failure steps) are not required.
const ALWAYS_RUN = new Set(["aws:invokeLambdaFunction", "aws:loop"]);

/**
 * What the runbook's content says must run: every aws:invokeLambdaFunction and aws:loop step, and every step
 * of each loop's `Steps` (https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-action-loop.html).
 * Undefined when the content cannot be read as an Automation document.
 */
function requiredSteps(content: string | undefined): RequiredSteps | undefined {
  if (content === undefined) return undefined;
  let document: unknown;
  try {
    document = parse(content);
  } catch {
    return undefined;
  }
  const mainSteps = (document as { mainSteps?: unknown } | null)?.mainSteps;
  if (!Array.isArray(mainSteps)) return undefined;
  const topLevel: string[] = [];
  const insideLoops = new Map<string, string[]>();
  for (const step of mainSteps as StepDefinition[]) {
    if (typeof step?.name !== "string" || typeof step.action !== "string") continue;
    if (ALWAYS_RUN.has(step.action)) topLevel.push(step.name);
    if (step.action === "aws:loop" && Array.isArray(step.inputs?.Steps)) {
      insideLoops.set(
        step.name,
        (step.inputs.Steps as StepDefinition[])
          .map((inner) => inner?.name)
          .filter((name): name is string => typeof name === "string"),
      );
    }
  }
  return { topLevel, insideLoops };
}

/**
 * Findings about the steps of an ended DryRun execution: a step that did not end Success (with its failure
 * message), a required step that never ran, and a loop whose inner steps did not all run. Inner steps are
 * told from top-level ones by ParentStepDetails
 * (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_ParentStepDetails.html).
 */
function stepFindings(
  steps: readonly StepExecution[],
  required: RequiredSteps | undefined,
  where: string,
): Finding[] {
  const findings: Finding[] = [];
  for (const step of steps) {
    // A step on a branch not taken may be listed as Pending once the execution has ended: it did not run.
    if (step.StepStatus === "Success" || step.StepStatus === "Pending") continue;
    const message = step.FailureMessage ? `: ${redactOutput(step.FailureMessage)}` : "";
    findings.push({
      what: `step ${stepLabel(step)} ended ${step.StepStatus ?? "without a status"}${message}`,
      where: `${where}, step ${step.StepName ?? "(unnamed)"}`,
      fix: "fix what the failure message names (the README's Troubleshooting lists the common ones), then run the smoke test again",
    });
  }
  if (required === undefined) {
    findings.push({
      what: "the content of the Rotate runbook version that ran could not be read as an Automation document",
      where,
      fix: "check the runbook in Systems Manager > Documents; redeploy the stack from dist/aws-github-akm.template.yaml",
    });
    return findings;
  }
  const ran = (name: string, parent?: string) =>
    steps.some(
      (step) =>
        step.StepName === name &&
        step.StepStatus === "Success" &&
        (parent === undefined
          ? step.ParentStepDetails === undefined
          : step.ParentStepDetails === undefined || step.ParentStepDetails.StepName === parent),
    );
  for (const name of required.topLevel) {
    if (!ran(name)) {
      findings.push({
        what: `step ${name} did not run to Success, although a DryRun goes through every step`,
        where: `${where}, step ${name}`,
        fix: "look at the execution's steps in the console; the Rotate runbook must follow the contract (README, Runbooks)",
      });
    }
  }
  for (const [loop, inner] of required.insideLoops) {
    for (const name of inner) {
      if (!ran(name, loop)) {
        findings.push({
          what: `step ${name} inside loop ${loop} never ran to Success`,
          where: `${where}, loop ${loop}`,
          fix: "look at the loop's iterations in the console; the Rotate runbook must follow the contract (README, Runbooks)",
        });
      }
    }
  }
  return findings;
}

function stepLabel(step: StepExecution): string {
  const parent = step.ParentStepDetails;
  const inLoop =
    parent?.StepName === undefined
      ? ""
      : ` (loop ${parent.StepName}${parent.Iteration === undefined ? "" : `, iteration ${parent.Iteration}`})`;
  return `${step.StepName ?? "(unnamed)"}${inLoop}`;
}

/**
 * The runbook outputs of a DryRun checked against the handler contract (contract v2): the values a branch,
 * a sleep or a person reads must be well formed, never "" and never a secret.
 *   Next / Outcome          one of the contract's enums, and not "failed" in a run that succeeded
 *   RetireAfter / ResumeAt  YYYY-MM-DDThh:mm:ssZ (aws:sleep's Timestamp form,
 *                           https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-action-sleep.html)
 *   *AccessKeyId            an access key ID (IAM: 16-128 word characters) or the literal "none"
 *   Summary                 non-empty, at most 4,000 bytes
 *   every output            resolved (no "{{ ... }}" left) and nothing shaped like a secret
 */
const NEXT_VALUES = ["again", "done", "failed", "retire", "continues", "rotate", "leave"] as const;

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_AccessKey.html: AccessKeyId, 16-128 [\w]+;
// AWS issues them in upper case.
const ACCESS_KEY_ID = /^[A-Z0-9]{16,128}$/;
const SUMMARY_MAX_BYTES = 4000;
// An AWS secret access key is a run of exactly 40 base64 characters; requiring upper and lower case and a
// digit keeps hex digests, key IDs and words out.
const BASE64_RUN = /[A-Za-z0-9/+=]+/g;

/** Findings about the outputs (`Step.Output` -> values, as GetAutomationExecution returns them). */
function outputFindings(outputs: Readonly<Record<string, readonly string[]>>, where: string): Finding[] {
  const findings: Finding[] = [];
  const add = (output: string, what: string, fix: string) =>
    findings.push({ what: `output ${output} ${what}`, where: `${where}, output ${output}`, fix });
  const contractFix =
    "the Rotate runbook and the function must follow the handler contract (deploy the current build)";
  const names = Object.keys(outputs);
  if (!names.some((output) => /\.(Next|Outcome)$/.test(output))) {
    findings.push({
      what: "the execution has no Next (or Outcome) output, which a contract runbook always has",
      where,
      fix: contractFix,
    });
  }
  for (const [output, values] of Object.entries(outputs)) {
    const value = values.join("\n");
    const field = output.slice(output.lastIndexOf(".") + 1);
    if (value.includes("{{")) {
      add(output, `was never set (it reads ${JSON.stringify(value)})`, contractFix);
      continue;
    }
    if (looksSecret(value)) {
      add(
        output,
        "holds a value shaped like a secret",
        "report this as a bug at once: outputs must never hold a secret; rotate the exposed credential",
      );
      continue;
    }
    if (field === "Next" || field === "Outcome") {
      if (!(NEXT_VALUES as readonly string[]).includes(value)) {
        add(output, `is ${JSON.stringify(value)}, not one of ${NEXT_VALUES.join(", ")}`, contractFix);
      } else if (value === "failed") {
        add(output, `is "failed" although the execution succeeded`, contractFix);
      }
    } else if (field === "RetireAfter" || field === "ResumeAt") {
      if (!TIMESTAMP.test(value) || Number.isNaN(Date.parse(value))) {
        add(output, `is ${JSON.stringify(value)}, not a time in the form YYYY-MM-DDThh:mm:ssZ`, contractFix);
      }
    } else if (field.endsWith("AccessKeyId")) {
      if (value !== "none" && !ACCESS_KEY_ID.test(value)) {
        add(output, `is ${JSON.stringify(value)}, neither an access key ID nor "none"`, contractFix);
      }
    } else if (field === "Summary") {
      if (value.trim() === "") add(output, "is empty", contractFix);
      else if (Buffer.byteLength(value, "utf8") > SUMMARY_MAX_BYTES) {
        add(
          output,
          `is ${Buffer.byteLength(value, "utf8")} bytes, more than ${SUMMARY_MAX_BYTES}`,
          contractFix,
        );
      }
    }
  }
  return findings;
}

function looksSecret(value: string): boolean {
  return redactOutput(value) !== value;
}

/** The value with everything shaped like a secret replaced by `[redacted]`, for printing. */
function redactOutput(value: string): string {
  return redactSecrets(value).replace(BASE64_RUN, (run) =>
    run.length === 40 && /[A-Z]/.test(run) && /[a-z]/.test(run) && /[0-9]/.test(run) ? "[redacted]" : run,
  );
}
