import { Octokit } from "@octokit/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { GitHubEmulator, SecretStore } from "../../scripts/local-stack/github-emulator/index.ts";
import { OWNER, READ_TOKEN, REPO, seal, startEmulatorWithRepo, WRITE_TOKEN } from "./helpers.ts";

const scope = (store: SecretStore) => ({ kind: "repository", owner: OWNER, repo: REPO, store }) as const;

describe("a repository's Dependabot and Codespaces secrets and its Actions variables", () => {
  let github: GitHubEmulator;
  let octokit: Octokit;

  beforeEach(async () => {
    github = await startEmulatorWithRepo();
    octokit = new Octokit({ auth: WRITE_TOKEN, baseUrl: github.url });
  });

  afterEach(async () => {
    expect(github.violations).toEqual([]);
    await github.close();
  });

  it.each(["dependabot", "codespaces"] as const)(
    "stores %s secrets with that store's own key pair, decrypted, apart from the Actions secrets",
    async (store) => {
      // Prepare
      const route = { owner: OWNER, repo: REPO };

      // Act
      const key = await octokit.request(`GET /repos/{owner}/{repo}/${store}/secrets/public-key`, route);
      const put = await octokit.request(`PUT /repos/{owner}/{repo}/${store}/secrets/{secret_name}`, {
        ...route,
        secret_name: "AWS_SECRET_ACCESS_KEY",
        encrypted_value: seal("test-store-secret", key.data.key),
        key_id: key.data.key_id,
      });
      const meta = await octokit.request(`GET /repos/{owner}/{repo}/${store}/secrets/{secret_name}`, {
        ...route,
        secret_name: "AWS_SECRET_ACCESS_KEY",
      });
      const list = await octokit.request(`GET /repos/{owner}/{repo}/${store}/secrets`, route);
      const deleted = await octokit.request(`DELETE /repos/{owner}/{repo}/${store}/secrets/{secret_name}`, {
        ...route,
        secret_name: "AWS_SECRET_ACCESS_KEY",
      });

      // Assess
      expect(key.data.key_id).toBe(github.publicKeyAt(scope(store)).keyId);
      expect(key.data.key_id).not.toBe(github.publicKey(OWNER, REPO).keyId);
      expect([put.status, deleted.status]).toEqual([201, 204]);
      expect(meta.data).toMatchObject({ name: "AWS_SECRET_ACCESS_KEY" });
      expect(list.data).toMatchObject({ total_count: 1, secrets: [{ name: "AWS_SECRET_ACCESS_KEY" }] });
      expect(github.secretNamesAt(scope(store))).toEqual([]);
      expect(github.secretNames(OWNER, REPO)).toEqual([]);
    },
  );

  it("keeps what was written to each store apart", async () => {
    // Prepare
    const route = { owner: OWNER, repo: REPO, secret_name: "AWS_ACCESS_KEY_ID" };
    const put = async (store: SecretStore, value: string) => {
      const key = await octokit.request(`GET /repos/{owner}/{repo}/${store}/secrets/public-key`, route);
      await octokit.request(`PUT /repos/{owner}/{repo}/${store}/secrets/{secret_name}`, {
        ...route,
        encrypted_value: seal(value, key.data.key),
        key_id: key.data.key_id,
      });
    };

    // Act
    await put("actions", "AKIAACTIONS");
    await put("dependabot", "AKIADEPENDABOT");
    await put("codespaces", "AKIACODESPACES");

    // Assess
    expect(github.holdersOf("AWS_ACCESS_KEY_ID").map((holding) => [holding.scope, holding.value])).toEqual([
      [scope("actions"), "AKIAACTIONS"],
      [scope("dependabot"), "AKIADEPENDABOT"],
      [scope("codespaces"), "AKIACODESPACES"],
    ]);
  });

  it("refuses a Dependabot value sealed with the Actions key, as a violation", async () => {
    // Prepare
    const actionsKey = github.publicKey(OWNER, REPO);

    // Act
    const attempt = octokit.request("PUT /repos/{owner}/{repo}/dependabot/secrets/{secret_name}", {
      owner: OWNER,
      repo: REPO,
      secret_name: "AWS_ACCESS_KEY_ID",
      encrypted_value: seal("AKIAMIXEDUP", actionsKey.key),
      key_id: actionsKey.keyId,
    });

    // Assess
    await expect(attempt).rejects.toMatchObject({ status: 422 });
    expect(github.violations).toEqual([
      expect.stringContaining(
        `octo-org/app (dependabot) secret AWS_ACCESS_KEY_ID: key_id ${actionsKey.keyId}`,
      ),
    ]);
    github.resetCounters();
  });

  it("refuses a read-only token the Dependabot secrets, naming the permission GitHub wants", async () => {
    const reader = new Octokit({ auth: READ_TOKEN, baseUrl: github.url });

    const attempt = reader.request("GET /repos/{owner}/{repo}/dependabot/secrets/public-key", {
      owner: OWNER,
      repo: REPO,
    });

    await expect(attempt).rejects.toMatchObject({
      status: 403,
      response: { headers: { "x-accepted-github-permissions": "dependabot_secrets=read" } },
    });
  });

  it("creates, updates, renames, lists and deletes repository variables, paginated by 10 by default", async () => {
    // Prepare
    const route = { owner: OWNER, repo: REPO };
    for (let i = 0; i < 11; i++)
      github.setVariableAt(scope("actions"), `V${String(i).padStart(2, "0")}`, "x");

    // Act
    const created = await octokit.request("POST /repos/{owner}/{repo}/actions/variables", {
      ...route,
      name: "AWS_ACCESS_KEY_ID",
      value: "AKIAVAR1",
    });
    const updated = await octokit.request("PATCH /repos/{owner}/{repo}/actions/variables/{name}", {
      ...route,
      name: "AWS_ACCESS_KEY_ID",
      value: "AKIAVAR2",
    });
    const firstPage = await octokit.request("GET /repos/{owner}/{repo}/actions/variables", route);
    const read = await octokit.request("GET /repos/{owner}/{repo}/actions/variables/{name}", {
      ...route,
      name: "aws_access_key_id",
    });
    const deleted = await octokit.request("DELETE /repos/{owner}/{repo}/actions/variables/{name}", {
      ...route,
      name: "V00",
    });

    // Assess
    expect([created.status, updated.status, deleted.status]).toEqual([201, 204, 204]);
    expect(firstPage.data.total_count).toBe(12);
    expect(firstPage.data.variables).toHaveLength(10);
    expect(firstPage.headers.link).toContain('per_page=10&page=2>; rel="next"');
    expect(read.data).toMatchObject({ name: "AWS_ACCESS_KEY_ID", value: "AKIAVAR2" });
    expect(github.variableValueAt(scope("actions"), "AWS_ACCESS_KEY_ID")).toBe("AKIAVAR2");
    expect(github.variableNamesAt(scope("actions"))).not.toContain("V00");
  });

  it("lets a read-only token read variables but not write them", async () => {
    // Prepare
    github.setVariableAt(scope("actions"), "REGION", "eu-west-1");
    const reader = new Octokit({ auth: READ_TOKEN, baseUrl: github.url });

    // Act
    const read = await reader.request("GET /repos/{owner}/{repo}/actions/variables/{name}", {
      owner: OWNER,
      repo: REPO,
      name: "REGION",
    });
    const write = reader.request("PATCH /repos/{owner}/{repo}/actions/variables/{name}", {
      owner: OWNER,
      repo: REPO,
      name: "REGION",
      value: "us-east-1",
    });

    // Assess
    expect(read.data.value).toBe("eu-west-1");
    await expect(write).rejects.toMatchObject({
      status: 403,
      response: { headers: { "x-accepted-github-permissions": "actions_variables=write" } },
    });
  });
});
