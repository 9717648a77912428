/** A CloudFormation template as plain data (short-form tags already turned into their long form). */
export type CfnTemplate = Readonly<Record<string, unknown>>;

/** The template's Parameters or Resources section, or an empty object when absent or not a map. */
export function section(template: CfnTemplate, name: "Parameters" | "Resources"): Record<string, unknown> {
  const value = template[name];
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}
