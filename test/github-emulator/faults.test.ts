import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type GitHubEmulator,
  primaryRateLimitFault,
  secondaryRateLimitFault,
} from "../../scripts/local-stack/github-emulator/index.ts";
import { client, json, OWNER, REPO, startEmulatorWithRepo, WRITE_TOKEN } from "./helpers.ts";

const PUBLIC_KEY = `/repos/${OWNER}/${REPO}/actions/secrets/public-key`;
const PUT_SECRET = "/repos/{owner}/{repo}/actions/secrets/{secret_name}";

describe("fault rules", () => {
  let github: GitHubEmulator;

  beforeEach(async () => {
    github = await startEmulatorWithRepo();
  });

  afterEach(async () => {
    await github.close();
  });

  it("matches an organization's endpoints by owner", async () => {
    // Prepare
    github.addOrg(OWNER);
    github.addOrg("other-org");
    github.addFault({ owner: OWNER, status: 503, times: Number.POSITIVE_INFINITY });
    const api = client(github, WRITE_TOKEN);

    // Act
    const faulted = await api.get(`/orgs/${OWNER}/dependabot/secrets/public-key`);
    const other = await api.get("/orgs/other-org/dependabot/secrets/public-key");

    // Assess
    expect([faulted.status, other.status]).toEqual([503, 200]);
  });

  it("applies a fault to the next N matching requests, then serves normally", async () => {
    // Prepare
    const fault = github.addFault({
      method: "GET",
      route: "actions/get-repo-public-key",
      status: 502,
      times: 2,
    });
    const api = client(github, WRITE_TOKEN);

    // Act
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await api.get(PUBLIC_KEY)).status);

    // Assess
    expect(statuses).toEqual([502, 502, 200]);
    expect(fault.hits).toBe(2);
    expect(fault.remaining).toBe(0);
    expect(github.requests.map((entry) => entry.fault)).toEqual([true, true, false]);
    expect(github.violations).toEqual([]);
  });

  it("answers with GitHub's error body for the injected status", async () => {
    github.addFault({ route: PUT_SECRET, status: 500 });

    const response = await client(github, WRITE_TOKEN).putSecret(OWNER, REPO, "AWS_ACCESS_KEY_ID", "AKIA1");

    expect(response.status).toBe(500);
    expect(await json(response)).toMatchObject({ message: "Server Error", status: "500" });
    expect(github.secretValue(OWNER, REPO, "AWS_ACCESS_KEY_ID")).toBeUndefined();
  });

  it("only faults requests for the named repository", async () => {
    // Prepare
    github.addRepo(OWNER, "other");
    github.addFault({ owner: OWNER, repo: "other", status: 503, times: Number.POSITIVE_INFINITY });
    const api = client(github, WRITE_TOKEN);

    // Act
    const other = await api.get(`/repos/${OWNER}/other/actions/secrets/public-key`);
    const mine = await api.get(PUBLIC_KEY);

    // Assess
    expect([other.status, mine.status]).toEqual([503, 200]);
  });

  it("lets the first matching requests through when told to skip them", async () => {
    github.addFault({ route: PUT_SECRET, status: 422, skip: 1 });
    const api = client(github, WRITE_TOKEN);

    const first = await api.putSecret(OWNER, REPO, "AWS_ACCESS_KEY_ID", "AKIA1");
    const second = await api.putSecret(OWNER, REPO, "AWS_SECRET_ACCESS_KEY", "s");

    expect([first.status, second.status]).toEqual([201, 422]);
  });

  it("answers a secondary rate limit with 403 and retry-after", async () => {
    github.addFault({ method: "PUT", ...secondaryRateLimitFault(30) });

    const response = await client(github, WRITE_TOKEN).putSecret(OWNER, REPO, "AWS_ACCESS_KEY_ID", "AKIA1");

    expect(response.status).toBe(403);
    expect(response.headers.get("retry-after")).toBe("30");
    expect(await json(response)).toMatchObject({ message: expect.stringContaining("secondary rate limit") });
  });

  it("answers a primary rate limit with x-ratelimit-remaining 0 and the reset time", async () => {
    github.addFault({ route: "users/get-authenticated", ...primaryRateLimitFault(1_900_000_000) });

    const response = await client(github, WRITE_TOKEN).get("/user");

    expect(response.status).toBe(403);
    expect(response.headers.get("x-ratelimit-remaining")).toBe("0");
    expect(response.headers.get("x-ratelimit-reset")).toBe("1900000000");
  });

  it("drops the connection without answering", async () => {
    // Prepare
    github.addFault({ route: "users/get-authenticated", drop: true });
    const api = client(github, WRITE_TOKEN);

    // Act
    const dropped = api.get("/user");

    // Assess
    await expect(dropped).rejects.toThrow();
    expect((await api.get("/user")).status).toBe(200);
    expect(github.requests[0]).toMatchObject({ status: undefined, dropped: true, fault: true });
  });

  it("delays a request, then serves it normally", async () => {
    github.addFault({ route: "users/get-authenticated", delayMs: 5 });

    const response = await client(github, WRITE_TOKEN).get("/user");

    expect(response.status).toBe(200);
    expect(github.requests[0]).toMatchObject({ status: 200, fault: true });
  });

  it("stops faulting once the rules are cleared", async () => {
    github.addFault({ status: 500, times: Number.POSITIVE_INFINITY });
    github.clearFaults();

    const response = await client(github, WRITE_TOKEN).get("/user");

    expect(response.status).toBe(200);
  });

  it("records a violation when an injected body lacks GitHub's error envelope", async () => {
    github.addFault({ route: "users/get-authenticated", status: 500, body: { error: "boom" } });

    await client(github, WRITE_TOKEN).get("/user");

    expect(github.violations).toHaveLength(1);
    expect(github.violations[0]).toContain("must have required property 'message'");
  });

  it("refuses rules that would do nothing or cannot be honoured", () => {
    expect(() => github.addFault({ route: "users/get-authenticated" })).toThrow(
      "github-emulator: a fault needs a status, drop: true or delayMs",
    );
    expect(() => github.addFault({ status: 500, times: 0 })).toThrow(
      "fault times must be a positive integer",
    );
    expect(() => github.addFault({ status: 500, drop: true })).toThrow(
      "cannot both answer with a status and drop",
    );
  });
});
