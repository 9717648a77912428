import { UsageError } from "../cli/errors.ts";

/** The stack name the quick-create link proposes unless --stack-name is given. */
export const DEFAULT_STACK_NAME = "aws-github-akm";

/** Returns the stack name if CloudFormation accepts it: a letter, then letters, digits and '-', at most 128. */
export function validateStackName(name: string, flag = "--stack-name"): string {
  if (!/^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(name)) {
    throw new UsageError(
      `${flag} '${name}' is not a valid stack name: start with a letter and use only letters, digits and '-' ` +
        "(at most 128 characters).",
    );
  }
  return name;
}
