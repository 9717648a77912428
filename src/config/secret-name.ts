/**
 * GitHub's rule for Actions secret names, in one place: the Lambda's settings check it with this pattern, and the
 * template's AllowedPattern for pGitHubSecretNameAwsKeyId / pGitHubSecretNameAwsKey is this exact text
 * (test/template/parameters.test.ts compares them).
 *
 * GitHub: "Secret names can only contain alphanumeric characters ([a-z], [A-Z], [0-9]) or underscores (_). Spaces
 * are not allowed. Secret names must not start with the GITHUB_ prefix. Secret names must not start with a number.
 * Secret names are not case-sensitive."
 * https://docs.github.com/en/actions/security-for-github-actions/security-guides/using-secrets-in-github-actions#naming-your-secrets
 * GitHub documents no length limit; 200 characters is this tool's own bound, far above any real name.
 */

import { quote } from "./message-text.ts";

/** Java-regex-compatible (CloudFormation's AllowedPattern) and JavaScript-compatible. */
export const SECRET_NAME_PATTERN = "^(?![Gg][Ii][Tt][Hh][Uu][Bb]_)[A-Za-z_][A-Za-z0-9_]{0,199}$";

/** Longest name this tool accepts (see above). */
export const MAX_SECRET_NAME_LENGTH = 200;

const PATTERN = new RegExp(SECRET_NAME_PATTERN);

/** What is wrong with `name` as an Actions secret name, as a phrase ("starts with a digit"), or undefined. */
export function secretNameProblem(name: string): string | undefined {
  if (name === "") return "is empty";
  if (name.length > MAX_SECRET_NAME_LENGTH) return `is longer than ${MAX_SECRET_NAME_LENGTH} characters`;
  if (/^[0-9]/.test(name)) return "starts with a digit";
  if (/^github_/i.test(name)) return "starts with GITHUB_ (reserved by GitHub, in any letter case)";
  const odd = /[^A-Za-z0-9_]/.exec(name);
  if (odd) return `contains ${quote(odd[0])}; only letters, digits and underscores are allowed`;
  return PATTERN.test(name) ? undefined : "is not a valid GitHub secret name";
}

/** GitHub compares secret names case-insensitively: `AWS_KEY` and `aws_key` are one secret. */
export function sameSecretName(a: string, b: string): boolean {
  return a.toUpperCase() === b.toUpperCase();
}
