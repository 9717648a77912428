import { Octokit } from "@octokit/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type GitHubEmulator,
  NOT_ORG_ADMIN,
  type SecretStore,
  type SecretWrittenEvent,
} from "../../scripts/local-stack/github-emulator/index.ts";
import { OWNER, REPO, seal, startEmulatorWithRepo, WRITE_TOKEN } from "./helpers.ts";

const MEMBER_TOKEN = "ghp_orgMemberForTests00000000000000000";
const READ_SECRETS_TOKEN = "ghp_orgReaderForTests00000000000000000";
const org = (store: SecretStore) => ({ kind: "organization", org: OWNER, store }) as const;

describe("organization secrets and variables", () => {
  let github: GitHubEmulator;
  let octokit: Octokit;
  const events: SecretWrittenEvent[] = [];

  beforeEach(async () => {
    events.length = 0;
    github = await startEmulatorWithRepo({ onSecretWritten: (event) => void events.push(event) });
    github.addOrg(OWNER);
    github.addRepo(OWNER, "site", { private: false });
    github.addRepo(OWNER, "tool", { visibility: "internal" });
    github.addToken(MEMBER_TOKEN, { login: "member", repos: "all", permission: "write", orgRole: "member" });
    github.addToken(READ_SECRETS_TOKEN, {
      login: "auditor",
      repos: "all",
      permission: "read",
      role: "admin",
    });
    octokit = new Octokit({ auth: WRITE_TOKEN, baseUrl: github.url });
  });

  afterEach(async () => {
    expect(github.violations).toEqual([]);
    await github.close();
  });

  async function putOrgSecret(
    store: SecretStore,
    name: string,
    value: string,
    access: { visibility: "all" | "private" | "selected"; selected_repository_ids?: number[] },
  ) {
    const key = await octokit.request(`GET /orgs/{org}/${store}/secrets/public-key`, { org: OWNER });
    return octokit.request(`PUT /orgs/{org}/${store}/secrets/{secret_name}`, {
      org: OWNER,
      secret_name: name,
      encrypted_value: seal(value, key.data.key),
      key_id: key.data.key_id,
      ...access,
    });
  }

  it.each(["actions", "dependabot", "codespaces"] as const)(
    "stores a %s organization secret with the organization's key for that store, with its visibility",
    async (store) => {
      // Act
      const created = await putOrgSecret(store, "AWS_ACCESS_KEY_ID", "AKIAORG1", { visibility: "private" });
      const updated = await putOrgSecret(store, "AWS_ACCESS_KEY_ID", "AKIAORG2", { visibility: "all" });
      const meta = await octokit.request(`GET /orgs/{org}/${store}/secrets/{secret_name}`, {
        org: OWNER,
        secret_name: "AWS_ACCESS_KEY_ID",
      });
      const list = await octokit.request(`GET /orgs/{org}/${store}/secrets`, { org: OWNER });

      // Assess
      expect([created.status, updated.status]).toEqual([201, 204]);
      expect(github.secretValueAt(org(store), "AWS_ACCESS_KEY_ID")).toBe("AKIAORG2");
      expect(github.publicKeyAt(org(store)).keyId).not.toBe(github.publicKey(OWNER, REPO).keyId);
      expect(meta.data).toMatchObject({ name: "AWS_ACCESS_KEY_ID", visibility: "all" });
      expect(list.data).toMatchObject({
        total_count: 1,
        secrets: [{ name: "AWS_ACCESS_KEY_ID", visibility: "all" }],
      });
      expect(events.map((event) => [event.scope, event.owner, event.repo])).toEqual([
        [org(store), OWNER, undefined],
        [org(store), OWNER, undefined],
      ]);
    },
  );

  it("keeps the selected repositories by ID and lists, sets, adds and removes them", async () => {
    // Prepare
    const [app, site, tool] = [
      github.repoId(OWNER, REPO),
      github.repoId(OWNER, "site"),
      github.repoId(OWNER, "tool"),
    ];
    const route = { org: OWNER, secret_name: "AWS_ACCESS_KEY_ID" };

    // Act
    await putOrgSecret("actions", "AWS_ACCESS_KEY_ID", "AKIASEL", {
      visibility: "selected",
      selected_repository_ids: [app],
    });
    const meta = await octokit.request("GET /orgs/{org}/actions/secrets/{secret_name}", route);
    const listed = await octokit.request("GET /orgs/{org}/actions/secrets/{secret_name}/repositories", route);
    await octokit.request("PUT /orgs/{org}/actions/secrets/{secret_name}/repositories", {
      ...route,
      selected_repository_ids: [site],
    });
    await octokit.request("PUT /orgs/{org}/actions/secrets/{secret_name}/repositories/{repository_id}", {
      ...route,
      repository_id: tool,
    });
    await octokit.request("DELETE /orgs/{org}/actions/secrets/{secret_name}/repositories/{repository_id}", {
      ...route,
      repository_id: site,
    });

    // Assess
    expect(meta.data.selected_repositories_url).toBe(
      `${github.url}/orgs/${OWNER}/actions/secrets/AWS_ACCESS_KEY_ID/repositories`,
    );
    expect(listed.data.total_count).toBe(1);
    expect(listed.data.repositories[0]).toMatchObject({ id: app, full_name: `${OWNER}/${REPO}` });
    expect(github.orgSecretAccess(OWNER, "actions", "AWS_ACCESS_KEY_ID")).toEqual({
      visibility: "selected",
      repositories: [`${OWNER}/tool`],
      repositoryIds: [tool],
    });
    expect(events.map((event) => event.name)).toEqual(Array(4).fill("AWS_ACCESS_KEY_ID"));
  });

  it("changes who sees a secret without a new value when the PUT carries only visibility", async () => {
    // Prepare
    github.setSecretAt(org("actions"), "AWS_ACCESS_KEY_ID", "AKIAKEPT", { visibility: "all" });

    // Act
    const response = await octokit.request("PUT /orgs/{org}/actions/secrets/{secret_name}", {
      org: OWNER,
      secret_name: "AWS_ACCESS_KEY_ID",
      visibility: "private",
    });

    // Assess
    expect(response.status).toBe(204);
    expect(github.secretValueAt(org("actions"), "AWS_ACCESS_KEY_ID")).toBe("AKIAKEPT");
    expect(github.orgSecretAccess(OWNER, "actions", "AWS_ACCESS_KEY_ID")?.visibility).toBe("private");
  });

  it("refuses selected_repository_ids without visibility selected, and IDs of other owners' repositories", async () => {
    // Prepare
    github.addRepo("elsewhere", "lib");

    // Act
    const withAll = putOrgSecret("actions", "A", "x", {
      visibility: "all",
      selected_repository_ids: [github.repoId(OWNER, REPO)],
    });
    await expect(withAll).rejects.toMatchObject({ status: 422 });
    const foreign = putOrgSecret("actions", "A", "x", {
      visibility: "selected",
      selected_repository_ids: [github.repoId("elsewhere", "lib")],
    });
    await expect(foreign).rejects.toMatchObject({ status: 422 });

    // Assess
    expect(github.violations).toEqual([
      expect.stringContaining("selected_repository_ids with visibility all"),
      expect.stringContaining("which is not a repository of octo-org"),
    ]);
    expect(github.secretNamesAt(org("actions"))).toEqual([]);
    github.resetCounters();
  });

  it("lists for a repository only the organization secrets it sees: all, private (internal too) or selected", async () => {
    // Prepare
    github.setSecretAt(org("actions"), "TO_ALL", "a", { visibility: "all" });
    github.setSecretAt(org("actions"), "TO_PRIVATE", "p", { visibility: "private" });
    github.setSecretAt(org("actions"), "TO_SITE", "s", { visibility: "selected", repositories: ["site"] });
    const seenBy = async (repo: string) =>
      (
        await octokit.request("GET /repos/{owner}/{repo}/actions/organization-secrets", {
          owner: OWNER,
          repo,
        })
      ).data.secrets.map((secret) => secret.name);

    // Act
    const seen = { app: await seenBy(REPO), site: await seenBy("site"), tool: await seenBy("tool") };

    // Assess
    expect(seen).toEqual({
      app: ["TO_ALL", "TO_PRIVATE"],
      site: ["TO_ALL", "TO_SITE"],
      tool: ["TO_ALL", "TO_PRIVATE"],
    });
  });

  it("refuses an organization member who is not an owner with GitHub's 403", async () => {
    const member = new Octokit({ auth: MEMBER_TOKEN, baseUrl: github.url });

    const attempt = member.request("GET /orgs/{org}/actions/secrets/public-key", { org: OWNER });

    await expect(attempt).rejects.toMatchObject({
      status: 403,
      message: expect.stringContaining(NOT_ORG_ADMIN),
    });
  });

  it("refuses a fine-grained token without the Secrets permission, naming the one GitHub wants", async () => {
    const reader = new Octokit({ auth: READ_SECRETS_TOKEN, baseUrl: github.url });

    const attempt = reader.request("GET /orgs/{org}/dependabot/secrets", { org: OWNER });

    await expect(attempt).rejects.toMatchObject({
      status: 403,
      response: { headers: { "x-accepted-github-permissions": "organization_dependabot_secrets=read" } },
    });
  });

  it("answers 404 for an organization that does not exist", async () => {
    const attempt = octokit.request("GET /orgs/{org}/actions/secrets/public-key", { org: "no-such-org" });

    await expect(attempt).rejects.toMatchObject({ status: 404 });
  });

  it("deletes an organization secret and its access", async () => {
    github.setSecretAt(org("codespaces"), "OLD", "x", { visibility: "all" });

    const response = await octokit.request("DELETE /orgs/{org}/codespaces/secrets/{secret_name}", {
      org: OWNER,
      secret_name: "OLD",
    });

    expect(response.status).toBe(204);
    expect(github.orgSecretAccess(OWNER, "codespaces", "OLD")).toBeUndefined();
  });

  it("creates, updates and deletes organization variables with visibility, and shows a repository those it sees", async () => {
    // Prepare
    const site = github.repoId(OWNER, "site");

    // Act
    const created = await octokit.request("POST /orgs/{org}/actions/variables", {
      org: OWNER,
      name: "AWS_ACCESS_KEY_ID",
      value: "AKIAORGVAR",
      visibility: "selected",
      selected_repository_ids: [site],
    });
    const seenBySite = await octokit.request("GET /repos/{owner}/{repo}/actions/organization-variables", {
      owner: OWNER,
      repo: "site",
    });
    const seenByApp = await octokit.request("GET /repos/{owner}/{repo}/actions/organization-variables", {
      owner: OWNER,
      repo: REPO,
    });
    const updated = await octokit.request("PATCH /orgs/{org}/actions/variables/{name}", {
      org: OWNER,
      name: "AWS_ACCESS_KEY_ID",
      value: "AKIAORGVAR2",
      visibility: "all",
    });
    const read = await octokit.request("GET /orgs/{org}/actions/variables/{name}", {
      org: OWNER,
      name: "AWS_ACCESS_KEY_ID",
    });
    const deleted = await octokit.request("DELETE /orgs/{org}/actions/variables/{name}", {
      org: OWNER,
      name: "AWS_ACCESS_KEY_ID",
    });

    // Assess
    expect([created.status, updated.status, deleted.status]).toEqual([201, 204, 204]);
    expect(seenBySite.data.variables.map((variable) => variable.value)).toEqual(["AKIAORGVAR"]);
    expect(seenByApp.data.total_count).toBe(0);
    expect(read.data).toMatchObject({ value: "AKIAORGVAR2", visibility: "all" });
    expect(github.orgVariableAccess(OWNER, "AWS_ACCESS_KEY_ID")).toBeUndefined();
    expect(events.map((event) => [event.what, event.name])).toEqual([
      ["variable", "AWS_ACCESS_KEY_ID"],
      ["variable", "AWS_ACCESS_KEY_ID"],
    ]);
  });

  it("sets and lists an organization variable's selected repositories", async () => {
    // Prepare
    github.setVariableAt(org("actions"), "REGION", "eu-west-1", {
      visibility: "selected",
      repositories: [REPO],
    });

    // Act
    await octokit.request("PUT /orgs/{org}/actions/variables/{name}/repositories", {
      org: OWNER,
      name: "REGION",
      selected_repository_ids: [github.repoId(OWNER, "tool")],
    });
    const listed = await octokit.request("GET /orgs/{org}/actions/variables/{name}/repositories", {
      org: OWNER,
      name: "REGION",
    });

    // Assess
    expect(listed.data.repositories.map((repo) => repo.name)).toEqual(["tool"]);
  });

  it("tells the organization's ID, and the caller's role in it", async () => {
    // Act
    const got = await octokit.request("GET /orgs/{org}", { org: OWNER });
    const owner = await octokit.request("GET /user/memberships/orgs/{org}", { org: OWNER });
    const member = await new Octokit({ auth: MEMBER_TOKEN, baseUrl: github.url }).request(
      "GET /user/memberships/orgs/{org}",
      { org: OWNER },
    );

    // Assess
    expect(got.data).toMatchObject({ login: OWNER, id: github.orgId(OWNER), public_repos: 1 });
    expect([owner.data.role, member.data.role]).toEqual(["admin", "member"]);
  });

  it("shows the organization's private repository count to an owner only (GitHub's full details)", async () => {
    // Prepare: a private repository besides the internal one.
    github.addRepo(OWNER, "vault", { private: true });
    const before = await octokit.request("GET /orgs/{org}", { org: OWNER });
    github.addRepo(OWNER, "vault-2", { private: true });

    // Act
    const asOwner = await octokit.request("GET /orgs/{org}", { org: OWNER });
    const asMember = await new Octokit({ auth: MEMBER_TOKEN, baseUrl: github.url }).request(
      "GET /orgs/{org}",
      {
        org: OWNER,
      },
    );

    // Assess
    expect(asOwner.data.total_private_repos).toBe((before.data.total_private_repos ?? 0) + 1);
    expect(asOwner.data.owned_private_repos).toBe(asOwner.data.total_private_repos);
    expect(asMember.data.total_private_repos).toBeUndefined();
    expect(asMember.data.public_repos).toBe(asOwner.data.public_repos);
  });
});
