/**
 * GitHub's rules for the names a repository list entry may carry besides owners (github-login.ts), repositories
 * (repos-config.ts) and secret names (secret-name.ts): topics, Actions environments and custom properties. Each
 * rule is GitHub's documented one; where GitHub documents no bound, the bound is this tool's own and says so.
 */

/**
 * Topics: "use lowercase letters, numbers, and hyphens; use 50 characters or less" and GitHub refuses a topic that
 * does not start with a lowercase letter or number.
 * https://docs.github.com/en/repositories/managing-your-repositorys-settings-and-features/customizing-your-repository/classifying-your-repository-with-topics
 */
export const TOPIC_PATTERN = /^[a-z0-9][a-z0-9-]{0,49}$/;

export const TOPIC_RULE =
  "a GitHub topic: 1–50 lowercase letters, digits or hyphens, starting with a letter or digit";

/**
 * Environments: "Environment names are not case sensitive. An environment name may not exceed 255 characters and
 * must be unique within the repository." GitHub allows other characters, `/` included (the REST API takes the name
 * URL-encoded). This tool also refuses control and invisible formatting characters (a right-to-left override, a
 * zero-width space) and leading or trailing spaces, which no one types on purpose and which would make the name a
 * different environment from the one the workflow names, or disguise it in messages.
 * https://docs.github.com/en/actions/how-tos/deploy/configure-and-manage-deployments/manage-environments#creating-an-environment
 * https://docs.github.com/en/rest/actions/secrets#get-an-environment-public-key (`environment_name`: URL-encoded)
 */
export const MAX_ENVIRONMENT_NAME_LENGTH = 255;

export const ENVIRONMENT_RULE =
  "a GitHub environment name: 1–255 characters, without control or invisible characters and without leading or trailing spaces";

/** What is wrong with `name` as an environment name, as a phrase ("is empty"), or undefined. */
export function environmentNameProblem(name: string): string | undefined {
  if (name === "") return "is empty";
  if (name.length > MAX_ENVIRONMENT_NAME_LENGTH)
    return `is longer than ${MAX_ENVIRONMENT_NAME_LENGTH} characters`;
  const odd = /[\p{Cc}\p{Cf}]/u.exec(name);
  if (odd) {
    const code = `U+${(odd[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}`;
    return `contains the control or invisible character ${code} (character ${odd.index + 1})`;
  }
  if (name.trim() !== name) return "starts or ends with a space";
  return undefined;
}

/**
 * Custom property names: `a-z`, `A-Z`, `0-9`, `_`, `-`, `$`, `#`; no spaces; at most 75 characters. Values: "all
 * printable ASCII characters except `"`" (GitHub documents no length; 200 is this tool's bound).
 * https://docs.github.com/en/organizations/managing-organization-settings/managing-custom-properties-for-repositories-in-your-organization#allowed-characters
 */
export const PROPERTY_NAME_PATTERN = /^[A-Za-z0-9_$#-]{1,75}$/;

export const PROPERTY_NAME_RULE = 'a GitHub custom property name: 1–75 letters, digits, "_", "-", "$" or "#"';

export const PROPERTY_VALUE_PATTERN = /^[\x20\x21\x23-\x7e]{1,200}$/;

export const PROPERTY_VALUE_RULE =
  'a GitHub custom property value: 1–200 printable ASCII characters other than "\\""';
