import type { SecretStore, Target } from "../domain/target.ts";
import { targetLabel } from "../domain/target.ts";

/** Where the README explains what each token type needs. */
export const PERMISSIONS_DOC = "README, section GitHub token permissions";

/**
 * What the machine user and its token need to write a target's secrets (and, with `KeyIdAs: "variable"`, its
 * Actions variables), for the fixes of GitHub's refusals. From GitHub's REST reference, each endpoint's "Fine-grained
 * access tokens" section and the scopes its description names:
 * - repository secrets: "Secrets" (Actions), "Dependabot secrets", "Codespaces secrets" repository permissions
 *   (write); classic tokens `repo`.
 *   https://docs.github.com/en/rest/actions/secrets, https://docs.github.com/en/rest/dependabot/secrets,
 *   https://docs.github.com/en/rest/codespaces/repository-secrets
 * - environment secrets: "Environments" and "Secrets" (write), environment variables "Environments" and
 *   "Variables" (write): GitHub lists both for each environment endpoint ("Fine-grained access tokens for Create or
 *   update an environment secret"; "Permissions required for fine-grained personal access tokens" marks them as
 *   additional permissions of each other).
 *   https://docs.github.com/en/rest/actions/secrets#create-or-update-an-environment-secret,
 *   https://docs.github.com/en/rest/actions/variables#create-an-environment-variable,
 *   https://docs.github.com/en/rest/authentication/permissions-required-for-fine-grained-personal-access-tokens
 * - organization secrets: "Secrets", "Organization dependabot secrets", "Organization codespaces secrets"
 *   organization permissions (write); classic tokens `admin:org` (and `repo` for private repositories). Creating
 *   organization secrets is an organization owner's:
 *   https://docs.github.com/en/actions/security-for-github-actions/security-guides/using-secrets-in-github-actions#creating-secrets-for-an-organization
 *   https://docs.github.com/en/rest/codespaces/organization-secrets
 * - variables: "Variables" repository or organization permissions (write), same scopes.
 *   https://docs.github.com/en/rest/actions/variables
 */
export interface AccessNeed {
  /** How messages name what is written: `Actions secrets`, `organization Dependabot secrets`. */
  readonly what: string;
  /** Where: `acme/app`, `acme/app (environment prod)`, `organization acme`. */
  readonly where: string;
  /** The classic token scope the writes need (`repo`, `admin:org`). */
  readonly classicScope: string;
  /** The sentence naming the role and the token permissions (`machineUser`: the token owner's login, if known). */
  needs(machineUser: string | undefined): string;
  /** How to set a fine-grained token up for this target (the end of an "Edit the fine-grained token: …" fix). */
  readonly fineGrained: string;
  /** How to give the machine user the role the writes need. */
  role(machineUser: string | undefined): string;
}

const STORE_NAMES: Readonly<Record<SecretStore, string>> = {
  actions: "Actions",
  dependabot: "Dependabot",
  codespaces: "Codespaces",
};

const REPOSITORY_PERMISSIONS: Readonly<Record<SecretStore, string>> = {
  actions: '"Secrets"',
  dependabot: '"Dependabot secrets"',
  codespaces: '"Codespaces secrets"',
};

const ORGANIZATION_PERMISSIONS: Readonly<Record<SecretStore, string>> = {
  actions: '"Secrets"',
  dependabot: '"Organization dependabot secrets"',
  codespaces: '"Organization codespaces secrets"',
};

function machineUserOf(machineUser: string | undefined): string {
  return machineUser === undefined ? "The machine user" : `The machine user ${machineUser}`;
}

/** `"Secrets: Read and write"` or `"Secrets: Read and write" and "Variables: Read and write"`. */
function readWrite(permissions: readonly string[]): string {
  return permissions.map((p) => `${p.slice(0, -1)}: Read and write"`).join(" and ");
}

/** `permission` or `permissions`, as many as named. */
function permissionWord(permissions: readonly string[]): string {
  return permissions.length === 1 ? "permission" : "permissions";
}

/** What writing `target`'s secrets (and variables, for a key ID kept in one) needs. */
export function accessNeed(target: Target): AccessNeed {
  const variables = target.keyIdAs === "variable";
  if (target.kind === "organization") {
    const org = target.owner;
    const store = STORE_NAMES[target.store];
    const permissions = [ORGANIZATION_PERMISSIONS[target.store], ...(variables ? ['"Variables"'] : [])];
    const selected =
      target.visibility === "selected"
        ? ", and access to the selected repositories (the rotation reads their IDs)"
        : "";
    return {
      what: `organization ${store} secrets`,
      where: `organization ${org}`,
      classicScope: "admin:org",
      needs: (machineUser) =>
        `${machineUserOf(machineUser)} needs the owner role in organization ${org} (organization secrets are an owner's to write). A fine-grained token needs ${org} as its resource owner and the organization ${permissionWord(permissions)} ${readWrite(permissions)}${selected}; a classic token needs the "admin:org" scope, and "repo" for private repositories (see ${PERMISSIONS_DOC}).`,
      fineGrained: `choose ${org} as its resource owner, and under Organization permissions set ${permissions.join(" and ")} to "Read and write"`,
      role: (machineUser) =>
        `Make ${machineUser === undefined ? "the machine user" : `the machine user ${machineUser}`} an owner of organization ${org} (organization Settings → People → Change role → Owner)`,
    };
  }
  const repo = `${target.owner}/${target.name}`;
  const store = target.kind === "environment" ? "actions" : target.store;
  const permissions = [
    ...(target.kind === "environment" ? ['"Environments"'] : []),
    REPOSITORY_PERMISSIONS[store],
    ...(variables ? ['"Variables"'] : []),
  ];
  const environment =
    target.kind === "environment" ? ` (and the environment ${target.environment} must exist in it)` : "";
  return {
    what:
      target.kind === "environment"
        ? `environment secrets${variables ? " and variables" : ""}`
        : `${STORE_NAMES[store]} secrets${variables ? " and variables" : ""}`,
    where: targetLabel(target),
    classicScope: "repo",
    needs: (machineUser) =>
      `${machineUserOf(machineUser)} needs the admin role on ${repo} (for a repository of a personal account: be its owner)${environment}. A fine-grained token also needs access to ${repo} and the repository ${permissionWord(permissions)} ${readWrite(permissions)}; a classic token needs the "repo" scope (see ${PERMISSIONS_DOC}).`,
    fineGrained: `under Repository access include ${repo}, and under Repository permissions set ${permissions.join(" and ")} to "Read and write"`,
    role: (machineUser) =>
      `Give ${machineUser === undefined ? "the machine user" : `the machine user ${machineUser}`} the admin role on ${repo} (repository Settings → Collaborators and teams, or a team with the admin role)`,
  };
}
