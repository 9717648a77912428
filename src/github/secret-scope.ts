import type { SecretStore, Target } from "../domain/target.ts";

/**
 * Where a target's secrets (and Actions variables) are in GitHub's REST API: route templates as GitHub documents
 * them, with their path parameters. The endpoints below each serve `GET …/public-key`, `GET` and `PUT
 * …/{secret_name}`; variables `POST` (create) and `GET`/`PATCH` (update) `…/{name}`.
 * - Repository secrets: https://docs.github.com/en/rest/actions/secrets#create-or-update-a-repository-secret,
 *   https://docs.github.com/en/rest/dependabot/secrets#create-or-update-a-repository-secret,
 *   https://docs.github.com/en/rest/codespaces/repository-secrets#create-or-update-a-repository-secret
 * - Environment secrets: https://docs.github.com/en/rest/actions/secrets#create-or-update-an-environment-secret
 * - Organization secrets (with `visibility` and `selected_repository_ids`):
 *   https://docs.github.com/en/rest/actions/secrets#create-or-update-an-organization-secret,
 *   https://docs.github.com/en/rest/dependabot/secrets#create-or-update-an-organization-secret,
 *   https://docs.github.com/en/rest/codespaces/organization-secrets#create-or-update-an-organization-secret
 * - Variables (Actions only: repository, environment, organization):
 *   https://docs.github.com/en/rest/actions/variables
 */
export interface SecretScope {
  /** The secrets collection, e.g. `/repos/{owner}/{repo}/environments/{environment_name}/secrets`. */
  readonly secrets: string;
  /** The variables collection; undefined where GitHub has none (Dependabot, Codespaces). */
  readonly variables: string | undefined;
  /** The path parameters of both templates. */
  readonly params: Readonly<Record<string, string>>;
}

/** The URL segment of each store's secrets. */
const STORE_SEGMENT: Readonly<Record<SecretStore, string>> = {
  actions: "actions",
  dependabot: "dependabot",
  codespaces: "codespaces",
};

/** Where `target`'s secrets and variables are (see SecretScope). */
export function secretScope(target: Target): SecretScope {
  switch (target.kind) {
    case "repository":
      return {
        secrets: `/repos/{owner}/{repo}/${STORE_SEGMENT[target.store]}/secrets`,
        variables: target.store === "actions" ? "/repos/{owner}/{repo}/actions/variables" : undefined,
        params: { owner: target.owner, repo: target.name },
      };
    case "environment":
      return {
        secrets: "/repos/{owner}/{repo}/environments/{environment_name}/secrets",
        variables: "/repos/{owner}/{repo}/environments/{environment_name}/variables",
        params: { owner: target.owner, repo: target.name, environment_name: target.environment },
      };
    case "organization":
      return {
        secrets: `/orgs/{org}/${STORE_SEGMENT[target.store]}/secrets`,
        variables: target.store === "actions" ? "/orgs/{org}/actions/variables" : undefined,
        params: { org: target.owner },
      };
  }
}
