/**
 * Exit codes shared by the scripts, so shell callers and CI can tell the user's mistakes from outages.
 * Each script's --help documents the ones it uses (see `exitCodeHelp`).
 */
export const ExitCode = {
  /** Done as asked. */
  Success: 0,
  /** The tool or AWS failed (an AWS API error, missing credentials, a bug): retrying or fixing access may help. */
  Failure: 1,
  /** The user's input is wrong (arguments, files, template parameters): the message says what to change. */
  Usage: 2,
  /** The runbook ran and ended Failed, TimedOut, Cancelled or another unsuccessful status. */
  RunbookFailed: 3,
} as const satisfies Record<string, number>;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The "Exit codes" section of a --help text. */
export function exitCodeHelp(options: { readonly runbookFailed: boolean }): string {
  const lines = [
    "Exit codes:",
    `  ${ExitCode.Success}  success`,
    `  ${ExitCode.Failure}  AWS or tool failure (API error, missing credentials, network, unexpected error)`,
    `  ${ExitCode.Usage}  bad arguments or input (fix what the message names; see --help)`,
  ];
  if (options.runbookFailed) {
    lines.push(
      `  ${ExitCode.RunbookFailed}  the runbook ended Failed, TimedOut, Cancelled or otherwise unsuccessful`,
    );
  }
  return lines.join("\n");
}
