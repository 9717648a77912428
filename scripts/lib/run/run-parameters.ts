import type { KeyValue } from "../cli/key-value.ts";

/**
 * Automation parameters as SSM takes them: every value is a list of strings. Repeating a name adds
 * to its list (`--param Names=a --param Names=b` gives ["a", "b"]), for StringList parameters.
 */
export function runParameters(pairs: readonly KeyValue[]): Record<string, string[]> {
  const parameters: Record<string, string[]> = {};
  for (const { key, value } of pairs) {
    const values = parameters[key] ?? [];
    values.push(value);
    parameters[key] = values;
  }
  return parameters;
}
