import { Octokit } from "@octokit/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { GitHubEmulator, SecretWrittenEvent } from "../../scripts/local-stack/github-emulator/index.ts";
import { OWNER, REPO, seal, startEmulatorWithRepo, WRITE_TOKEN } from "./helpers.ts";

const PROD = { kind: "environment", owner: OWNER, repo: REPO, environment: "production" } as const;

describe("environments, their secrets and their variables", () => {
  let github: GitHubEmulator;
  let octokit: Octokit;
  const events: SecretWrittenEvent[] = [];

  beforeEach(async () => {
    events.length = 0;
    github = await startEmulatorWithRepo({ onSecretWritten: (event) => void events.push(event) });
    github.addEnvironment(OWNER, REPO, "production");
    octokit = new Octokit({ auth: WRITE_TOKEN, baseUrl: github.url });
  });

  afterEach(async () => {
    expect(github.violations).toEqual([]);
    await github.close();
  });

  it("lists and gets the environments a test created, and answers 404 for another", async () => {
    // Prepare
    github.addEnvironment(OWNER, REPO, "staging");

    // Act
    const list = await octokit.request("GET /repos/{owner}/{repo}/environments", {
      owner: OWNER,
      repo: REPO,
    });
    const one = await octokit.request("GET /repos/{owner}/{repo}/environments/{environment_name}", {
      owner: OWNER,
      repo: REPO,
      environment_name: "PRODUCTION",
    });
    const missing = octokit.request("GET /repos/{owner}/{repo}/environments/{environment_name}", {
      owner: OWNER,
      repo: REPO,
      environment_name: "qa",
    });

    // Assess
    expect(list.data.total_count).toBe(2);
    expect(list.data.environments?.map((environment) => environment.name)).toEqual(["production", "staging"]);
    expect(one.data.name).toBe("production");
    await expect(missing).rejects.toMatchObject({ status: 404 });
    expect(github.environmentNames(OWNER, REPO)).toEqual(["production", "staging"]);
  });

  it("stores an environment secret sealed with the environment's own key, decrypted", async () => {
    // Prepare
    const route = { owner: OWNER, repo: REPO, environment_name: "production" };

    // Act
    const key = await octokit.request(
      "GET /repos/{owner}/{repo}/environments/{environment_name}/secrets/public-key",
      route,
    );
    const created = await octokit.request(
      "PUT /repos/{owner}/{repo}/environments/{environment_name}/secrets/{secret_name}",
      {
        ...route,
        secret_name: "aws_access_key_id",
        encrypted_value: seal("AKIAENV1", key.data.key),
        key_id: key.data.key_id,
      },
    );
    const updated = await octokit.request(
      "PUT /repos/{owner}/{repo}/environments/{environment_name}/secrets/{secret_name}",
      {
        ...route,
        secret_name: "AWS_ACCESS_KEY_ID",
        encrypted_value: seal("AKIAENV2", key.data.key),
        key_id: key.data.key_id,
      },
    );
    const meta = await octokit.request(
      "GET /repos/{owner}/{repo}/environments/{environment_name}/secrets/{secret_name}",
      { ...route, secret_name: "AWS_ACCESS_KEY_ID" },
    );
    const list = await octokit.request(
      "GET /repos/{owner}/{repo}/environments/{environment_name}/secrets",
      route,
    );

    // Assess
    expect(key.data.key_id).toBe(github.publicKeyAt(PROD).keyId);
    expect(key.data.key_id).not.toBe(github.publicKey(OWNER, REPO).keyId);
    expect([created.status, updated.status]).toEqual([201, 204]);
    expect(meta.data.name).toBe("AWS_ACCESS_KEY_ID");
    expect(list.data.secrets.map((secret) => secret.name)).toEqual(["AWS_ACCESS_KEY_ID"]);
    expect(github.secretValueAt(PROD, "AWS_ACCESS_KEY_ID")).toBe("AKIAENV2");
    expect(github.secretValue(OWNER, REPO, "AWS_ACCESS_KEY_ID")).toBeUndefined();
    expect(events.map((event) => [event.what, event.scope, event.name])).toEqual([
      ["secret", PROD, "AWS_ACCESS_KEY_ID"],
      ["secret", PROD, "AWS_ACCESS_KEY_ID"],
    ]);
  });

  it("refuses an environment secret to a fine-grained token whose Environments permission is read-only, naming both permissions", async () => {
    // Prepare
    github.addToken("ghp_environmentsReadOnly000000000000000", {
      login: "rotator-bot",
      repos: "all",
      permission: "write",
      environments: "read",
    });
    const limited = new Octokit({ auth: "ghp_environmentsReadOnly000000000000000", baseUrl: github.url });
    const route = { owner: OWNER, repo: REPO, environment_name: "production" };
    const key = await limited.request(
      "GET /repos/{owner}/{repo}/environments/{environment_name}/secrets/public-key",
      route,
    );

    // Act
    const put = limited.request(
      "PUT /repos/{owner}/{repo}/environments/{environment_name}/secrets/{secret_name}",
      {
        ...route,
        secret_name: "AWS_ACCESS_KEY_ID",
        encrypted_value: seal("AKIAENV1", key.data.key),
        key_id: key.data.key_id,
      },
    );

    // Assess
    await expect(put).rejects.toMatchObject({
      status: 403,
      response: { headers: { "x-accepted-github-permissions": "secrets=write,environments=write" } },
    });
    expect(github.secretValueAt(PROD, "AWS_ACCESS_KEY_ID")).toBeUndefined();
  });

  it("refuses a value sealed with the repository's key instead of the environment's, as a violation", async () => {
    // Prepare
    const repoKey = github.publicKey(OWNER, REPO);

    // Act
    const attempt = octokit.request(
      "PUT /repos/{owner}/{repo}/environments/{environment_name}/secrets/{secret_name}",
      {
        owner: OWNER,
        repo: REPO,
        environment_name: "production",
        secret_name: "AWS_ACCESS_KEY_ID",
        encrypted_value: seal("AKIAWRONG", repoKey.key),
        key_id: repoKey.keyId,
      },
    );

    // Assess
    await expect(attempt).rejects.toMatchObject({ status: 422 });
    expect(github.violations).toHaveLength(1);
    expect(github.violations[0]).toContain(`key_id ${repoKey.keyId} was never issued by this environment`);
    github.resetCounters();
  });

  it("deletes an environment secret, and answers 404 for the secrets of an environment that does not exist", async () => {
    // Prepare
    github.setSecretAt(PROD, "OLD", "x");

    // Act
    const deleted = await octokit.request(
      "DELETE /repos/{owner}/{repo}/environments/{environment_name}/secrets/{secret_name}",
      { owner: OWNER, repo: REPO, environment_name: "production", secret_name: "OLD" },
    );
    const missing = octokit.request(
      "GET /repos/{owner}/{repo}/environments/{environment_name}/secrets/public-key",
      { owner: OWNER, repo: REPO, environment_name: "qa" },
    );

    // Assess
    expect(deleted.status).toBe(204);
    expect(github.secretNamesAt(PROD)).toEqual([]);
    await expect(missing).rejects.toMatchObject({ status: 404 });
  });

  it("creates, reads, lists, updates and deletes environment variables, with 409 for a second create", async () => {
    // Prepare
    const route = { owner: OWNER, repo: REPO, environment_name: "production" };

    // Act
    const created = await octokit.request(
      "POST /repos/{owner}/{repo}/environments/{environment_name}/variables",
      {
        ...route,
        name: "aws_access_key_id",
        value: "AKIAVAR1",
      },
    );
    const again = octokit.request("POST /repos/{owner}/{repo}/environments/{environment_name}/variables", {
      ...route,
      name: "AWS_ACCESS_KEY_ID",
      value: "AKIAVAR1",
    });
    await expect(again).rejects.toMatchObject({ status: 409 });
    const updated = await octokit.request(
      "PATCH /repos/{owner}/{repo}/environments/{environment_name}/variables/{name}",
      { ...route, name: "AWS_ACCESS_KEY_ID", value: "AKIAVAR2" },
    );
    const one = await octokit.request(
      "GET /repos/{owner}/{repo}/environments/{environment_name}/variables/{name}",
      {
        ...route,
        name: "AWS_ACCESS_KEY_ID",
      },
    );
    const list = await octokit.request(
      "GET /repos/{owner}/{repo}/environments/{environment_name}/variables",
      route,
    );
    const deleted = await octokit.request(
      "DELETE /repos/{owner}/{repo}/environments/{environment_name}/variables/{name}",
      { ...route, name: "AWS_ACCESS_KEY_ID" },
    );

    // Assess
    expect([created.status, updated.status, deleted.status]).toEqual([201, 204, 204]);
    expect(one.data).toMatchObject({ name: "AWS_ACCESS_KEY_ID", value: "AKIAVAR2" });
    expect(list.data).toMatchObject({ total_count: 1, variables: [{ name: "AWS_ACCESS_KEY_ID" }] });
    expect(github.variableNamesAt(PROD)).toEqual([]);
    expect(events.map((event) => [event.what, event.name])).toEqual([
      ["variable", "AWS_ACCESS_KEY_ID"],
      ["variable", "AWS_ACCESS_KEY_ID"],
    ]);
  });
});
