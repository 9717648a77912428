import { afterEach, describe, expect, it } from "vitest";
import { type GitHubEmulator, peakConcurrency } from "../../scripts/local-stack/github-emulator/index.ts";
import { client, deferred, OWNER, REPO, seal, startEmulatorWithRepo, WRITE_TOKEN } from "./helpers.ts";

describe("the access log", () => {
  let github: GitHubEmulator;

  afterEach(async () => {
    await github.close();
  });

  it("records method, path, route, repository, login and status of each request", async () => {
    github = await startEmulatorWithRepo({ now: () => 1_750_000_000_000 });

    await client(github, WRITE_TOKEN).putSecret(OWNER, REPO, "AWS_ACCESS_KEY_ID", "AKIA1");

    expect(github.requests).toEqual([
      expect.objectContaining({
        id: 1,
        method: "GET",
        path: `/repos/${OWNER}/${REPO}/actions/secrets/public-key`,
        route: "/repos/{owner}/{repo}/actions/secrets/public-key",
        operationId: "actions/get-repo-public-key",
        repo: `${OWNER}/${REPO}`,
        login: "rotator-bot",
        status: 200,
        fault: false,
        timestamp: 1_750_000_000_000,
      }),
      expect.objectContaining({ id: 2, method: "PUT", status: 201, inFlightAtStart: 1 }),
    ]);
  });

  it("never holds request bodies, tokens or secret values, not even in violations", async () => {
    // Prepare
    github = await startEmulatorWithRepo();
    const api = client(github, WRITE_TOKEN);
    const value = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY";
    const wrongKey = Buffer.alloc(32, 7).toString("base64");
    const misSealed = seal(value, wrongKey);

    // Act
    await api.putSecret(OWNER, REPO, "AWS_SECRET_ACCESS_KEY", value);
    await api.put(`/repos/${OWNER}/${REPO}/actions/secrets/AWS_SECRET_ACCESS_KEY`, {
      encrypted_value: misSealed,
      key_id: github.publicKey(OWNER, REPO).keyId,
    });

    // Assess
    const recorded = JSON.stringify([github.requests, github.violations]);
    expect(github.violations).toHaveLength(1);
    for (const sensitive of [value, misSealed, WRITE_TOKEN]) expect(recorded).not.toContain(sensitive);
  });

  it("clears the log, violations and failures on resetCounters but keeps repositories and secrets", async () => {
    // Prepare
    github = await startEmulatorWithRepo({
      onSecretWritten: () => {
        throw new Error("invariant broken");
      },
    });
    const api = client(github, WRITE_TOKEN);
    await api.putSecret(OWNER, REPO, "AWS_ACCESS_KEY_ID", "AKIA1");
    await api.get("/nowhere");

    // Act
    github.resetCounters();

    // Assess
    expect(github.requests).toEqual([]);
    expect(github.violations).toEqual([]);
    expect(github.invariantFailures).toEqual([]);
    expect(github.secretValue(OWNER, REPO, "AWS_ACCESS_KEY_ID")).toBe("AKIA1");
    expect((await api.get("/user")).headers.get("x-ratelimit-used")).toBe("1");
  });

  it("shows how many requests were in progress together", async () => {
    // Prepare: hold a PUT inside the write hook while another request completes.
    const atHook = deferred();
    const release = deferred();
    github = await startEmulatorWithRepo({
      onSecretWritten: async () => {
        atHook.resolve();
        await release.promise;
      },
    });
    const api = client(github, WRITE_TOKEN);
    const slowPut = api.putSecret(OWNER, REPO, "A", "1");
    await atHook.promise;

    // Act
    await api.get("/user");
    const inFlightDuringPut = github.inFlight;
    release.resolve();
    await slowPut;

    // Assess
    expect(inFlightDuringPut).toBe(1);
    expect(peakConcurrency(github.requests)).toBe(2);
    expect(github.inFlight).toBe(0);
  });

  it("serves under a GitHub Enterprise Server style base path", async () => {
    // Prepare
    github = await startEmulatorWithRepo({ basePath: "/api/v3" });
    const origin = new URL(github.url).origin;

    // Act
    const inside = await client(github, WRITE_TOKEN).get("/user");
    const outside = await fetch(`${origin}/user`, { headers: { authorization: `token ${WRITE_TOKEN}` } });

    // Assess
    expect(github.url).toBe(`${origin}/api/v3`);
    expect(inside.status).toBe(200);
    expect(outside.status).toBe(404);
    expect(github.requests.map((entry) => entry.path)).toEqual(["/user", "/user"]);
    expect(github.violations).toEqual([
      "GET /user: route not emulated: no GitHub REST operation has this method and path",
    ]);
  });
});
