import { Octokit } from "@octokit/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { GitHubEmulator, SecretScope } from "../../scripts/local-stack/github-emulator/index.ts";
import { OWNER, REPO, seal, startEmulatorWithRepo, WRITE_TOKEN } from "./helpers.ts";

const ORG_ACTIONS: SecretScope = { kind: "organization", org: OWNER, store: "actions" };
const REPO_ACTIONS: SecretScope = { kind: "repository", owner: OWNER, repo: REPO, store: "actions" };
const PROD: SecretScope = { kind: "environment", owner: OWNER, repo: REPO, environment: "production" };
const NAME = "AWS_ACCESS_KEY_ID";

describe("the R1 view: what a job would read, by GitHub's precedence", () => {
  let github: GitHubEmulator;

  beforeEach(async () => {
    github = await startEmulatorWithRepo();
    github.addOrg(OWNER);
    github.addRepo(OWNER, "site", { private: false });
    github.addEnvironment(OWNER, REPO, "production");
  });

  afterEach(async () => {
    expect(github.violations).toEqual([]);
    await github.close();
  });

  it("reads the environment's secret over the repository's over the organization's", () => {
    // Prepare
    github.setSecretAt(ORG_ACTIONS, NAME, "AKIAORG", { visibility: "all" });
    github.setSecretAt(REPO_ACTIONS, NAME, "AKIAREPO");
    github.setSecretAt(PROD, NAME, "AKIAENV");

    // Act
    const inProduction = github.effectiveSecret(
      { owner: OWNER, repo: REPO, environment: "Production" },
      NAME,
    );
    const withoutEnvironment = github.effectiveSecret({ owner: OWNER, repo: REPO }, NAME);
    github.deleteSecretAt(REPO_ACTIONS, NAME);
    const afterRepoSecretDeleted = github.effectiveSecret({ owner: OWNER, repo: REPO }, NAME);

    // Assess
    expect(inProduction).toEqual({ value: "AKIAENV", scope: PROD });
    expect(withoutEnvironment).toEqual({ value: "AKIAREPO", scope: REPO_ACTIONS });
    expect(afterRepoSecretDeleted).toEqual({ value: "AKIAORG", scope: ORG_ACTIONS });
  });

  it("counts an organization secret only for the repositories its visibility lets see it", () => {
    // Prepare
    github.setSecretAt(ORG_ACTIONS, NAME, "AKIAPRIVATE", { visibility: "private" });
    github.setSecretAt(ORG_ACTIONS, "SELECTED", "s", { visibility: "selected", repositories: [REPO] });

    // Act
    const publicRepo = github.effectiveSecret({ owner: OWNER, repo: "site" }, NAME);
    const privateRepo = github.effectiveSecret({ owner: OWNER, repo: REPO }, NAME);
    const selected = github.effectiveSecret({ owner: OWNER, repo: REPO }, "SELECTED");
    const notSelected = github.effectiveSecret({ owner: OWNER, repo: "site" }, "SELECTED");

    // Assess
    expect(publicRepo).toBeUndefined();
    expect(privateRepo?.value).toBe("AKIAPRIVATE");
    expect(selected?.value).toBe("s");
    expect(notSelected).toBeUndefined();
  });

  it("reads a store's own secrets only: a Dependabot job never sees Actions secrets", () => {
    // Prepare
    github.setSecretAt(REPO_ACTIONS, NAME, "AKIAACTIONS");
    github.setSecretAt({ kind: "organization", org: OWNER, store: "dependabot" }, NAME, "AKIADEPENDABOT");

    // Act
    const dependabot = github.effectiveSecret({ owner: OWNER, repo: REPO, store: "dependabot" }, NAME);
    const codespaces = github.effectiveSecret({ owner: OWNER, repo: REPO, store: "codespaces" }, NAME);

    // Assess
    expect(dependabot).toEqual({
      value: "AKIADEPENDABOT",
      scope: { kind: "organization", org: OWNER, store: "dependabot" },
    });
    expect(codespaces).toBeUndefined();
  });

  it("applies the same precedence to Actions variables", () => {
    // Prepare
    github.setVariableAt(ORG_ACTIONS, NAME, "AKIAORGVAR", { visibility: "selected", repositories: ["site"] });
    github.setVariableAt(PROD, NAME, "AKIAENVVAR");

    // Act
    const site = github.effectiveVariable({ owner: OWNER, repo: "site" }, NAME);
    const appWithoutEnvironment = github.effectiveVariable({ owner: OWNER, repo: REPO }, NAME);
    const appInProduction = github.effectiveVariable(
      { owner: OWNER, repo: REPO, environment: "production" },
      NAME,
    );

    // Assess
    expect(site?.value).toBe("AKIAORGVAR");
    expect(appWithoutEnvironment).toBeUndefined();
    expect(appInProduction?.value).toBe("AKIAENVVAR");
  });

  it("fails fast on a job that cannot exist: an unknown environment, or an environment for Dependabot", () => {
    expect(() => github.effectiveSecret({ owner: OWNER, repo: REPO, environment: "qa" }, NAME)).toThrow(
      "github-emulator: repository octo-org/app has no environment qa; call addEnvironment() first",
    );
    expect(() =>
      github.effectiveSecret(
        { owner: OWNER, repo: REPO, environment: "production", store: "dependabot" },
        NAME,
      ),
    ).toThrow("environments hold Actions secrets only");
  });

  it("lets the write hook check after every write, at any scope, what each job reads", async () => {
    // Prepare: the hook records what a production job and a plain job of the repository read after each write.
    const seen: (string | undefined)[][] = [];
    github.setSecretWrittenHook(() => {
      seen.push([
        github.effectiveSecret({ owner: OWNER, repo: REPO, environment: "production" }, NAME)?.value,
        github.effectiveSecret({ owner: OWNER, repo: REPO }, NAME)?.value,
      ]);
    });
    const octokit = new Octokit({ auth: WRITE_TOKEN, baseUrl: github.url });
    const orgKey = github.publicKeyAt(ORG_ACTIONS);
    const envKey = github.publicKeyAt(PROD);

    // Act
    await octokit.request("PUT /orgs/{org}/actions/secrets/{secret_name}", {
      org: OWNER,
      secret_name: NAME,
      encrypted_value: seal("AKIANEW", orgKey.key),
      key_id: orgKey.keyId,
      visibility: "selected",
      selected_repository_ids: [],
    });
    await octokit.request("PUT /orgs/{org}/actions/secrets/{secret_name}/repositories/{repository_id}", {
      org: OWNER,
      secret_name: NAME,
      repository_id: github.repoId(OWNER, REPO),
    });
    await octokit.request("PUT /repos/{owner}/{repo}/environments/{environment_name}/secrets/{secret_name}", {
      owner: OWNER,
      repo: REPO,
      environment_name: "production",
      secret_name: NAME,
      encrypted_value: seal("AKIAPROD", envKey.key),
      key_id: envKey.keyId,
    });

    // Assess
    expect(seen).toEqual([
      [undefined, undefined],
      ["AKIANEW", "AKIANEW"],
      ["AKIAPROD", "AKIANEW"],
    ]);
    expect(github.holdersOf(NAME).map((holding) => holding.scope)).toEqual([ORG_ACTIONS, PROD]);
  });
});
