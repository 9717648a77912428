/**
 * GitHub misbehaving, end to end: the Rotate runbook of a full local stack (moto, the GitHub emulator, the
 * template's Lambda code on Node 24 with its production GitHub client settings), with the emulator answering
 * 401/403/404, 5xx, rate limits, a rotated public key, a dropped connection or no answer at all.
 *
 * | GitHub does                                   | Rotate must                                                    |
 * |-----------------------------------------------|----------------------------------------------------------------|
 * | 401 token rejected / 403 no permission / 404  | fail in preflight naming the repos and the fix; no IAM change  |
 * | 5xx, 429, secondary-limit 403 (retry-after),  | retry as GitHub says (after retry-after / x-ratelimit-reset),  |
 * | primary limit (x-ratelimit-reset)             | a bounded number of times; exhausted: Failed, old key Active,  |
 * |                                               | and the next run completes                                     |
 * | 422 stale key_id on PUT                       | fetch the new public key, write again, succeed                 |
 * | no answer within the request timeout / drop   | abandon the attempt and retry, a bounded number of times       |
 *
 * Attempts are counted in the emulator's access log; that a retry waited is checked as an ordering of the logged
 * times (the retry did not start before the instant GitHub allowed), never as a duration. The function runs with
 * its production client settings (no test hook: `secondMs` is not reachable from the template's environment), so
 * its waits are real: GitHub's answers ask for short ones (retry-after 1 s, x-ratelimit-reset 2 s ahead), while
 * plugin-retry's 1 + 4 + 9 s back-off and the 15 s request timeout are the production values. The tests run
 * concurrently, so those waits overlap. Variants that need shrunken time are in github-client-faults.test.ts.
 */
import { afterAll, describe, inject, it, type RunnerTask, type TestContext } from "vitest";
import {
  type FaultRule,
  primaryRateLimitFault,
  type RequestLogEntry,
  secondaryRateLimitFault,
} from "../../scripts/local-stack/github-emulator/index.ts";
import { createStack, type Stack, type StackOptions } from "../../scripts/local-stack/stack-fixture.ts";
import { writeFigures } from "./figures.ts";

const endpoint = inject("motoEndpoint");

const USER_ROUTE = "/user";
const REPO_ROUTE = "/repos/{owner}/{repo}";
const PUBLIC_KEY_ROUTE = "/repos/{owner}/{repo}/actions/secrets/public-key";
const SECRET_ROUTE = "/repos/{owner}/{repo}/actions/secrets/{secret_name}";
/** GitHub's 403 message when a fine-grained token lacks the permission an endpoint needs. */
const PAT_FORBIDDEN = "Resource not accessible by personal access token";

/** Fault kinds each test provokes, for the figures: a kind counts as passed when its test passed. */
const kindsOf = new Map<RunnerTask, readonly string[]>();
afterAll(() => {
  const tried = new Set<string>();
  const passed = new Set<string>();
  for (const [task, kinds] of kindsOf) {
    for (const kind of kinds) {
      tried.add(kind);
      if (task.result?.state === "pass") passed.add(kind);
    }
  }
  writeFigures("github-faults", [
    {
      label: "GitHub fault kinds tried end to end (Rotate runbook, template Lambda)",
      value: String(tried.size),
    },
    {
      label: "… handled as GitHub documents (retried, bounded, or failed with a fix)",
      value: String(passed.size),
    },
    { label: "Kinds tried", value: [...tried].join("; ") },
  ]);
});

/**
 * A stack for this test only (the tests run concurrently), closed when the test ends, after what every run must
 * keep: no secret in any captured output (the emulator's access log included), R1, and no request GitHub's API
 * description forbids.
 */
async function openStack({ expect, onTestFinished }: TestContext, options: StackOptions): Promise<Stack> {
  const stack = await createStack(endpoint, options);
  onTestFinished(async () => {
    try {
      const { github } = stack;
      const emulatorTexts = [
        JSON.stringify(github.requests),
        ...github.violations,
        ...github.invariantFailures,
      ];
      expect(await stack.secretLeaks(emulatorTexts), "secret values in captured output").toEqual([]);
      expect(stack.r1Failures, "R1").toEqual([]);
      expect(github.violations, "requests GitHub would refuse").toEqual([]);
      expect(github.invariantFailures).toEqual([]);
    } finally {
      await stack.close();
    }
  });
  return stack;
}

/** Records which fault kinds a test provokes; afterAll counts those of the tests that passed. */
function faultKinds(context: TestContext, ...names: string[]): void {
  kindsOf.set(context.task, names);
}

/** The emulator's log of one repository's requests to one route (and method), in arrival order. */
function attempts(stack: Stack, route: string, method: string, repo?: string): RequestLogEntry[] {
  return stack.github.requests
    .filter((e) => e.route === route && e.method === method && (repo === undefined || e.repo === repo))
    .sort((a, b) => a.id - b.id);
}

const statuses = (entries: readonly RequestLogEntry[]) =>
  entries.map((e) => (e.dropped ? "dropped" : e.status));

function fault(stack: Stack, repo: string, rule: FaultRule) {
  const [owner = "", name = ""] = repo.split("/");
  return stack.github.addFault({ owner, repo: name, ...rule });
}

describe.concurrent("Rotate runbook when GitHub refuses the token or a repository", () => {
  it("fails in preflight when GitHub rejects the token (401), saying to store a new one, and changes no key", async (context) => {
    // Prepare
    const { expect } = context;
    faultKinds(context, "401 token rejected");
    const stack = await openStack(context, {
      repos: ["octo-org/api"],
      existingKeys: 1,
      seedReposWithExistingKey: true,
    });
    const keysBefore = await stack.keys();
    stack.github.revokeToken(await stack.githubToken());

    // Act
    const { execution } = await stack.runRunbook("Rotate");

    // Assess
    expect(execution.status).toBe("Failed");
    expect(execution.failureMessage).toContain("GET /user (401 Bad credentials): the token was rejected");
    expect(execution.failureMessage).toMatch(
      /Fix: .*Create a new token .* store it in the secret \S*GitHubToken/,
    );
    expect(await stack.keys()).toEqual(keysBefore);
    expect(statuses(attempts(stack, USER_ROUTE, "GET")), "a 401 is not retried").toEqual([401]);
    expect(attempts(stack, SECRET_ROUTE, "PUT")).toEqual([]);
  });

  it("fails in preflight naming the repository the token may not write (403) and the missing one (404), each with its fix", async (context) => {
    // Prepare
    const { expect } = context;
    faultKinds(context, "403 no permission", "404 repository not found");
    const stack = await openStack(context, {
      repos: ["octo-org/api", "octo-org/locked", "octo-org/gone"],
      githubRepos: ["octo-org/api", "octo-org/locked"],
      existingKeys: 1,
      seedReposWithExistingKey: false,
    });
    fault(stack, "octo-org/locked", {
      route: PUBLIC_KEY_ROUTE,
      status: 403,
      message: PAT_FORBIDDEN,
      headers: { "x-accepted-github-permissions": "secrets=read" },
      times: Number.POSITIVE_INFINITY,
    });
    const keysBefore = await stack.keys();

    // Act
    const { execution } = await stack.runRunbook("Rotate");

    // Assess
    expect(execution.status).toBe("Failed");
    const message = execution.failureMessage ?? "";
    expect(message).toContain(
      "GitHub preflight failed for 2 repositories: octo-org/locked, octo-org/gone. Nothing was changed.",
    );
    expect(message).toMatch(
      /octo-org\/locked: failed — .*403 .*the fine-grained token lacks a permission the request needs \(GitHub asks for secrets=read\)\. Fix: Edit the fine-grained token .*"Secrets" to "Read and write"/,
    );
    expect(message).toMatch(
      /octo-org\/gone: failed — .*404 .*does not exist or the token cannot see it\. Fix: Check Owner and Name of octo-org\/gone in repos\.json/,
    );
    expect(message).not.toContain("octo-org/api: failed");
    expect(await stack.keys()).toEqual(keysBefore);
    expect(
      statuses(attempts(stack, PUBLIC_KEY_ROUTE, "GET", "octo-org/locked")),
      "403 is not retried",
    ).toEqual([403]);
    // Preflight reads the repository itself first (is it there, archived, writable?), then its public key.
    expect(statuses(attempts(stack, REPO_ROUTE, "GET", "octo-org/gone")), "404 is not retried").toEqual([
      404,
    ]);
    expect(attempts(stack, PUBLIC_KEY_ROUTE, "GET", "octo-org/gone")).toEqual([]);
    expect(attempts(stack, SECRET_ROUTE, "PUT")).toEqual([]);
  });
});

describe.concurrent("Rotate runbook when GitHub fails or rate-limits for a while", () => {
  it("retries a 500 and a 502 and succeeds; after 503s and dropped connections exhaust its 3 retries it fails with the old key active, and the next run completes", async (context) => {
    // Prepare
    const { expect } = context;
    faultKinds(
      context,
      "500 server error",
      "502 bad gateway",
      "503 unavailable, retries exhausted",
      "dropped connections, retries exhausted",
    );
    const stack = await openStack(context, {
      repos: ["octo-org/api", "octo-org/web"],
      existingKeys: 1,
      seedReposWithExistingKey: true,
      graceMinutes: 0,
    });
    const oldKey = stack.existingKeys[0]?.accessKeyId ?? "";
    fault(stack, "octo-org/api", { method: "PUT", route: SECRET_ROUTE, status: 502 });
    fault(stack, "octo-org/api", { method: "GET", route: SECRET_ROUTE, status: 500 });
    // Rules apply in the order added, each to one request: the first write to web meets 503, drop, 503, drop.
    for (const rule of [{ status: 503 }, { drop: true }, { status: 503 }, { drop: true }] as const) {
      fault(stack, "octo-org/web", { method: "PUT", route: SECRET_ROUTE, ...rule });
    }

    // Act
    const first = await stack.runRunbook("Rotate");
    const newKey = first.lastResult?.newAccessKeyId ?? "";
    const webAttempts = statuses(attempts(stack, SECRET_ROUTE, "PUT", "octo-org/web"));
    const apiPutsAfterFirst = attempts(stack, SECRET_ROUTE, "PUT", "octo-org/api").length;
    const second = await stack.runRunbook("Rotate");

    // Assess: the first run
    expect(first.execution.status).toBe("Failed");
    expect(first.execution.failureMessage).toMatch(
      /octo-org\/web: failed — Could not reach GitHub for PUT secret \w+ on octo-org\/web \(.+\); retries were exhausted\. Fix: Nothing to change .* the next scheduled run resumes/,
    );
    expect(first.execution.failureMessage).toContain(`old key ${oldKey} stays active`);
    expect(webAttempts, "one attempt and 3 retries, then it gives up").toEqual([
      503,
      "dropped",
      503,
      "dropped",
    ]);
    expect(statuses(attempts(stack, SECRET_ROUTE, "PUT", "octo-org/api"))).toEqual([502, 204, 204]);
    expect(statuses(attempts(stack, SECRET_ROUTE, "GET", "octo-org/api"))).toEqual([500, 200, 200]);
    expect(newKey).not.toBe("");
    // Assess: the next run
    expect(second.execution.status).toBe("Success");
    expect(second.execution.outputs["CheckRotateResult.NewAccessKeyId"]).toBe(newKey);
    for (const repo of stack.repos) expect(stack.secretValues(repo).accessKeyId).toBe(newKey);
    expect(attempts(stack, SECRET_ROUTE, "PUT", "octo-org/api"), "api is not written again").toHaveLength(
      apiPutsAfterFirst,
    );
    expect((await stack.keys()).map((k) => [k.accessKeyId, k.status])).toEqual([
      [oldKey, "Inactive"],
      [newKey, "Active"],
    ]);
  });

  it("waits out a primary rate limit until x-ratelimit-reset and secondary ones (403 and 429) for retry-after, then succeeds", async (context) => {
    // Prepare
    const { expect } = context;
    faultKinds(
      context,
      "403 primary rate limit (x-ratelimit-reset)",
      "403 secondary rate limit (retry-after)",
      "429 secondary rate limit (retry-after)",
    );
    const stack = await openStack(context, {
      repos: ["octo-org/api"],
      existingKeys: 1,
      seedReposWithExistingKey: true,
    });
    const resetSeconds = Math.ceil(Date.now() / 1000) + 2;
    stack.github.addFault({ route: USER_ROUTE, ...primaryRateLimitFault(resetSeconds) });
    fault(stack, "octo-org/api", { route: PUBLIC_KEY_ROUTE, ...secondaryRateLimitFault(1) });
    fault(stack, "octo-org/api", {
      method: "PUT",
      route: SECRET_ROUTE,
      ...secondaryRateLimitFault(1),
      status: 429,
    });

    // Act
    const { execution } = await stack.runRunbook("Rotate");

    // Assess
    expect(execution.status).toBe("Success");
    const user = attempts(stack, USER_ROUTE, "GET");
    const publicKey = attempts(stack, PUBLIC_KEY_ROUTE, "GET", "octo-org/api");
    const puts = attempts(stack, SECRET_ROUTE, "PUT", "octo-org/api");
    expect(statuses(user)).toEqual([403, 200]);
    expect(statuses(publicKey)).toEqual([403, 200]);
    expect(statuses(puts)).toEqual([429, 204, 204]);
    // Each retry started no earlier than GitHub allowed (emulator clock; an ordering, not a duration).
    expect(user[1]?.startedAt).toBeGreaterThanOrEqual(resetSeconds * 1000);
    expect(publicKey[1]?.startedAt).toBeGreaterThanOrEqual((publicKey[0]?.startedAt ?? 0) + 1000);
    expect(puts[1]?.startedAt).toBeGreaterThanOrEqual((puts[0]?.startedAt ?? 0) + 1000);
    const [, key] = await stack.keys();
    expect(stack.secretValues("octo-org/api").accessKeyId).toBe(key?.accessKeyId);
  });

  it("gives up on a repository that stays secondary-rate-limited after 3 retries: Failed, old key active, and the next run completes", async (context) => {
    // Prepare
    const { expect } = context;
    faultKinds(context, "403 secondary rate limit, retries exhausted");
    const stack = await openStack(context, {
      repos: ["octo-org/api", "octo-org/web"],
      existingKeys: 1,
      seedReposWithExistingKey: true,
      graceMinutes: 0,
    });
    const oldKey = stack.existingKeys[0]?.accessKeyId ?? "";
    fault(stack, "octo-org/web", {
      method: "PUT",
      route: SECRET_ROUTE,
      ...secondaryRateLimitFault(1),
      times: Number.POSITIVE_INFINITY,
    });

    // Act
    const first = await stack.runRunbook("Rotate");
    const limited = attempts(stack, SECRET_ROUTE, "PUT", "octo-org/web");
    const keysAfterFirst = await stack.keys();
    const webAfterFirst = stack.secretValues("octo-org/web").accessKeyId;
    stack.github.clearFaults();
    const second = await stack.runRunbook("Rotate");

    // Assess
    expect(first.execution.status).toBe("Failed");
    expect(first.execution.failureMessage).toMatch(
      /octo-org\/web: failed — GitHub rate-limited PUT secret \w+ on octo-org\/web \(403 You have exceeded a secondary rate limit.*Fix: Nothing to change/,
    );
    expect(statuses(limited), "one attempt and 3 retries").toEqual([403, 403, 403, 403]);
    for (let i = 1; i < limited.length; i++) {
      expect(limited[i]?.startedAt, `retry ${i}`).toBeGreaterThanOrEqual(
        (limited[i - 1]?.startedAt ?? 0) + 1000,
      );
    }
    expect(keysAfterFirst.find((k) => k.accessKeyId === oldKey)?.status).toBe("Active");
    expect(webAfterFirst, "web still holds the old key").toBe(oldKey);
    expect(second.execution.status).toBe("Success");
    for (const repo of stack.repos)
      expect(stack.secretValues(repo).accessKeyId).toBe(first.lastResult?.newAccessKeyId);
  });
});

describe.concurrent("Rotate runbook when GitHub's answers go wrong in transit", () => {
  it("fetches the new public key and writes again when the repository key changed between GET and PUT (422)", async (context) => {
    // Prepare
    const { expect } = context;
    faultKinds(context, "422 stale key_id on PUT");
    const stack = await openStack(context, { repos: ["octo-org/api"] });
    let rotated = false;
    stack.onSecretWritten((event) => {
      if (!rotated && event.repo === "api") {
        rotated = true;
        stack.github.rotateRepoPublicKey("octo-org", "api");
      }
    });

    // Act
    const { execution } = await stack.runRunbook("Rotate");

    // Assess
    expect(execution.status).toBe("Success");
    expect(statuses(attempts(stack, SECRET_ROUTE, "PUT", "octo-org/api"))).toEqual([201, 422, 201]);
    expect(attempts(stack, PUBLIC_KEY_ROUTE, "GET", "octo-org/api"), "fetched again once").toHaveLength(2);
    const { accessKeyId, secretAccessKey } = stack.secretValues("octo-org/api");
    expect(accessKeyId).toBe(execution.outputs["CheckRotateResult.NewAccessKeyId"]);
    expect(secretAccessKey).toBe(await stack.issuedSecretOf(accessKeyId ?? ""));
  });

  it("retries a request whose connection GitHub dropped, once, and succeeds", async (context) => {
    // Prepare
    const { expect } = context;
    faultKinds(context, "dropped connection");
    const stack = await openStack(context, { repos: ["octo-org/api"] });
    fault(stack, "octo-org/api", { route: PUBLIC_KEY_ROUTE, drop: true });
    fault(stack, "octo-org/api", { method: "PUT", route: SECRET_ROUTE, drop: true });

    // Act
    const { execution } = await stack.runRunbook("Rotate");

    // Assess
    expect(execution.status).toBe("Success");
    expect(statuses(attempts(stack, PUBLIC_KEY_ROUTE, "GET", "octo-org/api"))).toEqual(["dropped", 200]);
    expect(statuses(attempts(stack, SECRET_ROUTE, "PUT", "octo-org/api"))).toEqual(["dropped", 201, 201]);
  });

  it("abandons a request GitHub does not answer within the client's 15 s timeout and retries it, without waiting for the answer", async (context) => {
    // Prepare
    const { expect } = context;
    faultKinds(context, "no answer within the request timeout");
    const stack = await openStack(context, { repos: ["octo-org/api"] });
    const hang = fault(stack, "octo-org/api", { route: PUBLIC_KEY_ROUTE, delayMs: 120_000 });

    // Act
    const { execution } = await stack.runRunbook("Rotate");

    // Assess
    expect(execution.status).toBe("Success");
    expect(hang.hits).toBe(1);
    // The hung request is still open (it would answer after 120 s): the run finished without it.
    expect(stack.github.inFlight).toBe(1);
    expect(statuses(attempts(stack, PUBLIC_KEY_ROUTE, "GET", "octo-org/api"))).toEqual([200]);
    const [key] = await stack.keys();
    expect(stack.secretValues("octo-org/api").accessKeyId).toBe(key?.accessKeyId);
  });
});
