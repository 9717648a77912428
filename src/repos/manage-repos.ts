import { MAX_REPOS, parseReposConfig, renderReposConfig } from "../config/repos-config.ts";
import type { RepoRef } from "../domain/repo.ts";
import { repoLabel, repoSlug } from "../domain/repo.ts";
import { ConfigError, toAkmError } from "../errors.ts";
import { OutcomeRecorder, type RunOutcome } from "../lifecycle/outcome.ts";
import { loadReposConfig } from "../lifecycle/preflight.ts";
import type { ConfigStore } from "../ports.ts";

/** Get-RepoList: shows the repositories in repos.json. */
export async function listRepos(store: ConfigStore): Promise<RunOutcome> {
  const report = new OutcomeRecorder("list-repos", false);
  try {
    const { config } = await loadReposConfig(store);
    for (const repo of config.repos) report.repo({ repo: repoLabel(repo), result: "listed", detail: "" });
    return report.finish("Succeeded", `${config.repos.length} repositories listed in ${store.location}:`);
  } catch (error) {
    return report.finish("Failed", "Get-RepoList Failed.", toAkmError(error, "Reading the repository list"));
  }
}

/**
 * Add-RepoConfig: appends a repository. Adding one that is already listed (case-insensitively, as GitHub
 * compares names) is a successful no-op. A missing repos.json is created; an invalid one is left untouched.
 */
export async function addRepo(store: ConfigStore, repo: RepoRef): Promise<RunOutcome> {
  return editRepos(store, "add-repo", repo, (repos, present) =>
    present ? undefined : [...repos, { owner: repo.owner, name: repo.name }],
  );
}

/** Delete-RepoConfig: removes a repository; removing one that is not listed is a successful no-op. */
export async function deleteRepo(store: ConfigStore, repo: RepoRef): Promise<RunOutcome> {
  return editRepos(store, "delete-repo", repo, (repos, present) =>
    present ? repos.filter((r) => repoSlug(r) !== repoSlug(repo)) : undefined,
  );
}

async function editRepos(
  store: ConfigStore,
  action: "add-repo" | "delete-repo",
  repo: RepoRef,
  edit: (repos: readonly RepoRef[], present: boolean) => readonly RepoRef[] | undefined,
): Promise<RunOutcome> {
  const report = new OutcomeRecorder(action, false);
  const label = repoLabel(repo);
  try {
    const document = await store.read();
    // A missing list may be created by Add; an existing one must parse, or it is left exactly as it is.
    const repos = document ? parseReposConfig(document.text, store.location).repos : [];
    const present = repos.some((r) => repoSlug(r) === repoSlug(repo));
    const next = edit(repos, present);
    if (!next) {
      return report.finish(
        "Succeeded",
        action === "add-repo"
          ? `${label} is already listed in ${store.location}; nothing changed.`
          : `${label} is not listed in ${store.location}; nothing changed.`,
      );
    }
    if (next.length === 0) {
      return report.finish(
        "Failed",
        `Delete-RepoConfig Failed: ${label} is the last repository in ${store.location}; an empty list would make every rotation fail.`,
        undefined,
      );
    }
    if (next.length > MAX_REPOS) {
      throw new ConfigError(
        store.location,
        [
          `adding ${label} would list ${next.length} repositories, more than the ${MAX_REPOS} one stack rotates`,
        ],
        "Split the repositories over several stacks, each with its own IAM user.",
      );
    }
    await store.write(renderReposConfig({ repos: next }), document?.version);
    return report.finish(
      "Succeeded",
      action === "add-repo"
        ? `Added ${label} to ${store.location} (${next.length} repositories). The next rotation writes the key to it.`
        : `Removed ${label} from ${store.location} (${next.length} repositories). Its secrets are left as they are.`,
    );
  } catch (error) {
    const verb = action === "add-repo" ? "Add-RepoConfig" : "Delete-RepoConfig";
    return report.finish(
      "Failed",
      `${verb} Failed; ${store.location} was not changed.`,
      toAkmError(error, verb),
    );
  }
}
