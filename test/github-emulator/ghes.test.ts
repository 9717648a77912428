import { Octokit } from "@octokit/core";
import { afterEach, describe, expect, it } from "vitest";
import { type GitHubEmulator, startGitHubEmulator } from "../../scripts/local-stack/github-emulator/index.ts";
import { OWNER, REPO, seal, WRITE_TOKEN } from "./helpers.ts";

async function start(description: "ghes-3.19" | "ghec"): Promise<GitHubEmulator> {
  const github = await startGitHubEmulator({ description });
  github.addOrg(OWNER);
  github.addRepo(OWNER, REPO);
  github.addToken(WRITE_TOKEN, { login: "rotator-bot", repos: "all", permission: "write" });
  return github;
}

describe("GitHub Enterprise Server and GitHub Enterprise Cloud", () => {
  let github: GitHubEmulator;

  afterEach(async () => {
    await github.close();
  });

  it("serves GHES under /api/v3, names its release, and validates against the GHES description", async () => {
    // Prepare
    github = await start("ghes-3.19");
    const octokit = new Octokit({ auth: WRITE_TOKEN, baseUrl: github.url });

    // Act
    const key = await octokit.request("GET /repos/{owner}/{repo}/actions/secrets/public-key", {
      owner: OWNER,
      repo: REPO,
    });
    const put = await octokit.request("PUT /repos/{owner}/{repo}/actions/secrets/{secret_name}", {
      owner: OWNER,
      repo: REPO,
      secret_name: "AWS_ACCESS_KEY_ID",
      encrypted_value: seal("AKIAGHES", key.data.key),
      key_id: key.data.key_id,
    });

    // Assess
    expect(new URL(github.url).pathname).toBe("/api/v3");
    expect(github.description).toBe("ghes-3.19");
    expect(key.headers["x-github-enterprise-version"]).toBe("3.19.0");
    expect(put.status).toBe(201);
    expect(github.secretValue(OWNER, REPO, "AWS_ACCESS_KEY_ID")).toBe("AKIAGHES");
    expect(github.violations).toEqual([]);
  });

  it("serves organization and environment secrets on GHES", async () => {
    // Prepare
    github = await start("ghes-3.19");
    github.addEnvironment(OWNER, REPO, "production");
    const octokit = new Octokit({ auth: WRITE_TOKEN, baseUrl: github.url });

    // Act
    const orgKey = await octokit.request("GET /orgs/{org}/dependabot/secrets/public-key", { org: OWNER });
    const environments = await octokit.request("GET /repos/{owner}/{repo}/environments", {
      owner: OWNER,
      repo: REPO,
    });

    // Assess
    expect(orgKey.data.key_id).toBe(
      github.publicKeyAt({ kind: "organization", org: OWNER, store: "dependabot" }).keyId,
    );
    expect(environments.data.total_count).toBe(1);
    expect(github.violations).toEqual([]);
  });

  it("answers 404 for Codespaces on GHES, which has no such paths, and records the call", async () => {
    // Prepare
    github = await start("ghes-3.19");
    const octokit = new Octokit({ auth: WRITE_TOKEN, baseUrl: github.url });

    // Act
    const attempt = octokit.request("GET /repos/{owner}/{repo}/codespaces/secrets/public-key", {
      owner: OWNER,
      repo: REPO,
    });

    // Assess
    await expect(attempt).rejects.toMatchObject({ status: 404 });
    expect(github.violations).toEqual([
      `GET /repos/${OWNER}/${REPO}/codespaces/secrets/public-key: route not emulated: no operation in the ghes-3.19 description has this method and path`,
    ]);
  });

  it("serves GHE Cloud at the root, without an enterprise version, with Codespaces", async () => {
    // Prepare
    github = await start("ghec");
    const octokit = new Octokit({ auth: WRITE_TOKEN, baseUrl: github.url });

    // Act
    const key = await octokit.request("GET /orgs/{org}/codespaces/secrets/public-key", { org: OWNER });

    // Assess
    expect(new URL(github.url).pathname).toBe("/");
    expect(key.headers["x-github-enterprise-version"]).toBeUndefined();
    expect(github.violations).toEqual([]);
  });
});

describe("REST API versions", () => {
  let github: GitHubEmulator;

  afterEach(async () => {
    await github.close();
  });

  it("answers GHES requests for 2022-11-28, logging the version asked for, and refuses 2026-03-10 with 400 as a violation", async () => {
    // Prepare
    github = await start("ghes-3.19");
    const octokit = new Octokit({ auth: WRITE_TOKEN, baseUrl: github.url });
    const route = { owner: OWNER, repo: REPO };

    // Act
    const supported = await octokit.request("GET /repos/{owner}/{repo}", {
      ...route,
      headers: { "x-github-api-version": "2022-11-28" },
    });
    const unsupported = octokit.request("GET /repos/{owner}/{repo}", {
      ...route,
      headers: { "x-github-api-version": "2026-03-10" },
    });

    // Assess
    expect(supported.headers["x-github-api-version-selected"]).toBe("2022-11-28");
    await expect(unsupported).rejects.toMatchObject({ status: 400 });
    expect(github.requests.map((request) => request.apiVersion)).toEqual(["2022-11-28", "2026-03-10"]);
    expect(github.violations).toEqual([
      `GET /repos/${OWNER}/${REPO} (repos/get): X-GitHub-Api-Version 2026-03-10 is not one ghes-3.19 supports (2022-11-28)`,
    ]);
  });

  it("answers GHE.com requests for 2026-03-10, and those naming no version with the default 2022-11-28", async () => {
    // Prepare
    github = await start("ghec");
    const octokit = new Octokit({ auth: WRITE_TOKEN, baseUrl: github.url });
    const route = { owner: OWNER, repo: REPO };

    // Act
    const latest = await octokit.request("GET /repos/{owner}/{repo}", {
      ...route,
      headers: { "x-github-api-version": "2026-03-10" },
    });
    const unnamed = await octokit.request("GET /repos/{owner}/{repo}", route);

    // Assess
    expect(latest.headers["x-github-api-version-selected"]).toBe("2026-03-10");
    expect(unnamed.headers["x-github-api-version-selected"]).toBe("2022-11-28");
    expect(github.violations).toEqual([]);
  });
});

describe("choosing a description", () => {
  it("fails with the package's folder named when @octokit/openapi has no such description", async () => {
    await expect(startGitHubEmulator({ description: "ghes-1.0" })).rejects.toThrow(
      'github-emulator: @octokit/openapi has no description "ghes-1.0"',
    );
  });
});
