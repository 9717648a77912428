import type { OwnerAllowList } from "../config/owner-allow-list.ts";
import { selectionLabel } from "../domain/selection.ts";
import { AkmError } from "../errors.ts";
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
    if (config.selections.length > 0) {
      const count = config.selections.length;
      throw new AkmError(
        `The repository list ${this.location} selects repositories by topic or property (${config.selections.map(selectionLabel).slice(0, 5).join(", ")}${count > 5 ? ` and ${count - 5} more` : ""}), which this build's rotation does not resolve yet. Nothing was changed.`,
        {
          fix: "Name those repositories one by one instead (Add-RepoConfig), or remove the selections (Delete-RepoConfig).",
          fault: "user",
        },
      );
    }
    return { targets: config.targets };
  }
}
