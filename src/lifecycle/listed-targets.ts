import type { OwnerAllowList } from "../config/owner-allow-list.ts";
import type { ConfigStore, ListedTargets, TargetList } from "../ports.ts";
import { loadReposConfig } from "./preflight.ts";

/**
 * The targets repos.json names and its selections, read from the config store (S3) and parsed with
 * `parseReposConfig`, in list order; with `ownersChecked`, a list that names an owner `allowedOwners`
 * (pAllowedGitHubOwners) does not allow is refused.
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
    return { targets: config.targets, unmanaged: config.unmanaged, selections: config.selections };
  }
}
