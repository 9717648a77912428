import { UsageError } from "./errors.ts";

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
