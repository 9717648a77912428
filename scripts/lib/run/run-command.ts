import { setTimeout as delay } from "node:timers/promises";
import { SSMClient } from "@aws-sdk/client-ssm";
import { partitionOf } from "../aws/partition.ts";
import { validateRegion } from "../aws/region.ts";
import type { CliContext } from "../cli/cli-context.ts";
import type { Command } from "../cli/command.ts";
import { ExitCode, exitCodeHelp } from "../cli/exit-code.ts";
import { parseKeyValues } from "../cli/key-value.ts";
import { parseOptions, requireOption } from "../cli/parse-options.ts";
import { validateDocumentName } from "./document-name.ts";
import { exitCodeForStatus } from "./execution-status.ts";
import { DEFAULT_POLL_SECONDS, parsePollSeconds } from "./poll-seconds.ts";
import { renderExecutionResult } from "./render-execution-result.ts";
import { runParameters } from "./run-parameters.ts";
import type { SsmAutomationSender } from "./ssm-automation-sender.ts";
import { startAutomation } from "./start-automation.ts";
import { watchExecution } from "./watch-execution.ts";

const OPTIONS = {
  document: { type: "string" },
  region: { type: "string" },
  param: { type: "string", multiple: true },
  wait: { type: "boolean" },
  "poll-seconds": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

const HELP = `Usage: npm run run -- --document NAME --region REGION [--param NAME=VALUE ...] [--wait] [--poll-seconds ${DEFAULT_POLL_SECONDS}]

Starts an execution of one of the stack's Automation runbooks and, with --wait, follows it to the end:
each step's status as it changes, then the outputs (Summary, ...) and, if it did not succeed, the failure
message. The runbooks are GHS-AKM-<IamUserName>-Rotate, -Get-RepoList, -Add-RepoConfig and -Delete-RepoConfig.

Options:
  --document NAME        runbook name (or ARN), e.g. GHS-AKM-ci-deployer-Rotate
  --region REGION        region of the stack, e.g. eu-west-1
  --param NAME=VALUE     runbook parameter; repeatable (repeat a name to give a list), e.g.
                         --param DryRun=true, or --param GITHUBOWNER=my-org --param GITHUBREPO=my-repo
  --wait                 follow the execution until it ends; the exit code then reflects its status
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
  /** Waits between status checks. */
  readonly sleep: (milliseconds: number) => Promise<void>;
}

const PRODUCTION: RunbookCommandDependencies = {
  ssm: (region) => new SSMClient({ region }),
  sleep: (milliseconds) => delay(milliseconds),
};

/** `npm run run`: start a runbook and optionally follow it. */
export function createRunbookCommand(dependencies: RunbookCommandDependencies = PRODUCTION): Command {
  return {
    name: "run",
    help: HELP,
    async run(argv: readonly string[], context: CliContext) {
      const options = parseOptions(argv, OPTIONS);
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

      const ssm = dependencies.ssm(region);
      const executionId = await startAutomation(ssm, { documentName, region, parameters });
      const names = Object.keys(parameters);
      context.stdout(
        `Started ${documentName} in ${region}${names.length > 0 ? ` with ${names.join(", ")}` : ""}: execution ${executionId}`,
      );
      const link = executionConsoleUrl(region, executionId);
      if (link !== undefined) context.stdout(`Console: ${link}`);

      if (options.wait !== true) {
        context.stdout(
          `Follow it with --wait, or \`aws ssm get-automation-execution --region ${region} --automation-execution-id ${executionId}\`.`,
        );
        return ExitCode.Success;
      }
      const execution = await watchExecution(ssm, {
        executionId,
        pollSeconds,
        sleep: dependencies.sleep,
        print: context.stdout,
      });
      for (const line of renderExecutionResult(execution)) context.stdout(line);
      return exitCodeForStatus(execution.AutomationExecutionStatus);
    },
  };
}

function executionConsoleUrl(region: string, executionId: string): string | undefined {
  const partition = partitionOf(region);
  if (partition === undefined) return undefined;
  return `${partition.consoleOrigin(region)}/systems-manager/automation/execution/${encodeURIComponent(executionId)}?region=${region}`;
}
