/**
 * The R1 view across scopes: what a job would read for a secret (or configuration variable) name, by GitHub's
 * precedence. "If a secret with the same name exists at multiple levels, the secret at the lowest level takes
 * precedence. [...] if an organization, repository, and environment all have a secret with the same name, the
 * environment-level secret takes precedence."
 * https://docs.github.com/en/actions/security-for-github-actions/security-guides/about-secrets
 * Variables follow the same rule ("the variable at the lowest level takes precedence"):
 * https://docs.github.com/en/actions/writing-workflows/choosing-what-your-workflow-does/store-information-in-variables
 *
 * An organization secret counts only if the repository sees it (`visibility`, REST "Create or update an
 * organization secret": `all`, `private` — private and internal repositories —, or `selected` by repository ID):
 * https://docs.github.com/en/rest/actions/secrets#create-or-update-an-organization-secret
 * Not modelled: GitHub Free organizations, whose private repositories cannot use organization secrets.
 */
import type { SecretScope, SecretStore } from "./scopes.ts";
import { type EmulatorState, isPrivate, type OrgAccess, type RepoRecord } from "./state.ts";

/** A job: in a repository, optionally with `environment:` (Actions only), for one store. */
export interface JobContext {
  readonly owner: string;
  readonly repo: string;
  /** The job's `environment:`; Actions only. */
  readonly environment?: string;
  /** Default `actions`. Dependabot-triggered workflows read Dependabot secrets; codespaces read Codespaces'. */
  readonly store?: SecretStore;
}

/** What a job would read, and from where. */
export interface EffectiveValue {
  readonly value: string;
  readonly scope: SecretScope;
}

/** Whether an organization secret or variable with this access is visible to a repository of the organization. */
export function visibleTo(access: OrgAccess, repo: RepoRecord): boolean {
  switch (access.visibility) {
    case "all":
      return true;
    case "private":
      return isPrivate(repo);
    case "selected":
      return access.selected.has(repo.id);
  }
}

/** The scopes a job reads from, most specific first. Throws (naming the problem) for a job that cannot exist. */
function scopesFor(state: EmulatorState, job: JobContext): { repo: RepoRecord; scopes: SecretScope[] } {
  const store = job.store ?? "actions";
  const repo = state.requireRepo(job.owner, job.repo);
  if (job.environment !== undefined && store !== "actions") {
    throw new Error(`github-emulator: environments hold Actions secrets only, not ${store} secrets`);
  }
  const scopes: SecretScope[] = [];
  if (job.environment !== undefined) {
    const environment = state.requireEnvironment(repo, job.environment);
    scopes.push({ kind: "environment", owner: repo.owner, repo: repo.name, environment: environment.name });
  }
  scopes.push({ kind: "repository", owner: repo.owner, repo: repo.name, store });
  const org = state.findOrg(repo.owner);
  if (org !== undefined) scopes.push({ kind: "organization", org: org.login, store });
  return { repo, scopes };
}

/**
 * What a job in `job.owner/job.repo` (optionally in `job.environment`, for `job.store`) would read for a secret
 * name, and from which scope; undefined when no scope it sees holds the name. Throws when the repository or the
 * environment does not exist.
 */
export function effectiveSecret(
  state: EmulatorState,
  job: JobContext,
  name: string,
): EffectiveValue | undefined {
  const { repo, scopes } = scopesFor(state, job);
  for (const scope of scopes) {
    const value = state.boxAt(scope)?.value(name);
    if (value === undefined) continue;
    if (scope.kind === "organization") {
      const access = state.requireOrg(scope.org).secretAccess[scope.store].get(name.toUpperCase());
      if (access === undefined || !visibleTo(access, repo)) continue;
    }
    return { value, scope };
  }
  return undefined;
}

/** Like `effectiveSecret`, for an Actions configuration variable (`vars.NAME`). */
export function effectiveVariable(
  state: EmulatorState,
  job: Omit<JobContext, "store">,
  name: string,
): EffectiveValue | undefined {
  const { repo, scopes } = scopesFor(state, job);
  for (const scope of scopes) {
    const variable = state.requireVariablesAt(scope).get(name);
    if (variable === undefined) continue;
    if (scope.kind === "organization") {
      const access = state.requireOrg(scope.org).variableAccess.get(variable.name);
      if (access === undefined || !visibleTo(access, repo)) continue;
    }
    return { value: variable.value, scope };
  }
  return undefined;
}
