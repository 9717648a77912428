import { type ParseArgsOptionsConfig, parseArgs } from "node:util";
import { UsageError } from "./errors.ts";

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
