import type { OwnerAllowList } from "../config/owner-allow-list.ts";
import { repositoryTarget } from "../domain/target.ts";
import type { ConfigStore, ListedTargets, TargetList } from "../ports.ts";
import { loadReposConfig } from "./preflight.ts";

/**
 * The targets repos.json names, read from the config store (S3) and parsed with `parseReposConfig`, in list order;
 * with `ownersChecked`, a list that names an owner `allowedOwners` (pAllowedGitHubOwners) does not allow is refused.
 */
export class ParsedTargetList implements TargetList {
  readonly #store: ConfigStore;
  readonly #allowedOwners: OwnerAllowList;

  constructor(store: ConfigStore, allowedOwners: OwnerAllowList) {
    this.#store = store;
    this.#allowedOwners = allowedOwners;
  }

  get location(): string {
    return this.#store.location;
  }

  async load(options: { readonly ownersChecked: boolean }): Promise<ListedTargets> {
    const { config } = await loadReposConfig(
      this.#store,
      options.ownersChecked ? this.#allowedOwners : undefined,
    );
    // Bridge until the list parser returns targets itself (issue 10, list format): every entry of today's list is
    // a repository's Actions secrets.
    return { targets: config.repos.map(repositoryTarget) };
  }
}
