import { Octokit } from "@octokit/core";
import { afterEach, describe, expect, it } from "vitest";
import {
  type EmulatorExtension,
  type GitHubEmulator,
  startGitHubEmulator,
} from "../../scripts/local-stack/github-emulator/index.ts";

const INSTALLATION_TOKEN = "ghs_installationTokenForTests000000000";

/** A tiny extension: accepts one installation token and lets it revoke itself, as GitHub's endpoint does. */
function installationTokens(revoked: string[]): EmulatorExtension {
  return {
    name: "installation-tokens",
    authenticate: (credential) =>
      credential === INSTALLATION_TOKEN && !revoked.includes(credential)
        ? { login: "akm-app[bot]", repos: "all", permission: "write" }
        : undefined,
    handlers: {
      "apps/revoke-installation-access-token": (context) => {
        revoked.push(context.credential);
        return { status: 204 };
      },
    },
  };
}

describe("extensions", () => {
  let github: GitHubEmulator | undefined;

  afterEach(async () => {
    await github?.close();
    github = undefined;
  });

  it("serves an extension's endpoints with its own credentials, logged and validated like the rest", async () => {
    // Prepare
    const revoked: string[] = [];
    github = await startGitHubEmulator({ extensions: [installationTokens(revoked)] });
    const octokit = new Octokit({ auth: INSTALLATION_TOKEN, baseUrl: github.url });
    const { requests, violations } = github;

    // Act
    const user = await octokit.request("GET /user");
    const revoke = await octokit.request("DELETE /installation/token");
    const after = octokit.request("GET /user");

    // Assess
    expect(user.data.login).toBe("akm-app[bot]");
    expect(revoke.status).toBe(204);
    await expect(after).rejects.toMatchObject({ status: 401 });
    expect(revoked).toEqual([INSTALLATION_TOKEN]);
    expect(requests.map((entry) => entry.operationId)).toEqual([
      "users/get-authenticated",
      "apps/revoke-installation-access-token",
      "users/get-authenticated",
    ]);
    expect(violations).toEqual([]);
  });

  it("refuses an extension that would replace an emulated endpoint", async () => {
    const clash: EmulatorExtension = { name: "clash", handlers: { "repos/get": () => ({ status: 204 }) } };

    await expect(startGitHubEmulator({ extensions: [clash] })).rejects.toThrow(
      "github-emulator: extension clash registers repos/get, which is already emulated",
    );
  });
});
