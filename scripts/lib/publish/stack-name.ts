import { UsageError } from "../cli/errors.ts";

/** What every proposed stack name starts with. */
export const STACK_NAME_PREFIX = "aws-github-akm";

/**
 * The stack name a link proposes for an IAM user: one stack per user (each stack rotates one user's key),
 * so a second user's stack does not collide with the first. Characters a stack name cannot have (IAM
 * allows + = , . @ _ in user names) become '-'; the result stays within 128 characters.
 */
export function defaultStackName(iamUserName: string): string {
  return `${STACK_NAME_PREFIX}-${iamUserName.replace(/[^A-Za-z0-9-]/g, "-")}`.slice(0, 128);
}

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
