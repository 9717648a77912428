/**
 * Renamed, transferred and re-created repositories, answered as GitHub does: a moved repository's old name
 * redirects (301 for GET, 307 for other methods, `Location` under `/repositories/{id}`) until a repository is
 * created under that name, which then has a new ID; and the token's expiry header.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { GitHubEmulator } from "../../scripts/local-stack/github-emulator/index.ts";
import { json, OWNER, REPO, seal, startEmulatorWithRepo, WRITE_TOKEN } from "./helpers.ts";

/** A request that does not follow redirects, as the function's client. */
function send(github: GitHubEmulator, method: string, path: string, body?: unknown, token = WRITE_TOKEN) {
  return fetch(`${github.url}${path}`, {
    method,
    redirect: "manual",
    headers: {
      accept: "application/vnd.github+json",
      authorization: `token ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

describe("a renamed repository", () => {
  let github: GitHubEmulator;

  beforeEach(async () => {
    github = await startEmulatorWithRepo();
  });

  afterEach(async () => {
    expect(github.violations).toEqual([]);
    await github.close();
  });

  it("answers GET on its old name with 301 and the Location of its ID, and keeps its ID under the new name", async () => {
    // Prepare
    const id = github.repoId(OWNER, REPO);
    github.moveRepo(OWNER, REPO, { owner: OWNER, name: "app-renamed" });

    // Act
    const response = await send(github, "GET", `/repos/${OWNER}/${REPO}`);
    const renamed = await json(await send(github, "GET", `/repos/${OWNER}/app-renamed`));

    // Assess
    expect(response.status).toBe(301);
    expect(response.headers.get("location")).toBe(`${github.url}/repositories/${id}`);
    expect(await json(response)).toMatchObject({ message: "Moved Permanently" });
    expect(renamed).toMatchObject({ id, full_name: `${OWNER}/app-renamed` });
  });

  it("answers a PUT to its old name with 307, keeping the rest of the path, and stores nothing", async () => {
    // Prepare
    const id = github.repoId(OWNER, REPO);
    const key = github.publicKey(OWNER, REPO);
    github.moveRepo(OWNER, REPO, { owner: OWNER, name: "app-renamed" });

    // Act
    const response = await send(github, "PUT", `/repos/${OWNER}/${REPO}/actions/secrets/AWS_KEY`, {
      encrypted_value: seal("value", key.key),
      key_id: key.keyId,
    });

    // Assess
    expect(response.status).toBe(307);
    expect(response.headers.get("location")).toBe(`${github.url}/repositories/${id}/actions/secrets/AWS_KEY`);
    expect(github.secretNames(OWNER, "app-renamed")).toEqual([]);
  });
});

describe("a transferred repository", () => {
  let github: GitHubEmulator;

  beforeEach(async () => {
    github = await startEmulatorWithRepo();
  });

  afterEach(async () => {
    expect(github.violations).toEqual([]);
    await github.close();
  });

  it("redirects its old owner/name, and answers under the new owner with the same ID and secrets", async () => {
    // Prepare
    github.setSecret(OWNER, REPO, "AWS_KEY", "kept");
    const id = github.repoId(OWNER, REPO);
    github.moveRepo(OWNER, REPO, { owner: "elsewhere", name: REPO });

    // Act
    const old = await send(github, "GET", `/repos/${OWNER}/${REPO}/actions/secrets/public-key`);

    // Assess
    expect(old.status).toBe(301);
    expect(old.headers.get("location")).toBe(`${github.url}/repositories/${id}/actions/secrets/public-key`);
    expect(github.repoId("elsewhere", REPO)).toBe(id);
    expect(github.secretValue("elsewhere", REPO, "AWS_KEY")).toBe("kept");
  });
});

describe("a repository re-created under an old name", () => {
  let github: GitHubEmulator;

  beforeEach(async () => {
    github = await startEmulatorWithRepo();
  });

  afterEach(async () => {
    expect(github.violations).toEqual([]);
    await github.close();
  });

  it("answers with a new ID after the old one was deleted", async () => {
    // Prepare
    const before = github.repoId(OWNER, REPO);
    github.deleteRepo(OWNER, REPO);
    github.addRepo(OWNER, REPO);

    // Act
    const body = await json(await send(github, "GET", `/repos/${OWNER}/${REPO}`));

    // Assess
    expect(body.id).not.toBe(before);
    expect(body.id).toBe(github.repoId(OWNER, REPO));
  });

  it("takes the name back from a renamed repository: no redirect any more, a new ID", async () => {
    // Prepare
    const moved = github.repoId(OWNER, REPO);
    github.moveRepo(OWNER, REPO, { owner: OWNER, name: "app-renamed" });
    github.addRepo(OWNER, REPO);

    // Act
    const response = await send(github, "GET", `/repos/${OWNER}/${REPO}`);

    // Assess
    expect(response.status).toBe(200);
    expect((await json(response)).id).not.toBe(moved);
    expect(github.repoId(OWNER, "app-renamed")).toBe(moved);
  });
});

describe("a token with an expiration date", () => {
  let github: GitHubEmulator;
  let now = Date.parse("2026-03-01T12:00:00Z");

  beforeEach(async () => {
    now = Date.parse("2026-03-01T12:00:00Z");
    github = await startEmulatorWithRepo({ now: () => now });
    github.addToken("expiring-token-for-tests-000000", {
      login: "rotator-bot",
      repos: "all",
      permission: "write",
      expiresAt: new Date("2026-03-10T08:30:00Z"),
    });
  });

  afterEach(async () => {
    expect(github.violations).toEqual([]);
    await github.close();
  });

  it("carries GitHub-Authentication-Token-Expiration on every answer, in GitHub's format", async () => {
    // Act
    const user = await send(github, "GET", "/user", undefined, "expiring-token-for-tests-000000");
    const repo = await send(
      github,
      "GET",
      `/repos/${OWNER}/${REPO}`,
      undefined,
      "expiring-token-for-tests-000000",
    );

    // Assess
    expect(user.headers.get("github-authentication-token-expiration")).toBe("2026-03-10 08:30:00 UTC");
    expect(repo.headers.get("github-authentication-token-expiration")).toBe("2026-03-10 08:30:00 UTC");
  });

  it("sends no such header for a token without an expiration date", async () => {
    // Act
    const response = await send(github, "GET", "/user");

    // Assess
    expect(response.headers.get("github-authentication-token-expiration")).toBeNull();
  });

  it("answers 401 Bad credentials once the token has expired", async () => {
    // Prepare
    now = Date.parse("2026-03-10T08:30:00Z");

    // Act
    const response = await send(github, "GET", "/user", undefined, "expiring-token-for-tests-000000");

    // Assess
    expect(response.status).toBe(401);
  });
});
