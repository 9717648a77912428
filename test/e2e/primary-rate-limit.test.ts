import { describe, expect, inject, it } from "vitest";
import { useStacks } from "../../scripts/local-stack/stack-fixture.ts";
import type { HandlerResult } from "../../src/handler-contract.ts";

const endpoint = inject("motoEndpoint");
const createStack = useStacks(endpoint);

const REPOS = ["octo-org/one", "octo-org/two", "octo-org/three", "octo-org/four", "octo-org/five"];
/** A token's primary rate limit, small enough that the preflight alone (GET /user, two reads a repository) exceeds it. */
const REQUESTS_PER_HOUR = 8;
const HOUR_MS = 60 * 60_000;

describe("Rotate runbook when GitHub's primary rate limit runs out during the preflight", () => {
  it("sleeps until x-ratelimit-reset, resumes the checks where they stopped, and rotates every repository", async () => {
    // Prepare: the emulator refuses every request beyond 8 an hour with 403 and x-ratelimit-remaining: 0, as
    // GitHub does; its hour runs on the stack's fake clock, which each aws:sleep moves on.
    const stack = await createStack({
      repos: REPOS,
      existingKeys: 1,
      seedReposWithExistingKey: true,
      githubLimits: { requestsPerHour: REQUESTS_PER_HOUR },
    });
    const before = await stack.keys();

    // Act
    const { execution, invocations } = await stack.runRunbook("Rotate");

    // Assess: the first invocation stopped at the limit, before any key was created, and said until when.
    expect(execution.failureMessage).toBeUndefined();
    expect(execution.status).toBe("Success");
    const first = invocations.find((invocation) => invocation.stepName === "Rotate")?.result as
      | HandlerResult
      | undefined;
    expect(first).toMatchObject({ status: "InProgress", next: "again", newAccessKeyId: "none" });
    expect(first?.progress).toMatch(
      /^\d+ repositories not checked yet; GitHub's primary rate limit is used up, resumes at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
    );
    const log = stack.github.requests;
    const refused = log.filter((r) => r.limited);
    expect(refused.length).toBeGreaterThan(0);
    const firstPut = Math.min(...log.filter((r) => r.method === "PUT").map((r) => r.startedAt));
    expect(refused[0]?.startedAt).toBeLessThan(firstPut);

    // The runbook's wait step slept until GitHub's reset: an hour after the window's first request (on the stack's
    // clock, so however long the checks before the wait took in real time), and never longer than an hour.
    const waits = execution.sleeps.filter((s) => s.stepName === "WaitForWriteBudget" && s.ms >= 1000);
    expect(waits.length).toBeGreaterThan(0);
    expect(waits[0]?.timestamp).toBe(first?.resumeAt);
    expect(Date.parse(waits[0]?.timestamp ?? "")).toBeGreaterThanOrEqual((log[0]?.startedAt ?? 0) + HOUR_MS);
    expect(waits[0]?.ms).toBeLessThanOrEqual(HOUR_MS + 1000);

    // What passed the preflight (its two reads) before the limit was kept: after the reset, only the rest was
    // checked before the key was created and written.
    const limitedAt = refused[0]?.startedAt ?? 0;
    const passedBefore = log
      .filter(
        (r) =>
          r.route === "/repos/{owner}/{repo}/actions/secrets/public-key" &&
          !r.limited &&
          r.startedAt < limitedAt,
      )
      .map((r) => r.repo);
    const checkedAfter = log
      .filter(
        (r) =>
          r.route === "/repos/{owner}/{repo}" &&
          !r.limited &&
          r.startedAt > limitedAt &&
          r.startedAt < firstPut,
      )
      .map((r) => r.repo);
    expect(passedBefore.length).toBeGreaterThan(0);
    expect(checkedAfter.filter((repo) => passedBefore.includes(repo))).toEqual([]);
    expect([...passedBefore, ...checkedAfter].sort()).toEqual([...REPOS].sort());
    // After a refusal, nothing was sent until the window it belonged to had reset: an hour after the window's first
    // request (each window begins with the first request after the previous one's hour).
    const byStart = [...log].sort((a, b) => a.startedAt - b.startedAt);
    let windowStart = Number.NEGATIVE_INFINITY;
    for (const [index, request] of byStart.entries()) {
      if (request.startedAt >= windowStart + HOUR_MS) windowStart = request.startedAt;
      if (!request.limited) continue;
      const nextAccepted = byStart.slice(index + 1).find((r) => !r.limited);
      if (nextAccepted) expect(nextAccepted.startedAt).toBeGreaterThanOrEqual(windowStart + HOUR_MS);
    }

    const newKey = execution.outputs["CheckRotateResult.NewAccessKeyId"];
    expect(before.map((k) => k.accessKeyId)).not.toContain(newKey);
    for (const repo of REPOS) expect(stack.secretValues(repo).accessKeyId).toBe(newKey);
    expect(execution.outputs["CheckRotateResult.Progress"]).toBe("5 of 5 repositories done");
    expect(stack.r1Failures).toEqual([]);
  });
});
