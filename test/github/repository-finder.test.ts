import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type GitHubEmulator, startGitHubEmulator } from "../../scripts/local-stack/github-emulator/index.ts";
import { SecretValue } from "../../src/domain/secret-value.ts";
import { GitHubAccessError } from "../../src/errors.ts";
import { createGitHubClient } from "../../src/github/client.ts";
import { GitHubRepositoryFinder } from "../../src/github/repository-finder.ts";
import { startJsonServer } from "../support/json-server.ts";

const TOKEN_SECRET = "aws-github-akm/github-token";

let github: GitHubEmulator;
let orgs = 0;

beforeAll(async () => {
  github = await startGitHubEmulator();
});

afterAll(async () => {
  await github.close();
});

afterEach(() => {
  // Assess (every test): the finder never sent anything GitHub's API description forbids.
  expect(github.violations).toEqual([]);
});

/**
 * A fresh organization per test, and a finder whose token reaches the repositories `reach` names (`owner/name`;
 * default: every repository).
 */
function arrange(reach?: (org: string) => readonly string[]): {
  org: string;
  finder: GitHubRepositoryFinder;
} {
  orgs++;
  const org = `select-org-${orgs}`;
  const repos = reach === undefined ? "all" : reach(org);
  const token = `ghp_select_${orgs}`;
  github.addOrg(org);
  github.addToken(token, { login: "machine-user", repos, permission: "write" });
  const client = createGitHubClient({
    token: new SecretValue(token),
    baseUrl: github.url,
    userAgent: "aws-github-akm-test",
    secondMs: 1,
  });
  return {
    org,
    finder: new GitHubRepositoryFinder({ clientFor: async () => client, tokenSecretName: TOKEN_SECRET }),
  };
}

describe("finding an organization's repositories by topic", () => {
  it("reads every page of the organization's repositories and returns those with the topic, A to Z", async () => {
    // Prepare
    const { org, finder } = arrange();
    for (let i = 0; i < 201; i++) {
      github.addRepo(org, `svc-${String(i).padStart(3, "0")}`, {
        topics: i % 2 === 0 ? ["deploys-to-aws"] : ["docs"],
      });
    }

    // Act
    const found = await finder.withTopic(org, "deploys-to-aws");

    // Assess
    expect(found.repositories).toHaveLength(101);
    expect(found.repositories[0]).toEqual({ name: "svc-000", id: github.repoId(org, "svc-000") });
    expect(found.repositories.at(-1)?.name).toBe("svc-200");
    expect(found.archived).toEqual([]);
    expect(finder.requests).toBe(3);
  });

  it("compares topics in lowercase, as GitHub saves them", async () => {
    // Prepare
    const { org, finder } = arrange();
    github.addRepo(org, "api", { topics: ["deploys-to-aws"] });

    // Act
    const found = await finder.withTopic(org, "Deploys-To-AWS");

    // Assess
    expect(found.repositories.map((r) => r.name)).toEqual(["api"]);
  });

  it("leaves archived repositories out and names them, since GitHub refuses to write their secrets", async () => {
    // Prepare
    const { org, finder } = arrange();
    github.addRepo(org, "api", { topics: ["aws"] });
    github.addRepo(org, "legacy", { topics: ["aws"] });
    github.archiveRepo(org, "legacy");

    // Act
    const found = await finder.withTopic(org, "aws");

    // Assess
    expect(found.repositories.map((r) => r.name)).toEqual(["api"]);
    expect(found.archived).toEqual(["legacy"]);
  });

  it("finds only the repositories the token can see", async () => {
    // Prepare
    const { org, finder } = arrange((org) => [`${org}/api`]);
    github.addRepo(org, "api", { topics: ["aws"] });
    github.addRepo(org, "hidden", { topics: ["aws"] });
    github.addRepo(org, "open-source", { private: false, topics: ["aws"] });

    // Act
    const found = await finder.withTopic(org, "aws");

    // Assess
    expect(found.repositories.map((r) => r.name)).toEqual(["api", "open-source"]);
  });
});

describe("finding an organization's repositories by custom property", () => {
  it("matches a string value exactly and a multi-select property by one of its values", async () => {
    // Prepare
    const { org, finder } = arrange();
    github.addRepo(org, "api", { properties: { team: "platform" } });
    github.addRepo(org, "web", { properties: { team: ["frontend", "platform"] } });
    github.addRepo(org, "ml", { properties: { team: "Platform" } });
    github.addRepo(org, "docs", { properties: { team: null } });
    github.addRepo(org, "infra", { properties: { owner: "platform" } });

    // Act
    const found = await finder.withProperty(org, "team", "platform");

    // Assess
    expect(found.repositories.map((r) => r.name)).toEqual(["api", "web"]);
    expect(found.repositories[0]?.id).toBe(github.repoId(org, "api"));
  });

  it("leaves archived repositories out, reading the repositories' listing once for every selection", async () => {
    // Prepare
    const { org, finder } = arrange();
    github.addRepo(org, "api", { topics: ["aws"], properties: { team: "platform" } });
    github.addRepo(org, "old", { properties: { team: "platform" } });
    github.archiveRepo(org, "old");

    // Act
    const byProperty = await finder.withProperty(org, "team", "platform");
    const byTopic = await finder.withTopic(org, "aws");

    // Assess
    expect(byProperty).toEqual({
      repositories: [{ name: "api", id: github.repoId(org, "api") }],
      archived: ["old"],
    });
    expect(byTopic.repositories.map((r) => r.name)).toEqual(["api"]);
    expect(finder.requests).toBe(2);
  });
});

describe("when GitHub refuses", () => {
  it("says that selecting by topic works for organizations when the owner is none the token can see", async () => {
    // Prepare
    const { finder } = arrange();

    // Act
    const error = await finder.withTopic("no-such-org", "aws").catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(GitHubAccessError);
    expect((error as GitHubAccessError).message).toBe(
      "GitHub refused GET organization repositories of no-such-org (404): there is no organization no-such-org, or the token cannot see it.",
    );
    expect((error as GitHubAccessError).repo).toBe("organization no-such-org");
    expect((error as GitHubAccessError).fix).toContain("a user's repositories are listed by name");
  });
});

describe("a server that answers with a repository name GitHub does not allow", () => {
  it.each(["..", "a/b"])("refuses %s as an unexpected answer, so it never becomes a target", async (name) => {
    // Prepare: ".." would make GET /repos/{org}/.. a request for another path.
    const server = await startJsonServer(() => ({
      body: [{ id: 7, name, archived: false, topics: ["aws"] }],
    }));
    const client = createGitHubClient({
      token: new SecretValue("ghp_odd_server"),
      baseUrl: server.url,
      userAgent: "aws-github-akm-test",
      secondMs: 1,
    });
    const finder = new GitHubRepositoryFinder({
      clientFor: async () => client,
      tokenSecretName: TOKEN_SECRET,
    });

    try {
      // Act
      const error = await finder.withTopic("octo-org", "aws").then(
        () => undefined,
        (reason: unknown) => reason,
      );

      // Assess
      expect(error).toBeInstanceOf(GitHubAccessError);
      expect((error as GitHubAccessError).message).toContain("a repository name GitHub does not allow");
    } finally {
      await server.close();
    }
  });
});
