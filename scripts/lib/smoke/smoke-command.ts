import { setTimeout as delay } from "node:timers/promises";
import { CloudFormationClient } from "@aws-sdk/client-cloudformation";
import { SSMClient } from "@aws-sdk/client-ssm";
import { partitionOf } from "../aws/partition.ts";
import { validateRegion } from "../aws/region.ts";
import type { CliContext } from "../cli/cli-context.ts";
import type { Command } from "../cli/command.ts";
import { AwsCallError, UsageError } from "../cli/errors.ts";
import { ExitCode } from "../cli/exit-code.ts";
import { parseOptions, requireOption } from "../cli/parse-options.ts";
import { validateStackName } from "../publish/stack-name.ts";
import { DEFAULT_POLL_SECONDS, parsePollSeconds } from "../run/poll-seconds.ts";
import { checkDefaultVersions } from "./default-versions-check.ts";
import { runDryRun } from "./dry-run-execution.ts";
import type { Finding } from "./finding.ts";
import { outputFindings, redactOutput } from "./output-contract.ts";
import type { SmokeClock, SmokeCloudFormation, SmokeSsm } from "./smoke-clients.ts";
import { renderVerdict } from "./smoke-verdict.ts";
import { stackRunbooks } from "./stack-runbooks.ts";
import { requiredSteps, stepFindings } from "./step-coverage.ts";

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

function consoleLink(region: string, executionId: string): string {
  const partition = partitionOf(region);
  if (partition === undefined) return "";
  return `, ${partition.consoleOrigin(region)}/systems-manager/automation/execution/${encodeURIComponent(executionId)}?region=${region}`;
}

function parseTimeoutMinutes(text: string | undefined): number {
  if (text === undefined) return DEFAULT_TIMEOUT_MINUTES;
  const minutes = Number(text);
  if (!/^\d+$/.test(text) || minutes < 1 || minutes > 120) {
    throw new UsageError(`--timeout-minutes '${text}' must be a whole number of minutes from 1 to 120.`);
  }
  return minutes;
}
