import type { RepoRef } from "./repo.ts";

/**
 * Where the key is written: one place a workflow (or Dependabot, or a codespace) reads the two secrets from.
 *
 * GitHub keeps secrets at three scopes, the most specific winning when names collide (environment over
 * repository over organization), and for three products ("stores"): Actions, Dependabot and Codespaces.
 * https://docs.github.com/en/actions/security-for-github-actions/security-guides/using-secrets-in-github-actions
 * https://docs.github.com/en/code-security/dependabot/working-with-dependabot/configuring-access-to-private-registries-for-dependabot
 * https://docs.github.com/en/codespaces/managing-codespaces-for-your-organization/managing-development-environment-secrets-for-your-repository-or-organization
 */
export type Target = RepositoryTarget | EnvironmentTarget | OrganizationTarget;

/** The GitHub product whose secrets a target holds. Environments exist for Actions only. */
export type SecretStore = "actions" | "dependabot" | "codespaces";

/** Which repositories of an organization see an organization secret (GitHub's `visibility`). */
export type OrgVisibility = "all" | "private" | "selected";

/** The names of the two secrets at a target. */
export interface SecretNames {
  readonly keyId: string;
  readonly secretKey: string;
}

interface TargetCommon {
  /** The user or organization that owns the repository, or the organization itself. */
  readonly owner: string;
  /** The two names at this target; undefined: the stack's pGitHubSecretName* parameters. */
  readonly secretNames?: SecretNames;
  /**
   * `"variable"`: the key ID is written as an Actions configuration variable (readable as `vars.NAME`), the secret
   * key stays a secret. Actions only (Dependabot and Codespaces have no variables). Default `"secret"`.
   */
  readonly keyIdAs?: "secret" | "variable";
}

/** A repository's own secrets for one store (`actions` is v1's only target). */
export interface RepositoryTarget extends TargetCommon {
  readonly kind: "repository";
  readonly name: string;
  readonly store: SecretStore;
}

/** An Actions environment's secrets in a repository (jobs with `environment: NAME` read these first). */
export interface EnvironmentTarget extends TargetCommon {
  readonly kind: "environment";
  readonly name: string;
  /** The environment's name as GitHub shows it (GitHub compares environment names case-insensitively). */
  readonly environment: string;
}

/** An organization secret for one store, with the repositories that see it. */
export interface OrganizationTarget extends TargetCommon {
  readonly kind: "organization";
  readonly store: SecretStore;
  readonly visibility: OrgVisibility;
  /** With `visibility: "selected"`: the repositories' names (resolved to IDs at run time); otherwise empty. */
  readonly selectedRepositories: readonly string[];
}

/**
 * The key a target's holding is remembered under in the progress object. A repository's Actions secrets keep v1's
 * key (`owner/name`, lower-cased), so every existing progress object stays valid; the other kinds have their own:
 * `owner/name@environment:prod`, `owner/name@dependabot`, `org:owner@actions`. Lower-cased: GitHub compares owner,
 * repository and environment names case-insensitively.
 */
export function targetKey(target: Target): string {
  switch (target.kind) {
    case "repository":
      return target.store === "actions"
        ? `${target.owner}/${target.name}`.toLowerCase()
        : `${target.owner}/${target.name}@${target.store}`.toLowerCase();
    case "environment":
      return `${target.owner}/${target.name}@environment:${target.environment}`.toLowerCase();
    case "organization":
      return `org:${target.owner}@${target.store}`.toLowerCase();
  }
}

/**
 * How messages name a target, as the user wrote it: `org/app` (a repository's Actions secrets), `org/app
 * (environment production)`, `org/app (Dependabot)`, `organization org (Actions)`.
 */
export function targetLabel(target: Target): string {
  const store = { actions: "Actions", dependabot: "Dependabot", codespaces: "Codespaces" } as const;
  switch (target.kind) {
    case "repository":
      return target.store === "actions"
        ? `${target.owner}/${target.name}`
        : `${target.owner}/${target.name} (${store[target.store]})`;
    case "environment":
      return `${target.owner}/${target.name} (environment ${target.environment})`;
    case "organization":
      return `organization ${target.owner} (${store[target.store]})`;
  }
}

/** The repository a repository or environment target lives in; undefined for an organization target. */
export function targetRepo(target: Target): RepoRef | undefined {
  return target.kind === "organization" ? undefined : { owner: target.owner, name: target.name };
}

/** A repository's Actions secrets: what every v1 list entry is. */
export function repositoryTarget(repo: RepoRef): RepositoryTarget {
  return { kind: "repository", owner: repo.owner, name: repo.name, store: "actions" };
}
