import { afterEach, describe, expect, it } from "vitest";
import type { GitHubEmulator } from "../../scripts/local-stack/github-emulator/index.ts";
import { client, deferred, json, OWNER, REPO, startEmulatorWithRepo, WRITE_TOKEN } from "./helpers.ts";

const START = Date.parse("2025-06-01T12:00:00Z");

describe("rate-limit emulation", () => {
  let github: GitHubEmulator;

  afterEach(async () => {
    await github.close();
  });

  it("rejects writes beyond writesPerMinute with a secondary rate limit until the minute has passed", async () => {
    // Prepare
    let now = START;
    github = await startEmulatorWithRepo({ now: () => now, limits: { writesPerMinute: 2 } });
    const api = client(github, WRITE_TOKEN);
    await api.putSecret(OWNER, REPO, "A", "1");
    await api.putSecret(OWNER, REPO, "B", "2");

    // Act
    const limited = await api.putSecret(OWNER, REPO, "C", "3");
    now += 60_000;
    const later = await api.putSecret(OWNER, REPO, "C", "3");

    // Assess
    expect(limited.status).toBe(403);
    expect(limited.headers.get("retry-after")).toBe("60");
    expect(await json(limited)).toMatchObject({ message: expect.stringContaining("secondary rate limit") });
    expect(later.status).toBe(201);
    expect(github.limitViolations).toBe(1);
    expect(github.requests.filter((entry) => entry.limited)).toHaveLength(1);
    expect(github.requests.filter((entry) => entry.limitedBy === "secondary")).toHaveLength(1);
    expect(github.violations).toEqual([]);
  });

  it("shrinks the windows by timeScale and reports retry-after in real seconds", async () => {
    let now = START;
    github = await startEmulatorWithRepo({ now: () => now, limits: { writesPerMinute: 1, timeScale: 60 } });
    const api = client(github, WRITE_TOKEN);
    await api.putSecret(OWNER, REPO, "A", "1");

    const limited = await api.putSecret(OWNER, REPO, "B", "2");
    now += 1_000;
    const later = await api.putSecret(OWNER, REPO, "B", "2");

    expect(limited.headers.get("retry-after")).toBe("1");
    expect(later.status).toBe(201);
  });

  it("rejects a request arriving while maxConcurrent requests are in progress", async () => {
    // Prepare: hold the first PUT inside the write hook so it stays in flight.
    const atHook = deferred();
    const release = deferred();
    github = await startEmulatorWithRepo({
      limits: { maxConcurrent: 1 },
      onSecretWritten: async () => {
        atHook.resolve();
        await release.promise;
      },
    });
    const api = client(github, WRITE_TOKEN);
    const slowPut = api.putSecret(OWNER, REPO, "A", "1");
    await atHook.promise;

    // Act
    const concurrent = await api.get("/user");
    release.resolve();

    // Assess
    expect(concurrent.status).toBe(403);
    expect(concurrent.headers.get("retry-after")).not.toBeNull();
    expect((await slowPut).status).toBe(201);
    expect(github.limitViolations).toBe(1);
  });

  it("enforces requestsPerHour as GitHub's primary limit", async () => {
    github = await startEmulatorWithRepo({ limits: { requestsPerHour: 2 } });
    const api = client(github, WRITE_TOKEN);
    await api.get("/user");
    await api.get("/user");

    const limited = await api.get("/user");

    expect(limited.status).toBe(403);
    expect(limited.headers.get("x-ratelimit-remaining")).toBe("0");
    expect(limited.headers.get("x-ratelimit-limit")).toBe("2");
    expect(await json(limited)).toMatchObject({
      message: expect.stringContaining("API rate limit exceeded"),
    });
    expect(github.requests.map((entry) => entry.limitedBy)).toEqual([undefined, undefined, "primary"]);
  });

  it("refuses limits that are not positive numbers", async () => {
    await expect(startEmulatorWithRepo({ limits: { maxConcurrent: 0 } })).rejects.toThrow(
      "github-emulator: limits.maxConcurrent must be a positive number, got 0",
    );
    github = await startEmulatorWithRepo();
  });
});
