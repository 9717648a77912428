import { describeAwsError } from "../aws/describe-aws-error.ts";
import { ExitCode } from "./exit-code.ts";

/**
 * An expected failure: the CLI prints its message (prefixed with the script name, no stack trace) and
 * exits with its code. Anything else that escapes a command is reported as an unexpected error (exit 1).
 */
export abstract class CliError extends Error {
  abstract readonly exitCode: ExitCode;
}

/** Something the user can fix: an argument, a file, a template parameter. Exit 2. */
export class UsageError extends CliError {
  readonly exitCode = ExitCode.Usage;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UsageError";
  }
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
