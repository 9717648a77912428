import type { CliContext } from "./cli-context.ts";
import type { Command } from "./command.ts";
import { CliError } from "./errors.ts";
import { ExitCode } from "./exit-code.ts";

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
