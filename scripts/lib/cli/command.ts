import type { CliContext } from "./cli-context.ts";
import type { ExitCode } from "./exit-code.ts";

/** One script: `npm run <name> -- <argv>`. */
export interface Command {
  /** The npm script name, used to prefix error messages ("launch-link: ..."). */
  readonly name: string;
  /** The full --help text. */
  readonly help: string;
  /** Runs with the arguments after `--`; throws a CliError for expected failures. */
  run(argv: readonly string[], context: CliContext): Promise<ExitCode>;
}
