import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type GitHubEmulator, startGitHubEmulator } from "../../scripts/local-stack/github-emulator/index.ts";
import { parseGitHubCredential } from "../../src/config/github-credential.ts";
import { SecretValue } from "../../src/domain/secret-value.ts";
import type { OrganizationTarget, Target } from "../../src/domain/target.ts";
import { GitHubAccessError, GitHubRateLimitError } from "../../src/errors.ts";
import { createGitHubClient } from "../../src/github/client.ts";
import { createGitHubConnection } from "../../src/github/github-connection.ts";
import { GitHubSecretInventory, MAX_WORKFLOW_FILES } from "../../src/github/secret-inventory.ts";
import { checkShadowing } from "../../src/lifecycle/shadowing.ts";
import { systemClock } from "../../src/ports.ts";
import { FakeClock } from "../support/fakes.ts";

const ORG = "octo-org";
const TOKEN = "ghp_inventoryTokenForTests000000000000";
const NAMES = { keyId: "AWS_ACCESS_KEY_ID", secretKey: "AWS_SECRET_ACCESS_KEY" };
const DEPLOY = `
on: push
jobs:
  test: { runs-on: ubuntu-latest, steps: [{ run: make test }] }
  release: { runs-on: ubuntu-latest, environment: production, steps: [{ run: make deploy }] }
`;

let github: GitHubEmulator;
let repoCount = 0;

beforeAll(async () => {
  github = await startGitHubEmulator();
  github.addOrg(ORG);
  github.addToken(TOKEN, { login: "rotator-bot", repos: "all", permission: "write" });
});

afterAll(async () => {
  await github.close();
});

afterEach(() => {
  // Assess (every test): every request and answer matched GitHub's API description.
  expect(github.violations).toEqual([]);
});

function inventory(on: GitHubEmulator = github): GitHubSecretInventory {
  const client = createGitHubClient({
    token: new SecretValue(TOKEN),
    baseUrl: on.url,
    userAgent: "aws-github-akm-test",
    secondMs: 1,
  });
  return new GitHubSecretInventory({ clientFor: async () => client, tokenSecretName: "test/github-token" });
}

/** A fresh repository of the organization per test. */
function newRepo(
  options: { private?: boolean; visibility?: "public" | "private" | "internal" } = {},
): string {
  repoCount++;
  const name = `inv-${repoCount}`;
  github.addRepo(ORG, name, options);
  return name;
}

describe("GitHubSecretInventory against GitHub's API description", () => {
  it("lists every environment of a repository over several pages, counting each page", async () => {
    // Prepare
    const repo = newRepo();
    for (let i = 0; i < 120; i++) github.addEnvironment(ORG, repo, `env-${i}`);
    const subject = inventory();

    // Act
    const environments = await subject.environments({ owner: ORG, name: repo });

    // Assess
    expect(environments).toHaveLength(120);
    expect(subject.usage().requests).toBe(2);
  });

  it("reads the environments again when one is deleted between two pages, and misses none that stayed", async () => {
    // Prepare: GitHub pages by offset; deleting env-0 after page 1 moves env-100 onto page 1, so page 2 starts past it.
    const repo = newRepo();
    for (let i = 0; i < 150; i++) github.addEnvironment(ORG, repo, `env-${i}`);
    let listings = 0;
    github.setServedHook((request) => {
      if (request.operationId !== "repos/get-all-environments") return;
      listings++;
      if (listings === 1) github.deleteEnvironment(ORG, repo, "env-0");
    });
    const subject = inventory();

    // Act
    const environments = await subject.environments({ owner: ORG, name: repo }).finally(() => {
      github.setServedHook(undefined);
    });

    // Assess: the first reading (149 items, pages counting 150 and 149) was read again.
    expect(environments).toHaveLength(149);
    expect(environments).toContain("env-100");
    expect(environments).not.toContain("env-0");
    expect(subject.usage().requests).toBe(4);
  });

  it("fails as a transient fault, saying why, when the environments change between pages at every reading", async () => {
    // Prepare
    const repo = newRepo();
    for (let i = 0; i < 150; i++) github.addEnvironment(ORG, repo, `env-${i}`);
    let listings = 0;
    let deleted = 0;
    github.setServedHook((request) => {
      if (request.operationId !== "repos/get-all-environments") return;
      // Every reading is two pages: delete one environment after each reading's first.
      if (listings++ % 2 === 0) github.deleteEnvironment(ORG, repo, `env-${deleted++}`);
    });
    const subject = inventory();

    // Act
    const failure = await subject
      .environments({ owner: ORG, name: repo })
      .then(
        () => undefined,
        (error: unknown) => error,
      )
      .finally(() => {
        github.setServedHook(undefined);
      });

    // Assess
    expect(failure).toBeInstanceOf(GitHubAccessError);
    expect(failure).toMatchObject({ fault: "transient", repo: `${ORG}/${repo}` });
    expect(String((failure as Error).message)).toMatch(
      /GET environments of octo-org\/inv-\d+ changed while they were read, 3 times in a row .*Nothing was changed\./,
    );
    expect(deleted).toBe(3);
  });

  it("takes a listing whose count differs from its items when two readings in a row agree", async () => {
    // Prepare: an answer whose total_count is one more than the environments it lists, at every reading.
    const repo = newRepo();
    for (let i = 0; i < 120; i++) github.addEnvironment(ORG, repo, `env-${i}`);
    const client = createGitHubClient({
      token: new SecretValue(TOKEN),
      baseUrl: github.url,
      userAgent: "aws-github-akm-test",
      secondMs: 1,
    });
    client.hook.after("request", (response) => {
      const data = response.data as { total_count?: unknown };
      if (typeof data.total_count === "number") data.total_count += 1;
    });
    const subject = new GitHubSecretInventory({
      clientFor: async () => client,
      tokenSecretName: "test/github-token",
    });

    // Act
    const environments = await subject.environments({ owner: ORG, name: repo });

    // Assess: read twice (two pages each), then taken.
    expect(environments).toHaveLength(120);
    expect(subject.usage().requests).toBe(4);
  });

  it("reads the names of secrets and variables at every scope, never their values", async () => {
    // Prepare
    const repo = newRepo();
    github.addEnvironment(ORG, repo, "production");
    github.setSecretAt(
      { kind: "environment", owner: ORG, repo, environment: "production" },
      "ENV_SECRET",
      "v",
    );
    github.setVariableAt(
      { kind: "environment", owner: ORG, repo, environment: "production" },
      "ENV_VAR",
      "v",
    );
    github.setSecretAt({ kind: "repository", owner: ORG, repo, store: "dependabot" }, "DEP_SECRET", "v");
    github.setSecretAt({ kind: "repository", owner: ORG, repo, store: "codespaces" }, "CS_SECRET", "v");
    github.setVariableAt({ kind: "repository", owner: ORG, repo, store: "actions" }, "REPO_VAR", "v");
    const subject = inventory();
    const ref = { owner: ORG, name: repo };

    // Act
    const names = await Promise.all([
      subject.names({ kind: "environment", repo: ref, environment: "production" }, "secret"),
      subject.names({ kind: "environment", repo: ref, environment: "production" }, "variable"),
      subject.names({ kind: "repository", repo: ref, store: "dependabot" }, "secret"),
      subject.names({ kind: "repository", repo: ref, store: "codespaces" }, "secret"),
      subject.names({ kind: "repository", repo: ref, store: "actions" }, "variable"),
      subject.names({ kind: "repository", repo: ref, store: "dependabot" }, "variable"),
    ]);

    // Assess: Dependabot has no variables, so nothing is asked for them.
    expect(names).toEqual([["ENV_SECRET"], ["ENV_VAR"], ["DEP_SECRET"], ["CS_SECRET"], ["REPO_VAR"], []]);
    expect(subject.usage().requests).toBe(5);
  });

  it("finds the repositories an organization secret reaches for each visibility", async () => {
    // Prepare
    const open = newRepo({ private: false });
    const closed = newRepo({ private: true });
    const internal = newRepo({ visibility: "internal" });
    const subject = inventory();
    const target = (visibility: "all" | "private" | "selected") =>
      ({
        kind: "organization",
        owner: ORG,
        store: "actions",
        visibility,
        selectedRepositories: visibility === "selected" ? [open] : [],
      }) as const;

    // Act
    const all = (await subject.repositoriesSeeing(target("all"))).repos.map((r) => r.name);
    const privateOnes = (await subject.repositoriesSeeing(target("private"))).repos.map((r) => r.name);
    const requestsBefore = subject.usage().requests;
    const selected = (await subject.repositoriesSeeing(target("selected"))).repos.map((r) => r.name);

    // Assess
    expect(all).toEqual(expect.arrayContaining([open, closed, internal]));
    expect(privateOnes).toEqual(expect.arrayContaining([closed, internal]));
    expect(privateOnes).not.toContain(open);
    expect(selected).toEqual([open]);
    expect(subject.usage().requests).toBe(requestsBefore);
  });

  it("reads the workflow files (.yml and .yaml only) from the default branch, and none where there are none", async () => {
    // Prepare
    const repo = newRepo();
    const bare = newRepo();
    github.setWorkflow(ORG, repo, "deploy.yml", DEPLOY);
    github.setWorkflow(ORG, repo, "lint.yaml", "on: push\njobs:\n  lint: { runs-on: x }\n");
    github.setWorkflow(ORG, repo, "README.md", "not a workflow");
    const subject = inventory();

    // Act
    const files = await subject.workflows({ owner: ORG, name: repo });
    const none = await subject.workflows({ owner: ORG, name: bare });
    const missing = await subject.workflow({ owner: ORG, name: repo }, ".github/workflows/gone.yml", "main");

    // Assess
    expect(files.map((file) => [file.path, file.jobs.map((job) => job.id)])).toEqual([
      [".github/workflows/deploy.yml", ["test", "release"]],
      [".github/workflows/lint.yaml", ["lint"]],
    ]);
    expect(none).toEqual([]);
    expect(missing).toBeUndefined();
  });

  it("reads at most MAX_WORKFLOW_FILES workflow files of a repository, and reports the rest as not read", async () => {
    // Prepare: someone who may push to the repository added a workflow file more than the check reads.
    const repo = newRepo();
    for (let i = 0; i <= MAX_WORKFLOW_FILES; i++) {
      github.setWorkflow(
        ORG,
        repo,
        `w${String(i).padStart(3, "0")}.yml`,
        "on: push\njobs:\n  j: { runs-on: x }\n",
      );
    }
    const subject = inventory();

    // Act
    const files = await subject.workflows({ owner: ORG, name: repo });

    // Assess: the listing and MAX_WORKFLOW_FILES files, no more.
    expect(subject.usage().requests).toBe(1 + MAX_WORKFLOW_FILES);
    expect(files).toHaveLength(MAX_WORKFLOW_FILES + 1);
    expect(files.at(-1)).toEqual({
      path: ".github/workflows",
      jobs: [],
      triggers: [],
      inputDefaults: {},
      problem: `1 more workflow file was not read (the check reads at most ${MAX_WORKFLOW_FILES} of a repository's)`,
    });
  });

  it("reads a reusable workflow at the ref a caller names, and nothing at a ref that does not exist", async () => {
    // Prepare
    const repo = newRepo();
    github.setWorkflow(ORG, repo, "deploy.yml", DEPLOY);
    const subject = inventory();
    const ref = { owner: ORG, name: repo };

    // Act
    const atMain = await subject.workflow(ref, ".github/workflows/deploy.yml", "main");
    const atTag = await subject.workflow(ref, ".github/workflows/deploy.yml", "v9");

    // Assess
    expect(atMain?.jobs.map((job) => job.id)).toEqual(["test", "release"]);
    expect(atTag).toBeUndefined();
  });

  it("reads the names of an organization's secrets per store", async () => {
    // Prepare
    github.setSecretAt({ kind: "organization", org: ORG, store: "codespaces" }, "ORG_CS_SECRET", "v");
    const subject = inventory();

    // Act
    const names = await subject.names({ kind: "organization", owner: ORG, store: "codespaces" }, "secret");

    // Assess
    expect(names).toContain("ORG_CS_SECRET");
  });

  it("fails naming the repository when the token cannot read its secrets", async () => {
    // Prepare: a token that reaches another repository only.
    const repo = newRepo();
    const other = newRepo();
    const narrow = "ghp_narrowInventoryToken00000000000000";
    github.addToken(narrow, { login: "rotator-bot", repos: [`${ORG}/${other}`], permission: "write" });
    const client = createGitHubClient({
      token: new SecretValue(narrow),
      baseUrl: github.url,
      userAgent: "aws-github-akm-test",
      secondMs: 1,
    });
    const subject = new GitHubSecretInventory({
      clientFor: async () => client,
      tokenSecretName: "test/github-token",
    });

    // Act
    const reading = subject.names(
      { kind: "repository", repo: { owner: ORG, name: repo }, store: "actions" },
      "secret",
    );

    // Assess
    await expect(reading).rejects.toMatchObject({ name: "GitHubAccessError", repo: `${ORG}/${repo}` });
  });

  it("says which permission to add when a fine-grained token may not list a repository's environments", async () => {
    // Prepare
    const repo = newRepo();
    github.addFault({
      route: "/repos/{owner}/{repo}/environments",
      owner: ORG,
      repo,
      status: 403,
      message: "Resource not accessible by personal access token",
      headers: { "x-accepted-github-permissions": "actions=read" },
    });

    // Act
    const listing = inventory().environments({ owner: ORG, name: repo });

    // Assess
    await expect(listing).rejects.toMatchObject({
      name: "GitHubAccessError",
      repo: `${ORG}/${repo}`,
      fix: expect.stringContaining(`set "Actions" to "Read-only" at least`),
    });
  });

  it("names both Environments and Secrets when a fine-grained token may not list an environment's secrets", async () => {
    // Prepare
    const repo = newRepo();
    github.addEnvironment(ORG, repo, "production");
    github.addFault({
      route: "/repos/{owner}/{repo}/environments/{environment_name}/secrets",
      owner: ORG,
      repo,
      status: 403,
      message: "Resource not accessible by personal access token",
      headers: { "x-accepted-github-permissions": "secrets=read,environments=read" },
    });

    // Act
    const reading = inventory().names(
      { kind: "environment", repo: { owner: ORG, name: repo }, environment: "production" },
      "secret",
    );

    // Assess
    await expect(reading).rejects.toMatchObject({
      name: "GitHubAccessError",
      fix: expect.stringContaining(`set "Environments" and "Secrets" to "Read-only" at least`),
    });
  });

  it("still reads a repository's secrets when the token may not read its workflow files, naming why the jobs are unknown", async () => {
    // Prepare
    const repo = newRepo();
    github.setWorkflow(ORG, repo, "deploy.yml", DEPLOY);
    github.addFault({
      route: "/repos/{owner}/{repo}/contents/{path}",
      owner: ORG,
      repo,
      status: 403,
      message: "Resource not accessible by personal access token",
    });

    // Act
    const files = await inventory().workflows({ owner: ORG, name: repo });

    // Assess
    expect(files).toEqual([
      expect.objectContaining({
        path: ".github/workflows",
        jobs: [],
        problem: expect.stringContaining("Contents: Read-only"),
      }),
    ]);
  });

  it("keeps GitHub's rate-limit headers for the check's budget", async () => {
    // Prepare
    const repo = newRepo();
    const subject = inventory();

    // Act
    await subject.environments({ owner: ORG, name: repo });
    const first = subject.usage();
    await subject.environments({ owner: ORG, name: repo });
    const second = subject.usage();

    // Assess: one request each, and GitHub's count of what is left went down by one.
    expect([first.requests, second.requests]).toEqual([1, 2]);
    expect((first.remaining ?? 0) - (second.remaining ?? 0)).toBe(1);
    expect(second.resetAt?.getTime()).toBeGreaterThan(Date.now());
  });

  it("stops at GitHub's answer that the primary rate limit is used up, and resumes at the reset it names", async () => {
    // Prepare: a token of one request an hour, spent by another tool before the check starts.
    const limited = await startGitHubEmulator({ limits: { requestsPerHour: 1 } });
    try {
      limited.addOrg(ORG);
      limited.addToken(TOKEN, { login: "rotator-bot", repos: "all", permission: "write" });
      for (const name of ["first", "second"]) limited.addRepo(ORG, name);
      const windowStartsAfter = Date.now();
      await inventory(limited).environments({ owner: ORG, name: "first" });
      const subject = inventory(limited);
      const targets: Target[] = ["first", "second"].map((name) => ({
        kind: "repository",
        owner: ORG,
        name,
        store: "actions",
      }));

      // Act
      const refused = await subject.environments({ owner: ORG, name: "first" }).catch((error) => error);
      const result = await checkShadowing({
        targets,
        unmanaged: [],
        defaultNames: NAMES,
        inventory: subject,
        clock: systemClock,
      });

      // Assess: GitHub's reset (x-ratelimit-reset, whole seconds) an hour after the window's first request, which
      // this test made; nothing counted as failed.
      expect(refused).toBeInstanceOf(GitHubRateLimitError);
      const resetAt = (refused as GitHubRateLimitError).resetAt;
      expect(resetAt.getTime()).toBeGreaterThanOrEqual(windowStartsAfter + 60 * 60_000);
      expect(result).toMatchObject({
        remaining: 2,
        failures: [],
        stoppedBy: "rate-limit",
        resumeAt: resetAt,
      });
      expect(limited.requests.filter((entry) => entry.limitedBy === "primary")).toHaveLength(2);
      expect(limited.violations).toEqual([]);
    } finally {
      await limited.close();
    }
  });

  it("reports the issue's reproduction: an environment with its own pair, and the job that uses it", async () => {
    // Prepare
    const repo = newRepo();
    github.addEnvironment(ORG, repo, "production");
    for (const name of Object.values(NAMES)) {
      github.setSecretAt({ kind: "environment", owner: ORG, repo, environment: "production" }, name, "old");
    }
    github.setWorkflow(ORG, repo, "deploy.yml", DEPLOY);
    const targets: Target[] = [{ kind: "repository", owner: ORG, name: repo, store: "actions" }];

    // Act
    const result = await checkShadowing({
      targets,
      unmanaged: [],
      defaultNames: NAMES,
      inventory: inventory(),
      clock: systemClock,
    });

    // Assess
    expect(result.findings.map((f) => [f.repo, f.environment, f.name])).toEqual([
      [`${ORG}/${repo}`, "production", "AWS_ACCESS_KEY_ID"],
      [`${ORG}/${repo}`, "production", "AWS_SECRET_ACCESS_KEY"],
    ]);
    const readers = result.findings[0]?.readers;
    expect(readers?.kind === "jobs" ? readers.jobs.map((job) => job.label) : []).toEqual([
      ".github/workflows/deploy.yml: release",
    ]);
  });
});

describe("GitHubSecretInventory says when an organization secret reaches repositories the credential cannot list", () => {
  let orgCount = 0;

  /** A fresh organization with private repositories `a` and `b` (the secret of visibility all reaches both). */
  function twoRepoOrg(): { org: string; target: OrganizationTarget } {
    orgCount++;
    const org = `seeall-${orgCount}`;
    github.addOrg(org);
    github.addRepo(org, "a", { private: true });
    github.addRepo(org, "b", { private: true });
    return {
      org,
      target: {
        kind: "organization",
        owner: org,
        store: "actions",
        visibility: "all",
        selectedRepositories: [],
      },
    };
  }

  function tokenInventory(grant: { repos: "all" | string[]; orgRole: "owner" | "member" }) {
    const token = `github_pat_seeall${orgCount}${grant.orgRole}${grant.repos === "all" ? "all" : "some"}`;
    github.addToken(token, { login: "rotator-bot", permission: "write", ...grant });
    const client = createGitHubClient({
      token: new SecretValue(token),
      baseUrl: github.url,
      userAgent: "aws-github-akm-test",
      secondMs: 1,
    });
    return new GitHubSecretInventory({ clientFor: async () => client, tokenSecretName: "test/github-token" });
  }

  /** GitHub App mode: the App installed on `target`'s organization (on `repositories` only, when named). */
  function appInventory(target: OrganizationTarget, repositories?: string[]) {
    const app = github.apps.addApp({
      slug: `seeall-${orgCount}`,
      permissions: {
        organization_secrets: "write",
        secrets: "read",
        actions: "read",
        environments: "read",
        contents: "read",
      },
    });
    github.apps.install(app.id, target.owner, repositories === undefined ? {} : { repositories });
    const connection = createGitHubConnection({
      credential: parseGitHubCredential(app.privateKeyPem, {
        secretId: "test/github-app",
        stackAppId: String(app.id),
      }),
      client: { baseUrl: github.url, userAgent: "aws-github-akm-test", secondMs: 1, retries: 0 },
      tokenSecretName: "test/github-app",
      scope: async () => ({ targets: [target], selections: [] }),
      clock: new FakeClock(Date.now()),
    });
    return new GitHubSecretInventory({
      clientFor: (owner) => connection.clientFor(owner),
      tokenSecretName: "test/github-app",
      repositorySelection: async (owner) => connection.repositorySelection?.(owner),
    });
  }

  it("says a fine-grained token of an owner limited to selected repositories left the others out, with GitHub's count", async () => {
    // Prepare: the emulator run of the review: the token sees 1 of the organization's 2 repositories.
    const { org, target } = twoRepoOrg();
    const subject = tokenInventory({ repos: [`${org}/a`], orgRole: "owner" });

    // Act
    const seen = await subject.repositoriesSeeing(target);

    // Assess
    expect(seen.repos.map((r) => r.name)).toEqual(["a"]);
    expect(seen.unseen).toMatchObject({ certain: true, total: 2 });
    expect(seen.unseen?.reason).toBe(
      `The token lists 0 public and 1 other repositories of ${org}, and GitHub counts 0 public and 2 private ones.`,
    );
    expect(seen.unseen?.fix).toContain('Repository access "All repositories"');
  });

  it("says nothing is unseen when an owner's token lists every repository GitHub counts", async () => {
    // Prepare
    const { target } = twoRepoOrg();
    const subject = tokenInventory({ repos: "all", orgRole: "owner" });

    // Act
    const seen = await subject.repositoriesSeeing(target);

    // Assess
    expect(seen.repos).toHaveLength(2);
    expect(seen.unseen).toBeUndefined();
  });

  it("says it cannot tell for a member's token, to which GitHub shows no private count", async () => {
    // Prepare
    const { org, target } = twoRepoOrg();
    const subject = tokenInventory({ repos: [`${org}/a`], orgRole: "member" });

    // Act
    const seen = await subject.repositoriesSeeing(target);

    // Assess
    expect(seen.unseen).toMatchObject({ certain: false });
    expect(seen.unseen?.reason).toContain("only to an organization owner");
  });

  it("says a GitHub App installed on selected repositories left the others out", async () => {
    // Prepare: the App is installed on repository a only.
    const { org, target } = twoRepoOrg();
    const subject = appInventory(target, ["a"]);

    // Act
    const seen = await subject.repositoriesSeeing(target);

    // Assess
    expect(seen.repos.map((r) => r.name)).toEqual(["a"]);
    expect(seen.unseen).toMatchObject({ certain: true });
    expect(seen.unseen?.reason).toBe(
      `The GitHub App is installed on selected repositories of ${org} only, and sees no other.`,
    );
    expect(seen.unseen?.fix).toContain('"All repositories"');
  });

  it("says nothing is unseen for a GitHub App installed on every repository", async () => {
    // Prepare
    const { target } = twoRepoOrg();
    const subject = appInventory(target);

    // Act
    const seen = await subject.repositoriesSeeing(target);

    // Assess
    expect(seen.repos.map((r) => r.name).sort()).toEqual(["a", "b"]);
    expect(seen.unseen).toBeUndefined();
  });
});
