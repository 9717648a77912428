/**
 * What the commands that call AWS share: AWS errors turned into messages that say what to do, the partition's
 * console and S3 addresses, the region and stack name checks, and the Automation calls both `run` and `smoke`
 * make (start an execution, read its status, link to it in the console). Clients come from the SDK's usual
 * settings (AWS_PROFILE, AWS_ENDPOINT_URL, ...) with the --region the user gave.
 */
import {
  type GetAutomationExecutionCommand,
  type GetAutomationExecutionCommandOutput,
  StartAutomationExecutionCommand,
  type StartAutomationExecutionCommandOutput,
} from "@aws-sdk/client-ssm";
import { CliError, ExitCode, UsageError } from "./cli.ts";

/** The fields of an AWS SDK v3 error that help a user; all optional because anything can be thrown. */
interface AwsErrorShape {
  readonly name?: unknown;
  readonly message?: unknown;
  readonly code?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: unknown; readonly requestId?: unknown };
}

/** How to fix "no credentials", for the way the user chose a profile (or did not). */
function credentialsHint(env: NodeJS.ProcessEnv): string {
  const profile = env.AWS_PROFILE ?? env.AWS_DEFAULT_PROFILE;
  if (profile !== undefined && profile !== "") {
    const variable = env.AWS_PROFILE !== undefined ? "AWS_PROFILE" : "AWS_DEFAULT_PROFILE";
    return (
      `No usable AWS credentials for profile '${profile}' (from ${variable}): check that the profile exists ` +
      "in ~/.aws/config or ~/.aws/credentials (`aws configure list-profiles` lists them) and, for an SSO " +
      `profile, run \`aws sso login --profile ${profile}\`.`
    );
  }
  return (
    "No usable AWS credentials were found. Name a profile with AWS_PROFILE (and run `aws sso login` for SSO " +
    "profiles), or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY."
  );
}

/** How to fix a network failure that happened before AWS answered anything. */
function networkHint(code: string, message: string): string | undefined {
  if (code === "ENOTFOUND") {
    const host = /ENOTFOUND (\S+)/.exec(message)?.[1] ?? "the AWS endpoint";
    return (
      `${host} does not resolve: check --region (a region code that exists and is enabled for your account, ` +
      "e.g. eu-west-1; `aws account list-regions` lists them), then your network, proxy or AWS_ENDPOINT_URL."
    );
  }
  if (["EAI_AGAIN", "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "ENETUNREACH"].includes(code)) {
    return `The network failed before AWS answered (${code}): check your connection, proxy or AWS_ENDPOINT_URL, then retry.`;
  }
  return undefined;
}

/** The error's name as thrown by the SDK ("NoSuchBucket", "ValidationError"), or undefined. */
export function awsErrorName(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const name = (error as AwsErrorShape).name;
  return typeof name === "string" ? name : undefined;
}

/**
 * One line for an SDK error: name, message, HTTP status and request ID (what AWS support asks for).
 * Credential and network failures get a hint, since they are the usual first-run problems.
 * @param env where the SDK read its settings (AWS_PROFILE), for the credentials hint
 */
export function describeAwsError(error: unknown, env: NodeJS.ProcessEnv = process.env): string {
  if (typeof error !== "object" || error === null) return String(error);
  const shape = error as AwsErrorShape;
  const name = typeof shape.name === "string" ? shape.name : "Error";
  const message = typeof shape.message === "string" ? shape.message : "";
  const details: string[] = [];
  const status = shape.$metadata?.httpStatusCode;
  if (typeof status === "number") details.push(`HTTP ${status}`);
  const requestId = shape.$metadata?.requestId;
  if (typeof requestId === "string" && requestId !== "") details.push(`request ID ${requestId}`);
  if (typeof shape.code === "string" && details.length === 0) details.push(shape.code);
  const line = `${name}: ${message}${details.length > 0 ? ` (${details.join(", ")})` : ""}`;
  if (name === "CredentialsProviderError") return `${line}\n${credentialsHint(env)}`;
  const network = typeof shape.code === "string" ? networkHint(shape.code, message) : undefined;
  return network === undefined ? line : `${line}\n${network}`;
}

/** An AWS call failed; the message says what was being done, what AWS answered and, if known, what to do. Exit 1. */
export class AwsCallError extends CliError {
  readonly exitCode = ExitCode.Failure;

  /**
   * @param action what was being done, as a phrase: "upload the template to s3://b/k"
   * @param hint how to fix the common causes, or undefined when nothing specific is known
   */
  constructor(action: string, cause: unknown, hint?: string) {
    const detail = `Could not ${action}: ${describeAwsError(cause)}`;
    super(hint === undefined ? detail : `${detail}\n${hint}`, { cause });
    this.name = "AwsCallError";
  }
}

/** The public endpoints of an AWS partition that the launch-link, run and smoke commands need. */
export interface Partition {
  readonly name: "aws" | "aws-cn" | "aws-us-gov";
  /** Domain of regional S3 endpoints: `<bucket>.s3.<region>.<s3Domain>`. */
  readonly s3Domain: string;
  /** Origin of the CloudFormation console for a region. */
  readonly consoleOrigin: (region: string) => string;
}

const AWS: Partition = {
  name: "aws",
  s3Domain: "amazonaws.com",
  consoleOrigin: (region) => `https://${region}.console.aws.amazon.com`,
};
const AWS_CN: Partition = {
  name: "aws-cn",
  s3Domain: "amazonaws.com.cn",
  consoleOrigin: () => "https://console.amazonaws.cn",
};
const AWS_US_GOV: Partition = {
  name: "aws-us-gov",
  s3Domain: "amazonaws.com",
  consoleOrigin: () => "https://console.amazonaws-us-gov.com",
};

/**
 * The partition of a (validated) region code, or undefined for isolated and sovereign partitions, whose
 * console and S3 addresses this tool does not know: better no link than a wrong one.
 */
export function partitionOf(region: string): Partition | undefined {
  if (region.startsWith("cn-")) return AWS_CN;
  if (region.startsWith("us-gov-")) return AWS_US_GOV;
  if (/^[a-z]{2}-iso/.test(region) || region.startsWith("eusc-")) return undefined;
  return AWS;
}

/**
 * A region code such as us-east-1, ap-southeast-4, us-gov-west-1, cn-north-1 or eusc-de-east-1:
 * a 2-4 letter area, one or more words, a number.
 */
const REGION_PATTERN = /^[a-z]{2,4}(-[a-z]+)+-\d{1,2}$/;

/** Returns the region if it is shaped like an AWS region code; a UsageError otherwise. */
export function validateRegion(region: string, flag = "--region"): string {
  if (!REGION_PATTERN.test(region)) {
    throw new UsageError(
      `${flag} '${region}' is not an AWS region code. Use a code such as us-east-1 or eu-west-2 ` +
        "(not a name like 'US East (N. Virginia)'); `aws ec2 describe-regions` lists them.",
    );
  }
  return region;
}

/** Returns the stack name if CloudFormation accepts it: a letter, then letters, digits and '-', at most 128. */
export function validateStackName(name: string, flag = "--stack-name"): string {
  if (!/^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(name)) {
    throw new UsageError(
      `${flag} '${name}' is not a valid stack name: start with a letter and use only letters, digits and '-' ` +
        "(at most 128 characters).",
    );
  }
  return name;
}

/**
 * The two SSM calls that start and follow an Automation execution. SSMClient satisfies it; tests pass a tiny
 * fake implementing `send`, since moto does not emulate Automation executions.
 */
export interface SsmAutomationSender {
  send(command: StartAutomationExecutionCommand): Promise<StartAutomationExecutionCommandOutput>;
  send(command: GetAutomationExecutionCommand): Promise<GetAutomationExecutionCommandOutput>;
}

export interface AutomationStart {
  readonly documentName: string;
  readonly region: string;
  readonly parameters: Readonly<Record<string, string[]>>;
}

/** Starts an Automation execution and returns its ID; AWS failures say what to check. */
export async function startAutomation(ssm: SsmAutomationSender, start: AutomationStart): Promise<string> {
  const action = `start runbook ${start.documentName} in ${start.region}`;
  let executionId: string | undefined;
  try {
    ({ AutomationExecutionId: executionId } = await ssm.send(
      new StartAutomationExecutionCommand({
        DocumentName: start.documentName,
        Parameters: { ...start.parameters },
      }),
    ));
  } catch (error) {
    throw new AwsCallError(action, error, startHint(error, start));
  }
  if (executionId === undefined) {
    throw new AwsCallError(action, new Error("SSM returned no AutomationExecutionId"));
  }
  return executionId;
}

function startHint(error: unknown, start: AutomationStart): string | undefined {
  switch (awsErrorName(error)) {
    case "AutomationDefinitionNotFoundException":
    case "InvalidDocument":
      return (
        `There is no runbook named ${start.documentName} in ${start.region}. The stack creates ` +
        "GHS-AKM-<IamUserName>-Rotate, -Get-RepoList, -Add-RepoConfig and -Delete-RepoConfig; " +
        `\`aws ssm list-documents --region ${start.region} --filters Key=Owner,Values=Self\` lists yours.`
      );
    case "InvalidAutomationExecutionParametersException":
      return "Check the --param names and values against the runbook's parameters (see its description in the SSM console).";
    case "AccessDeniedException":
      return (
        "Your credentials need ssm:StartAutomationExecution on the runbook, and iam:PassRole on the role it " +
        "runs as (its assumeRole, the stack's GHS-AKM-SSM-<IamUserName> role)."
      );
    case "AutomationExecutionLimitExceededException":
      return "Too many Automation executions are running in this account and region; wait for some to end.";
    default:
      return undefined;
  }
}

/** Where an Automation execution (or step) stands, for deciding whether to keep polling and how to exit. */
export type StatusKind = "running" | "succeeded" | "failed";

// https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_AutomationExecution.html
const SUCCEEDED: ReadonlySet<string> = new Set(["Success", "CompletedWithSuccess"]);
const FAILED: ReadonlySet<string> = new Set([
  "Failed",
  "TimedOut",
  "Cancelled",
  "Rejected",
  "Exited",
  "CompletedWithFailure",
  "ChangeCalendarOverrideRejected",
]);

/**
 * Classifies an execution status. Every other status (Pending, InProgress, Waiting, Cancelling,
 * PendingApproval, Scheduled, ...) means the execution has not ended yet.
 */
export function statusKind(status: string | undefined): StatusKind {
  if (status !== undefined && SUCCEEDED.has(status)) return "succeeded";
  if (status !== undefined && FAILED.has(status)) return "failed";
  return "running";
}

export const DEFAULT_POLL_SECONDS = 5;
/** Polling faster risks throttling (GetAutomationExecution shares the account's SSM API rate). */
const MIN_POLL_SECONDS = 1;
const MAX_POLL_SECONDS = 300;

/** Parses --poll-seconds: a whole number of seconds from 1 to 300. */
export function parsePollSeconds(text: string | undefined): number {
  if (text === undefined) return DEFAULT_POLL_SECONDS;
  const seconds = Number(text);
  if (!/^\d+$/.test(text) || seconds < MIN_POLL_SECONDS || seconds > MAX_POLL_SECONDS) {
    throw new UsageError(
      `--poll-seconds '${text}' must be a whole number of seconds from ${MIN_POLL_SECONDS} to ${MAX_POLL_SECONDS}.`,
    );
  }
  return seconds;
}

/** The Systems Manager console page of an Automation execution, or undefined in a partition without a known console. */
export function executionConsoleUrl(region: string, executionId: string): string | undefined {
  const partition = partitionOf(region);
  if (partition === undefined) return undefined;
  return `${partition.consoleOrigin(region)}/systems-manager/automation/execution/${encodeURIComponent(executionId)}?region=${region}`;
}
