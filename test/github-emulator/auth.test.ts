import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { GitHubEmulator } from "../../scripts/local-stack/github-emulator/index.ts";
import {
  client,
  json,
  OWNER,
  READ_TOKEN,
  REPO,
  seal,
  startEmulatorWithRepo,
  WRITE_TOKEN,
} from "./helpers.ts";

const SECRETS = `/repos/${OWNER}/${REPO}/actions/secrets`;

describe("authentication and access", () => {
  let github: GitHubEmulator;

  beforeEach(async () => {
    github = await startEmulatorWithRepo();
  });

  afterEach(async () => {
    await github.close();
  });

  it("tells the token owner's login on GET /user", async () => {
    const response = await client(github, WRITE_TOKEN).get("/user");

    expect(response.status).toBe(200);
    expect(await json(response)).toMatchObject({ login: "rotator-bot", type: "User" });
  });

  it("answers 401 Bad credentials for an unknown token", async () => {
    const response = await client(github, "ghp_doesNotExist").get("/user");

    expect(response.status).toBe(401);
    expect(await json(response)).toEqual({
      message: "Bad credentials",
      documentation_url: "https://docs.github.com/rest",
      status: "401",
    });
  });

  it("answers 401 Requires authentication without a token", async () => {
    const response = await client(github, undefined).get(`/repos/${OWNER}/${REPO}`);

    expect(response.status).toBe(401);
    expect(await json(response)).toMatchObject({ message: "Requires authentication" });
  });

  it("accepts the token as Bearer and as Basic auth password", async () => {
    // Prepare
    const anonymous = client(github, undefined);
    const basic = Buffer.from(`rotator-bot:${WRITE_TOKEN}`).toString("base64");

    // Act
    const bearer = await anonymous.request("GET", "/user", undefined, {
      authorization: `Bearer ${WRITE_TOKEN}`,
    });
    const basicAuth = await anonymous.request("GET", "/user", undefined, { authorization: `Basic ${basic}` });

    // Assess
    expect([bearer.status, basicAuth.status]).toEqual([200, 200]);
  });

  it("answers 404 for a repository the token cannot reach, the same as for a missing one", async () => {
    // Prepare
    github.addRepo(OWNER, "private-elsewhere");
    const reader = client(github, READ_TOKEN);

    // Act
    const unreachable = await reader.get(`/repos/${OWNER}/private-elsewhere`);
    const missing = await reader.get(`/repos/${OWNER}/never-created`);

    // Assess
    expect(unreachable.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(await json(unreachable)).toEqual(await json(missing));
  });

  it("matches owner and repository names case-insensitively, like GitHub", async () => {
    const response = await client(github, READ_TOKEN).get(
      `/repos/${OWNER.toUpperCase()}/${REPO.toUpperCase()}`,
    );

    expect(response.status).toBe(200);
    expect(await json(response)).toMatchObject({ full_name: `${OWNER}/${REPO}` });
  });

  it("refuses a read-only token the public key and secret writes with 403", async () => {
    // Prepare
    const reader = client(github, READ_TOKEN);
    const { key, keyId } = github.publicKey(OWNER, REPO);

    // Act
    const publicKey = await reader.get(`${SECRETS}/public-key`);
    const put = await reader.put(`${SECRETS}/AWS_ACCESS_KEY_ID`, { encrypted_value: key, key_id: keyId });

    // Assess
    expect(publicKey.status).toBe(403);
    expect(publicKey.headers.get("x-accepted-github-permissions")).toBe("secrets=read");
    expect(put.status).toBe(403);
    expect(put.headers.get("x-accepted-github-permissions")).toBe("secrets=write");
    expect(await json(put)).toMatchObject({ message: "Resource not accessible by personal access token" });
    expect(github.secretValue(OWNER, REPO, "AWS_ACCESS_KEY_ID")).toBeUndefined();
  });

  it("shows a read-only token the repository with pull permission only", async () => {
    const response = await client(github, READ_TOKEN).get(`/repos/${OWNER}/${REPO}`);

    expect(await json(response)).toMatchObject({
      permissions: { admin: false, maintain: false, push: false, triage: false, pull: true },
    });
  });

  it("answers 401 once a token is revoked", async () => {
    github.revokeToken(WRITE_TOKEN);

    const response = await client(github, WRITE_TOKEN).get("/user");

    expect(response.status).toBe(401);
  });

  it("sends GitHub's rate-limit and request-id headers", async () => {
    // Prepare
    const api = client(github, WRITE_TOKEN);
    await api.get("/user");

    // Act
    const response = await api.get("/user");

    // Assess
    expect(response.headers.get("x-ratelimit-limit")).toBe("5000");
    expect(response.headers.get("x-ratelimit-used")).toBe("2");
    expect(response.headers.get("x-ratelimit-remaining")).toBe("4998");
    expect(Number(response.headers.get("x-ratelimit-reset"))).toBeGreaterThan(Date.now() / 1000);
    expect(response.headers.get("x-github-request-id")).toMatch(/^[0-9A-F]{4}(:[0-9A-F]+){4}$/);
    expect(response.headers.get("content-type")).toBe("application/json; charset=utf-8");
  });
});

describe("roles, classic tokens and archived repositories", () => {
  let github: GitHubEmulator;
  const CLASSIC_WRITER = "ghp_classicWriterForTests0000000000000";
  const CLASSIC_COLLABORATOR = "ghp_classicCollaboratorForTests00000000";

  beforeEach(async () => {
    github = await startEmulatorWithRepo();
    github.addToken(CLASSIC_WRITER, {
      login: "admin-bot",
      repos: "all",
      permission: "write",
      kind: "classic",
    });
    github.addToken(CLASSIC_COLLABORATOR, {
      login: "writer-bot",
      repos: "all",
      permission: "write",
      kind: "classic",
      scopes: ["repo", "workflow"],
      role: "write",
    });
  });

  afterEach(async () => {
    expect(github.violations).toEqual([]);
    await github.close();
  });

  it("lists a classic token's scopes in X-OAuth-Scopes, and a fine-grained token's nowhere", async () => {
    // Act
    const classic = await client(github, CLASSIC_COLLABORATOR).get("/user");
    const fineGrained = await client(github, WRITE_TOKEN).get("/user");

    // Assess
    expect(classic.headers.get("x-oauth-scopes")).toBe("repo, workflow");
    expect(fineGrained.headers.get("x-oauth-scopes")).toBeNull();
  });

  it("reports the user's role in the repository's permissions", async () => {
    // Act
    const admin = await json(await client(github, CLASSIC_WRITER).get(`/repos/${OWNER}/${REPO}`));
    const writer = await json(await client(github, CLASSIC_COLLABORATOR).get(`/repos/${OWNER}/${REPO}`));

    // Assess
    expect(admin.permissions).toEqual({ admin: true, maintain: true, push: true, triage: true, pull: true });
    expect(writer.permissions).toEqual({
      admin: false,
      maintain: false,
      push: true,
      triage: true,
      pull: true,
    });
  });

  it("refuses a user without the admin role the secrets with GitHub's 403 Must have admin rights", async () => {
    // Act
    const publicKey = await client(github, CLASSIC_COLLABORATOR).get(`${SECRETS}/public-key`);
    const { key, keyId } = github.publicKey(OWNER, REPO);
    const put = await client(github, CLASSIC_COLLABORATOR).put(`${SECRETS}/AWS_ACCESS_KEY_ID`, {
      encrypted_value: seal("x", key),
      key_id: keyId,
    });

    // Assess
    expect(publicKey.status).toBe(403);
    expect(await json(publicKey)).toMatchObject({ message: "Must have admin rights to Repository." });
    expect(put.status).toBe(403);
    expect(github.secretValue(OWNER, REPO, "AWS_ACCESS_KEY_ID")).toBeUndefined();
  });

  it("reports an archived repository as archived and refuses writes with GitHub's 403, but still serves reads", async () => {
    // Prepare
    github.archiveRepo(OWNER, REPO);
    const api = client(github, CLASSIC_WRITER);

    // Act
    const repository = await json(await api.get(`/repos/${OWNER}/${REPO}`));
    const publicKey = await api.get(`${SECRETS}/public-key`);
    const put = await api.putSecret(OWNER, REPO, "AWS_ACCESS_KEY_ID", "x");
    github.archiveRepo(OWNER, REPO, false);
    const afterUnarchive = await api.putSecret(OWNER, REPO, "AWS_ACCESS_KEY_ID", "x");

    // Assess
    expect(repository.archived).toBe(true);
    expect(publicKey.status).toBe(200);
    expect(put.status).toBe(403);
    expect(await json(put)).toMatchObject({ message: "Repository was archived so is read-only." });
    expect(afterUnarchive.status).toBe(201);
  });
});
