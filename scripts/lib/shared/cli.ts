/**
 * What every command (`npm run launch-link`, `diff`, `run`, `smoke`, `demo`, `reliability:report`) shares as a
 * command-line program: the command shape, exit codes, expected errors, strict option parsing (node:util
 * parseArgs), `NAME=VALUE` arguments, secret redaction of printed text, and the process entry point.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type ParseArgsOptionsConfig, parseArgs } from "node:util";

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

/** What a command gets from its process: where the project is and where to write. */
export interface CliContext {
  /** The repository root: dist/ and package.json are read from here. */
  readonly projectRoot: string;
  /** The directory the user ran the command from: relative paths in arguments start here. */
  readonly cwd: string;
  /** Writes one line of results to standard output. */
  readonly stdout: (line: string) => void;
  /** Writes one line of progress or errors to standard error. */
  readonly stderr: (line: string) => void;
}

/** One script: `npm run <name> -- <argv>`. */
export interface Command {
  /** The npm script name, used to prefix error messages ("launch-link: ..."). */
  readonly name: string;
  /** The full --help text. */
  readonly help: string;
  /** Runs with the arguments after `--`; throws a CliError for expected failures. */
  run(argv: readonly string[], context: CliContext): Promise<ExitCode>;
}

/**
 * Parses `--name value` options strictly (unknown options and positionals are errors) with node:util.
 * parseArgs' own errors become UsageErrors that point at --help.
 */
export function parseOptions<const T extends ParseArgsOptionsConfig>(argv: readonly string[], options: T) {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    if (isParseArgsError(error)) throw new UsageError(`${error.message}\nRun with --help for usage.`);
    throw error;
  }
}

/** The value of a required option, or a UsageError naming it. */
export function requireOption<T>(value: T | undefined, flag: string, what: string): T {
  if (value === undefined) throw new UsageError(`${flag} is required: ${what}.\nRun with --help for usage.`);
  return value;
}

function isParseArgsError(error: unknown): error is Error {
  if (!(error instanceof Error)) return false;
  const code: unknown = (error as NodeJS.ErrnoException).code;
  return typeof code === "string" && code.startsWith("ERR_PARSE_ARGS_");
}

/** One `NAME=VALUE` argument. */
export interface KeyValue {
  readonly key: string;
  readonly value: string;
}

/**
 * Splits each `NAME=VALUE` argument of a repeatable option at its first `=` (values may contain `=`).
 * A value may be empty; a name may not. Errors never echo the argument: it may be a secret typed in the
 * wrong place. They name its position instead.
 */
export function parseKeyValues(argumentsGiven: readonly string[], flag: string): KeyValue[] {
  return argumentsGiven.map((argument, index) => {
    const equals = argument.indexOf("=");
    if (equals <= 0) {
      const problem = equals === 0 ? "has no name before '='" : "has no '='";
      throw new UsageError(
        `${flag} number ${index + 1} ${problem} (its text is not shown in case it is a secret). ` +
          `Write ${flag} NAME=VALUE, e.g. ${flag} pHoursToRotate=24.`,
      );
    }
    return { key: argument.slice(0, equals), value: argument.slice(equals + 1) };
  });
}

const REDACTED = "[redacted]";

// Shapes of credentials that must never be printed, even if a runbook output or an AWS message echoes
// one: GitHub tokens (https://github.blog/2021-04-05-behind-githubs-new-authentication-token-formats/)
// and values labelled as an AWS secret access key.
const SECRET_PATTERNS: readonly RegExp[] = [
  /\bgh[pousr]_[A-Za-z0-9]{20,255}\b/g,
  /\bgithub_pat_[A-Za-z0-9_]{20,255}\b/g,
  /(secret_?access_?key["']?\s*[:=]\s*["']?)[A-Za-z0-9/+=]{40}/gi,
];

/** Replaces anything shaped like a GitHub token or an AWS secret access key with `[redacted]`. */
export function redactSecrets(text: string): string {
  return SECRET_PATTERNS.reduce(
    (result, pattern) =>
      result.replace(pattern, (match, label?: unknown) =>
        typeof label === "string" && match.startsWith(label) ? `${label}${REDACTED}` : REDACTED,
      ),
    text,
  );
}

/**
 * Runs a command the way the CLI does: --help anywhere prints the help and succeeds; a CliError prints its
 * message and exits with its code; anything else is an unexpected failure (exit 1) printed with its stack.
 */
export async function runCommand(
  command: Command,
  argv: readonly string[],
  context: CliContext,
): Promise<ExitCode> {
  if (argv.includes("--help") || argv.includes("-h")) {
    context.stdout(command.help);
    return ExitCode.Success;
  }
  try {
    return await command.run(argv, context);
  } catch (error) {
    if (error instanceof CliError) {
      context.stderr(`${command.name}: ${error.message}`);
      return error.exitCode;
    }
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    context.stderr(`${command.name}: unexpected error (a bug in this script, please report it):\n${detail}`);
    return ExitCode.Failure;
  }
}

/** The repository root, found from this file's place in scripts/lib/shared/. */
export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/** Entry point of a script: runs the command on process.argv and sets the process exit code. */
export async function main(command: Command): Promise<void> {
  // `npm run diff | head` closes the pipe early: stop quietly instead of crashing on EPIPE.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
  process.exitCode = await runCommand(command, process.argv.slice(2), {
    projectRoot: PROJECT_ROOT,
    // npm runs scripts from the package root and keeps the caller's directory in INIT_CWD.
    cwd: process.env.INIT_CWD ?? process.cwd(),
    stdout: (line) => process.stdout.write(`${line}\n`),
    stderr: (line) => process.stderr.write(`${line}\n`),
  });
}
