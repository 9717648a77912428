/**
 * Which GitHub App permissions, and which repositories, a run needs for one owner's installation: installation
 * tokens are minted with exactly these, never with everything the App was granted.
 *
 * Permission names are the REST API's (the `permissions` body of POST /app/installations/{id}/access_tokens); the
 * endpoints each one opens are listed in "Permissions required for GitHub Apps":
 * https://docs.github.com/en/rest/authentication/permissions-required-for-github-apps
 * - metadata (read): GET /repos/{owner}/{repo}, GET /orgs/{org}/repos
 * - secrets: repository Actions secrets, and GET /repos/{owner}/{repo}/actions/organization-secrets (read)
 * - actions_variables: repository Actions variables
 * - environment secrets take both environments and secrets, environment variables both environments and
 *   actions_variables, at the same level (read to list them and read the public key, write to write): the page
 *   lists each environment endpoint under both permissions, marked "additional permissions", and so does each
 *   endpoint's "Fine-grained access tokens" section, e.g.
 *   https://docs.github.com/en/rest/actions/secrets#create-or-update-an-environment-secret and
 *   https://docs.github.com/en/rest/actions/variables#create-an-environment-variable
 * - actions (read): GET /repos/{owner}/{repo}/environments and …/environments/{environment_name}
 * - contents (read): GET /repos/{owner}/{repo}/contents/{path} (workflow files)
 * - dependabot_secrets: repository Dependabot secrets
 * - codespaces_secrets: repository Codespaces secrets (GitHub lists even their GETs under write)
 * - organization_secrets, organization_actions_variables, organization_dependabot_secrets,
 *   organization_codespaces_secrets: the organization's secrets and variables of each product
 * - organization_custom_properties (read): GET /orgs/{org}/properties/values
 */
import type { RepositorySelection } from "../domain/selection.ts";
import type { SecretStore, Target } from "../domain/target.ts";

export type PermissionLevel = "read" | "write";

/** Permission name (the API's, e.g. `secrets`) to level. */
export type AppPermissions = Readonly<Record<string, PermissionLevel>>;

/** What a run will touch: the list's targets, its dynamic selections, and the targets it leaves alone on purpose. */
export interface AccessScope {
  readonly targets: readonly Target[];
  readonly selections: readonly RepositorySelection[];
  /** `Unmanaged` entries: never written, but read to tell them from shadowing copies. */
  readonly unmanaged?: readonly Target[];
  /** A DryRun writes nothing: its tokens are minted read-only (the installation is still checked for writing). */
  readonly readOnly?: boolean;
}

/** The access one owner's installation token is minted with. */
export interface InstallationAccess {
  readonly owner: string;
  readonly permissions: AppPermissions;
  /**
   * Repository names (without the owner) the token is narrowed to; undefined: every repository the installation
   * may reach, for the reason in `broadBecause`.
   */
  readonly repositories: readonly string[] | undefined;
  readonly broadBecause?: string;
}

/**
 * GitHub narrows a token to at most this many repositories ("Up to 500 repositories can be listed in this manner").
 * https://docs.github.com/en/rest/apps/apps#create-an-installation-access-token-for-an-app
 */
export const MAX_TOKEN_REPOSITORIES = 500;

/**
 * How GitHub names each permission, for instructions ("Repository permissions → Secrets"): the titles of
 * https://docs.github.com/en/rest/authentication/permissions-required-for-github-apps (the organization's
 * Dependabot and Codespaces secrets are "Organization dependabot secrets" and "Organization codespaces secrets").
 */
export const PERMISSION_LABELS: Readonly<Record<string, string>> = {
  metadata: "Repository permissions → Metadata",
  secrets: "Repository permissions → Secrets",
  actions_variables: "Repository permissions → Variables",
  environments: "Repository permissions → Environments",
  actions: "Repository permissions → Actions",
  contents: "Repository permissions → Contents",
  dependabot_secrets: "Repository permissions → Dependabot secrets",
  codespaces_secrets: "Repository permissions → Codespaces secrets",
  organization_secrets: "Organization permissions → Secrets",
  organization_actions_variables: "Organization permissions → Variables",
  organization_dependabot_secrets: "Organization permissions → Organization dependabot secrets",
  organization_codespaces_secrets: "Organization permissions → Organization codespaces secrets",
  organization_custom_properties: "Organization permissions → Custom properties",
};

/** "Repository permissions → Secrets: Read and write", as the App's settings page says it. */
export function permissionLabel(name: string, level: PermissionLevel): string {
  return `${PERMISSION_LABELS[name] ?? name}: ${level === "write" ? "Read and write" : "Read-only"}`;
}

/** The write permission of each product's secrets at a repository and at an organization. */
const STORE_PERMISSION: Readonly<Record<SecretStore, { repository: string; organization: string }>> = {
  actions: { repository: "secrets", organization: "organization_secrets" },
  dependabot: { repository: "dependabot_secrets", organization: "organization_dependabot_secrets" },
  codespaces: { repository: "codespaces_secrets", organization: "organization_codespaces_secrets" },
};

/**
 * Reading the copies a more specific scope may hold (the shadowing check): for Actions, an environment's secrets
 * over the repository's, found through the repository's environments and the workflow files that use them; for
 * Dependabot and Codespaces, the repository's own secrets over the organization's.
 */
const SHADOW_READS: Readonly<Record<SecretStore, AppPermissions>> = {
  // Listing an environment's secrets takes environments and secrets (read); the targets that read them hold secrets.
  actions: { actions: "read", environments: "read", contents: "read" },
  dependabot: {},
  codespaces: {},
};

/** Permissions one target needs: its writes, what preflight reads about it, and the shadowing check's reads. */
export function targetPermissions(target: Target): AppPermissions {
  const variable = target.keyIdAs === "variable";
  switch (target.kind) {
    case "repository":
      return {
        metadata: "read",
        [STORE_PERMISSION[target.store].repository]: "write",
        ...(variable ? { actions_variables: "write" } : {}),
        ...SHADOW_READS[target.store],
      };
    case "environment":
      // An environment's secrets take environments and secrets, its variables environments and actions_variables
      // (see the module comment); preflight reads the environment itself, which takes actions.
      return {
        metadata: "read",
        environments: "write",
        secrets: "write",
        ...(variable ? { actions_variables: "write" } : {}),
        actions: "read",
      };
    case "organization": {
      const repositoryLevel = STORE_PERMISSION[target.store].repository;
      return {
        metadata: "read",
        [STORE_PERMISSION[target.store].organization]: "write",
        ...(variable ? { organization_actions_variables: "write", actions_variables: "read" } : {}),
        // Repository copies of the same names shadow the organization's; Codespaces has no read-only level.
        [repositoryLevel]: target.store === "codespaces" ? "write" : "read",
        ...SHADOW_READS[target.store],
      };
    }
  }
}

/** Permissions a dynamic selection needs: listing the organization's repositories, then writing what it finds. */
function selectionPermissions(selection: RepositorySelection): AppPermissions {
  const found = targetPermissions({
    kind: "repository",
    owner: selection.owner,
    name: "(selected)",
    store: selection.store,
    ...(selection.keyIdAs === undefined ? {} : { keyIdAs: selection.keyIdAs }),
  });
  return "property" in selection.by ? { ...found, organization_custom_properties: "read" } : found;
}

/** An unmanaged target is only read (to tell it from a shadowing copy). */
function unmanagedPermissions(target: Target): AppPermissions {
  if (target.kind === "environment") {
    return { metadata: "read", environments: "read", secrets: "read", actions: "read" };
  }
  if (target.kind === "organization") return { metadata: "read" };
  const permission = STORE_PERMISSION[target.store].repository;
  return { metadata: "read", [permission]: target.store === "codespaces" ? "write" : "read" };
}

/** Permissions GitHub offers no read-only level of (its table lists even their GETs under write). */
const WRITE_ONLY_PERMISSIONS: ReadonlySet<string> = new Set(["codespaces_secrets"]);

/** The same permissions, each read-only where GitHub has a read-only level (for a DryRun's tokens). */
export function readOnlyPermissions(permissions: AppPermissions): AppPermissions {
  return Object.fromEntries(
    Object.entries(permissions).map(([name, level]) => [
      name,
      WRITE_ONLY_PERMISSIONS.has(name) ? level : "read",
    ]),
  );
}

/** The higher of two levels for every permission either names. */
export function mergePermissions(a: AppPermissions, b: AppPermissions): AppPermissions {
  const merged: Record<string, PermissionLevel> = { ...a };
  for (const [name, level] of Object.entries(b)) {
    merged[name] = merged[name] === "write" || level === "write" ? "write" : "read";
  }
  return merged;
}

/**
 * `scope` without its Codespaces entries, for GitHub Enterprise Server: it has no Codespaces (so no App can hold
 * a Codespaces permission there), and preflight refuses those entries by name (secrets-target, enterprise-server).
 * Asking the installation for them would only fail the owner's other targets with a fix that cannot be followed.
 */
export function withoutCodespaces(scope: AccessScope): AccessScope {
  const notCodespaces = (entry: Target | RepositorySelection) =>
    !("store" in entry) || entry.store !== "codespaces";
  return {
    ...scope,
    targets: scope.targets.filter(notCodespaces),
    selections: scope.selections.filter(notCodespaces),
    ...(scope.unmanaged === undefined ? {} : { unmanaged: scope.unmanaged.filter(notCodespaces) }),
  };
}

/**
 * The permissions and repositories one owner's installation token needs for `scope` (owners compared
 * case-insensitively, as GitHub does). The token is narrowed to the named repositories unless the run must reach
 * repositories it cannot name in advance: an organization secret visible to all (or all private) repositories
 * (the shadowing check reads every one of them), a dynamic selection (resolved at run time), or more repositories
 * than GitHub narrows a token to.
 */
export function installationAccess(scope: AccessScope, owner: string): InstallationAccess {
  const mine = (entry: { readonly owner: string }) => entry.owner.toLowerCase() === owner.toLowerCase();
  const targets = scope.targets.filter(mine);
  const selections = scope.selections.filter(mine);
  const unmanaged = (scope.unmanaged ?? []).filter(mine);

  let permissions: AppPermissions = {};
  for (const target of targets) permissions = mergePermissions(permissions, targetPermissions(target));
  for (const selection of selections)
    permissions = mergePermissions(permissions, selectionPermissions(selection));
  for (const target of unmanaged) permissions = mergePermissions(permissions, unmanagedPermissions(target));

  const names = new Map<string, string>();
  const add = (name: string) => {
    if (!names.has(name.toLowerCase())) names.set(name.toLowerCase(), name);
  };
  for (const target of [...targets, ...unmanaged]) {
    if (target.kind === "organization") target.selectedRepositories.forEach(add);
    else add(target.name);
  }

  const broadBecause = ((): string | undefined => {
    const everyRepository = targets.find((t) => t.kind === "organization" && t.visibility !== "selected");
    if (everyRepository !== undefined) {
      return `an organization secret of ${owner} is visible to ${everyRepository.kind === "organization" && everyRepository.visibility === "private" ? "all private" : "all"} repositories, and the shadowing check reads each of them`;
    }
    if (selections.length > 0)
      return `the list selects repositories of ${owner} by topic or property, found at run time`;
    if (names.size > MAX_TOKEN_REPOSITORIES) {
      return `the list names ${names.size} repositories of ${owner}; GitHub narrows a token to at most ${MAX_TOKEN_REPOSITORIES}`;
    }
    if (names.size === 0) return `the list names no repository of ${owner}`;
    return undefined;
  })();
  return {
    owner,
    permissions,
    repositories: broadBecause === undefined ? [...names.values()] : undefined,
    ...(broadBecause === undefined ? {} : { broadBecause }),
  };
}

/**
 * The permissions `needed` that `granted` (an installation's, from GitHub) lacks or grants only for reading, as
 * labels for a message; empty when the installation may mint the token.
 */
export function missingPermissions(
  needed: AppPermissions,
  granted: Readonly<Record<string, unknown>>,
): string[] {
  return Object.entries(needed)
    .filter(([name, level]) => {
      const has = granted[name];
      return !(has === "write" || has === "admin" || (level === "read" && has === "read"));
    })
    .map(([name, level]) => permissionLabel(name, level));
}
