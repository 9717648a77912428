import { parameterSetProblems, parameterValueProblems } from "../template/parameter-value-problems.ts";
import type { TemplateParameter } from "../template/template-parameters.ts";
import type { ParameterValues } from "./resolve-parameters.ts";

/**
 * Each current value of a stack that the new template's constraints (or the pair check of the IAM user's name
 * and ARN) would refuse, as "NAME = VALUE: why". An update that keeps such a value fails before it changes
 * anything, so these must be changed in the same update. Values of parameters the new template does not
 * declare are not checked (the upgrade summary lists those parameters as removed).
 */
export function refusedCurrentValues(
  parameters: readonly TemplateParameter[],
  values: ParameterValues,
): string[] {
  const refused: string[] = [];
  for (const parameter of parameters) {
    const value = values[parameter.name];
    if (value === undefined) continue;
    const problems = parameterValueProblems(parameter, value);
    if (problems.length > 0)
      refused.push(`${parameter.name} = ${JSON.stringify(value)}: ${problems.join("; ")}`);
  }
  return [...refused, ...parameterSetProblems(values)];
}
