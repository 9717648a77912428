import { Octokit } from "@octokit/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { GitHubEmulator } from "../../scripts/local-stack/github-emulator/index.ts";
import { OWNER, READ_TOKEN, REPO, seal, startEmulatorWithRepo, WRITE_TOKEN } from "./helpers.ts";

describe("the emulator with @octokit/core as the client", () => {
  let github: GitHubEmulator;

  beforeEach(async () => {
    github = await startEmulatorWithRepo();
  });

  afterEach(async () => {
    await github.close();
  });

  it("serves octokit's requests for the whole secret write flow without violations", async () => {
    // Prepare
    const octokit = new Octokit({ auth: WRITE_TOKEN, baseUrl: github.url });

    // Act
    const user = await octokit.request("GET /user");
    const key = await octokit.request("GET /repos/{owner}/{repo}/actions/secrets/public-key", {
      owner: OWNER,
      repo: REPO,
    });
    const put = await octokit.request("PUT /repos/{owner}/{repo}/actions/secrets/{secret_name}", {
      owner: OWNER,
      repo: REPO,
      secret_name: "AWS_ACCESS_KEY_ID",
      encrypted_value: seal("AKIAOCTOKIT", key.data.key),
      key_id: key.data.key_id,
    });

    // Assess
    expect(user.data.login).toBe("rotator-bot");
    expect(put.status).toBe(201);
    expect(github.secretValue(OWNER, REPO, "AWS_ACCESS_KEY_ID")).toBe("AKIAOCTOKIT");
    expect(github.violations).toEqual([]);
  });

  it("gives octokit a RequestError with GitHub's status and message", async () => {
    const octokit = new Octokit({ auth: READ_TOKEN, baseUrl: github.url });

    const attempt = octokit.request("GET /repos/{owner}/{repo}/actions/secrets/public-key", {
      owner: OWNER,
      repo: REPO,
    });

    await expect(attempt).rejects.toMatchObject({
      status: 403,
      message: expect.stringContaining("Resource not accessible by personal access token"),
    });
  });
});
