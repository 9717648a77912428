import { setTimeout as delay } from "node:timers/promises";
import { type AutomationExecution, SSMClient } from "@aws-sdk/client-ssm";
import { partitionOf } from "../aws/partition.ts";
import { validateRegion } from "../aws/region.ts";
import type { CliContext } from "../cli/cli-context.ts";
import type { Command } from "../cli/command.ts";
import { UsageError } from "../cli/errors.ts";
import { ExitCode, exitCodeHelp } from "../cli/exit-code.ts";
import { parseKeyValues } from "../cli/key-value.ts";
import { parseOptions, requireOption } from "../cli/parse-options.ts";
import { validateDocumentName } from "./document-name.ts";
import { exitCodeForStatus, statusKind } from "./execution-status.ts";
import { DEFAULT_POLL_SECONDS, parsePollSeconds } from "./poll-seconds.ts";
import { renderExecutionResult } from "./render-execution-result.ts";
import { runParameters } from "./run-parameters.ts";
import {
  readRunbookParameters,
  runbookParameterProblems,
  type SsmDocumentReader,
} from "./runbook-parameters.ts";
import type { SsmAutomationSender } from "./ssm-automation-sender.ts";
import { startAutomation } from "./start-automation.ts";
import { watchExecution } from "./watch-execution.ts";

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

function executionConsoleUrl(region: string, executionId: string): string | undefined {
  const partition = partitionOf(region);
  if (partition === undefined) return undefined;
  return `${partition.consoleOrigin(region)}/systems-manager/automation/execution/${encodeURIComponent(executionId)}?region=${region}`;
}
