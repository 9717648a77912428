import { Octokit } from "@octokit/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { GitHubEmulator } from "../../scripts/local-stack/github-emulator/index.ts";
import { client, json, OWNER, READ_TOKEN, REPO, startEmulatorWithRepo, WRITE_TOKEN } from "./helpers.ts";

const DEPLOY_YAML = "on: push\njobs:\n  deploy:\n    environment: production\n    runs-on: ubuntu-latest\n";

describe("organization inventory: repositories, custom properties and workflow files", () => {
  let github: GitHubEmulator;
  let octokit: Octokit;

  beforeEach(async () => {
    github = await startEmulatorWithRepo();
    github.addOrg(OWNER);
    github.setTopics(OWNER, REPO, ["deploys-to-aws", "node"]);
    github.addRepo(OWNER, "site", { private: false, topics: ["deploys-to-aws"] });
    github.addRepo(OWNER, "infra", { properties: { team: "platform" } });
    github.addRepo(OWNER, "docs", { private: false });
    github.addRepo(OWNER, "secret-project");
    octokit = new Octokit({ auth: WRITE_TOKEN, baseUrl: github.url });
  });

  afterEach(async () => {
    expect(github.violations).toEqual([]);
    await github.close();
  });

  it("lists the organization's repositories with their topics, newest first, paginated with Link headers", async () => {
    // Act
    const first = await octokit.request("GET /orgs/{org}/repos", { org: OWNER, per_page: 2 });
    const next = /<([^>]+)>; rel="next"/.exec(first.headers.link ?? "")?.[1];
    const second = await octokit.request(`GET ${next}`);

    // Assess
    expect(first.data.map((repo) => repo.name)).toEqual(["secret-project", "docs"]);
    expect(first.headers.link).toContain(`/orgs/${OWNER}/repos?per_page=2&page=3>; rel="last"`);
    expect(
      (second.data as { name: string; topics: string[] }[]).map((repo) => [repo.name, repo.topics]),
    ).toEqual([
      ["infra", []],
      ["site", ["deploys-to-aws"]],
    ]);
  });

  it("filters by type and sorts by full name", async () => {
    // Act
    const privateOnes = await octokit.request("GET /orgs/{org}/repos", { org: OWNER, type: "private" });
    const publicOnes = await octokit.request("GET /orgs/{org}/repos", {
      org: OWNER,
      type: "public",
      sort: "full_name",
    });
    const forks = await octokit.request("GET /orgs/{org}/repos", { org: OWNER, type: "forks" });

    // Assess
    expect(privateOnes.data.map((repo) => repo.name)).toEqual(["secret-project", "infra", REPO]);
    expect(publicOnes.data.map((repo) => repo.name)).toEqual(["docs", "site"]);
    expect(forks.data).toEqual([]);
  });

  it("shows a token only the private repositories it reaches", async () => {
    const reader = new Octokit({ auth: READ_TOKEN, baseUrl: github.url });

    const repos = await reader.request("GET /orgs/{org}/repos", { org: OWNER, sort: "full_name" });

    expect(repos.data.map((repo) => repo.name)).toEqual([REPO, "docs", "site"]);
  });

  it("lists custom property values, and finds repositories by props.NAME:VALUE", async () => {
    // Prepare
    github.setCustomProperties(OWNER, REPO, { team: "platform", regions: ["eu", "us"], legacy: null });

    // Act
    const all = await octokit.request("GET /orgs/{org}/properties/values", { org: OWNER, per_page: 100 });
    const platform = await octokit.request("GET /orgs/{org}/properties/values", {
      org: OWNER,
      repository_query: "props.team:platform",
    });
    const inEu = await octokit.request("GET /orgs/{org}/properties/values", {
      org: OWNER,
      repository_query: "props.regions:eu props.team:platform",
    });

    // Assess
    expect(all.data).toHaveLength(5);
    expect(platform.data.map((repo) => repo.repository_name)).toEqual([REPO, "infra"]);
    expect(inEu.data).toEqual([
      {
        repository_id: github.repoId(OWNER, REPO),
        repository_name: REPO,
        repository_full_name: `${OWNER}/${REPO}`,
        properties: [
          { property_name: "team", value: "platform" },
          { property_name: "regions", value: ["eu", "us"] },
          { property_name: "legacy", value: null },
        ],
      },
    ]);
  });

  it("paginates custom property values with Link headers", async () => {
    const page = await octokit.request("GET /orgs/{org}/properties/values", { org: OWNER, per_page: 3 });

    expect(page.data).toHaveLength(3);
    expect(page.headers.link).toContain('per_page=3&page=2>; rel="next"');
  });

  it("refuses a repository_query qualifier it does not emulate, as a violation", async () => {
    const attempt = octokit.request("GET /orgs/{org}/properties/values", {
      org: OWNER,
      repository_query: "topic:deploys-to-aws",
    });

    await expect(attempt).rejects.toMatchObject({ status: 422 });
    expect(github.violations).toEqual([
      expect.stringContaining('qualifier "topic:deploys-to-aws" is not emulated'),
    ]);
    github.resetCounters();
  });

  it("lists .github/workflows and serves a workflow file base64-encoded", async () => {
    // Prepare
    github.setWorkflow(OWNER, REPO, "deploy.yml", DEPLOY_YAML);
    github.setWorkflow(OWNER, REPO, "ci.yml", "on: push\n");
    github.setFile(OWNER, REPO, ".github/workflows/templates/shared.yml", "x: 1\n");

    // Act: octokit sends the path's slashes percent-encoded.
    const listing = await octokit.request("GET /repos/{owner}/{repo}/contents/{path}", {
      owner: OWNER,
      repo: REPO,
      path: ".github/workflows",
    });
    const file = await octokit.request("GET /repos/{owner}/{repo}/contents/{path}", {
      owner: OWNER,
      repo: REPO,
      path: ".github/workflows/deploy.yml",
    });

    // Assess
    expect(
      (listing.data as { name: string; type: string }[]).map((entry) => [entry.name, entry.type]),
    ).toEqual([
      ["ci.yml", "file"],
      ["deploy.yml", "file"],
      ["templates", "dir"],
    ]);
    const content = file.data as { type: string; encoding: string; content: string; path: string };
    expect(content).toMatchObject({ type: "file", encoding: "base64", path: ".github/workflows/deploy.yml" });
    expect(Buffer.from(content.content, "base64").toString("utf8")).toBe(DEPLOY_YAML);
  });

  it("serves contents whose path is sent with plain slashes, and answers 404 for a missing path", async () => {
    // Prepare
    github.setWorkflow(OWNER, REPO, "deploy.yml", DEPLOY_YAML);
    const api = client(github, WRITE_TOKEN);

    // Act
    const plain = await api.get(`/repos/${OWNER}/${REPO}/contents/.github/workflows/deploy.yml`);
    const missing = await api.get(`/repos/${OWNER}/${REPO}/contents/.github/workflows/none.yml`);
    const noWorkflows = await api.get(`/repos/${OWNER}/site/contents/.github/workflows`);

    // Assess
    expect(plain.status).toBe(200);
    expect(await json(plain)).toMatchObject({
      name: "deploy.yml",
      sha: expect.stringMatching(/^[0-9a-f]{40}$/),
    });
    expect([missing.status, noWorkflows.status]).toEqual([404, 404]);
  });

  it("answers 404 for the repositories of an organization that does not exist", async () => {
    const attempt = octokit.request("GET /orgs/{org}/repos", { org: "no-such-org" });

    await expect(attempt).rejects.toMatchObject({ status: 404 });
  });
});
