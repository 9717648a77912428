import type { TemplateParameter } from "./template-parameters.ts";

/**
 * Why CloudFormation would reject `value` for the parameter, or an empty list. Checks the type (Number),
 * AllowedValues, AllowedPattern (matched against the whole value, as CloudFormation does), and the
 * length and value bounds. A pattern JavaScript cannot compile is skipped: CloudFormation's regex
 * dialect is Java's, and the console checks it anyway.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/parameters-section-structure.html
 */
export function parameterValueProblems(parameter: TemplateParameter, value: string): string[] {
  const c = parameter.constraints ?? {};
  const problems: string[] = [];
  if (parameter.type === "Number") {
    const number = Number(value);
    if (value.trim() === "" || !Number.isFinite(number)) problems.push("it must be a number");
    else {
      if (c.minValue !== undefined && number < c.minValue) problems.push(`it must be at least ${c.minValue}`);
      if (c.maxValue !== undefined && number > c.maxValue) problems.push(`it must be at most ${c.maxValue}`);
    }
  }
  if (c.allowedValues !== undefined && !c.allowedValues.includes(value)) {
    problems.push(`it must be one of ${c.allowedValues.join(", ")}`);
  }
  if (c.minLength !== undefined && value.length < c.minLength) {
    problems.push(`it must have at least ${c.minLength} characters`);
  }
  if (c.maxLength !== undefined && value.length > c.maxLength) {
    problems.push(`it must have at most ${c.maxLength} characters`);
  }
  const pattern = c.allowedPattern === undefined ? undefined : wholeValuePattern(c.allowedPattern);
  if (pattern !== undefined && !pattern.test(value)) problems.push(`it must match ${c.allowedPattern}`);
  if (problems.length > 0 && c.constraintDescription !== undefined) {
    return [`${c.constraintDescription} (${problems.join("; ")})`];
  }
  return problems;
}

function wholeValuePattern(pattern: string): RegExp | undefined {
  try {
    return new RegExp(`^(?:${pattern})$`);
  } catch {
    return undefined;
  }
}

/**
 * Problems between values that are each valid alone: pIamUserArn must name the user pIamUserName names (its
 * last part, same spelling), as the function checks before any change (src/config/settings.ts). Values not
 * given are not checked. Each problem names both parameters and values.
 */
export function parameterSetProblems(values: Readonly<Record<string, string>>): string[] {
  const arn = values.pIamUserArn;
  const name = values.pIamUserName;
  if (arn === undefined || name === undefined) return [];
  const arnName = arn.slice(arn.lastIndexOf("/") + 1);
  if (arnName === name) return [];
  return [
    `pIamUserArn ${arn} is user ${arnName}, but pIamUserName is ${name}: both must name the same IAM user ` +
      "(the name is the last part of the ARN, same spelling and case); the function refuses to run otherwise.",
  ];
}
