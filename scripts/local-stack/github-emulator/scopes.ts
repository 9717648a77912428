/**
 * Where a secret or variable lives on the emulated GitHub: a repository (per store), one of its environments, or an
 * organization (per store). GitHub keeps secrets at these three levels and for three products ("stores").
 * https://docs.github.com/en/actions/security-for-github-actions/security-guides/about-secrets
 * Variables are Actions-only: their scopes use store `actions`.
 * https://docs.github.com/en/actions/writing-workflows/choosing-what-your-workflow-does/store-information-in-variables
 */

/** The GitHub product whose secrets a scope holds. Environments exist for Actions only. */
export type SecretStore = "actions" | "dependabot" | "codespaces";

/** Every store, in GitHub's order. */
export const SECRET_STORES: readonly SecretStore[] = ["actions", "dependabot", "codespaces"];

/** Which repositories of an organization see an organization secret or variable (GitHub's `visibility`). */
export type OrgVisibility = "all" | "private" | "selected";

/** A place that holds secrets (and, for store `actions`, variables). */
export type SecretScope =
  | {
      readonly kind: "repository";
      readonly owner: string;
      readonly repo: string;
      readonly store: SecretStore;
    }
  | {
      readonly kind: "environment";
      readonly owner: string;
      readonly repo: string;
      /** Compared case-insensitively, like GitHub. */
      readonly environment: string;
    }
  | { readonly kind: "organization"; readonly org: string; readonly store: SecretStore };

/** `octo/app (actions)`, `octo/app (environment prod)`, `organization octo (dependabot)`: for messages. */
export function scopeLabel(scope: SecretScope): string {
  switch (scope.kind) {
    case "repository":
      return `${scope.owner}/${scope.repo} (${scope.store})`;
    case "environment":
      return `${scope.owner}/${scope.repo} (environment ${scope.environment})`;
    case "organization":
      return `organization ${scope.org} (${scope.store})`;
  }
}

/** The store a scope belongs to (environments: Actions). */
export function scopeStore(scope: SecretScope): SecretStore {
  return scope.kind === "environment" ? "actions" : scope.store;
}
