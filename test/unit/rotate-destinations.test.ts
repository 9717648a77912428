/**
 * Where the key may go, at the rotation: only repositories of the allowed owners (pAllowedGitHubOwners), through
 * the GitHub API the summary names, with a token whose owner and expiry the summary warns about.
 */
import { describe, expect, it } from "vitest";
import { rotate } from "../../src/lifecycle/rotate.ts";
import { answerOf, type FakeWorld, fakeWorld } from "../support/fakes.ts";

const FAR_FUTURE = new Date("2100-01-01T00:00:00Z");
const DAY_MS = 86_400_000;

async function rotateOnce(world: FakeWorld) {
  const outcome = await rotate(world.deps, {
    owner: "exec-1",
    dryRun: false,
    replaceOlderKey: false,
    deadline: FAR_FUTURE,
  });
  return { outcome, answer: answerOf(world.clock, outcome) };
}

describe("a rotation whose list names a repository of an owner the stack does not allow", () => {
  it("fails before any IAM or GitHub change, names the repository, and asks for an alert", async () => {
    // Prepare
    const world = fakeWorld(2);
    const foreign = world.github.addRepo("evil-corp", "harvest");
    world.config.text = JSON.stringify({
      Repos: [...world.repos, foreign].map((r) => ({ Owner: r.owner, Name: r.name })),
    });
    const existing = world.iam.addKey("Active");

    // Act
    const { outcome, answer } = await rotateOnce(world);

    // Assess
    expect(answer.status).toBe("Failed");
    expect(answer.summary).toContain('Repos[2] "evil-corp/harvest" (owner "evil-corp")');
    expect(answer.summary).toContain("nothing was changed");
    expect(world.iam.calls).toEqual([]);
    expect(world.iam.keys.map((k) => k.accessKeyId)).toEqual([existing.accessKeyId]);
    expect(world.github.writes).toEqual([]);
    expect(world.state.saves).toBe(0);
    expect(outcome.alerts).toEqual([expect.stringContaining("evil-corp/harvest")]);
  });
});

describe("the GitHub connection in the rotation summary", () => {
  it("names the GitHub API the key goes through", async () => {
    // Act
    const { answer } = await rotateOnce(fakeWorld(1));

    // Assess
    expect(answer.summary).toContain("GitHub API: https://api.github.com.");
  });

  it("names the GitHub API in a failed rotation's summary too", async () => {
    // Prepare
    const world = fakeWorld(1);
    world.github.tokenValid = false;

    // Act
    const { answer } = await rotateOnce(world);

    // Assess
    expect(answer.status).toBe("Failed");
    expect(answer.summary).toContain("GitHub API: https://api.github.com.");
  });

  it("warns when the token belongs to another user than the machine user, and still rotates", async () => {
    // Prepare
    const world = fakeWorld(1);
    world.github.tokenOwner = { login: "someone-else", expiresAt: undefined };

    // Act
    const { answer } = await rotateOnce(world);

    // Assess
    expect(answer.status).toBe("Succeeded");
    expect(answer.summary).toContain(
      "Warning: the GitHub token belongs to someone-else, not to the machine user machine-user the stack names (pGitHubMachineUserName).",
    );
  });

  it("does not warn about a machine user whose login differs only in letter case", async () => {
    // Prepare
    const world = fakeWorld(1);
    world.github.tokenOwner = { login: "Machine-User", expiresAt: undefined };

    // Act
    const { answer } = await rotateOnce(world);

    // Assess
    expect(answer.summary).not.toContain("Warning");
  });

  it("warns when the GitHub App is another App than pGitHubMachineUserName names by slug, and still rotates", async () => {
    // Prepare
    const world = fakeWorld(1);
    const app = { id: 1234, slug: "other-app", htmlUrl: "https://github.com/apps/other-app" };
    world.github.tokenOwner = { login: app.slug, expiresAt: undefined, app };

    // Act
    const { answer } = await rotateOnce(world);

    // Assess
    expect(answer.status).toBe("Succeeded");
    expect(answer.summary).toContain(
      "Warning: the GitHub App credential in GHS-AKM-deploy-bot-GitHubToken-machine-user is App other-app (ID 1234), not machine-user the stack names (pGitHubMachineUserName, the App's slug).",
    );
  });

  it("does not warn about the GitHub App the stack names, nor about an expiry it does not have", async () => {
    // Prepare
    const world = fakeWorld(1);
    const app = { id: 1234, slug: "Machine-User", htmlUrl: "https://github.com/apps/machine-user" };
    world.github.tokenOwner = { login: app.slug, expiresAt: undefined, app };

    // Act
    const { answer, outcome } = await rotateOnce(world);

    // Assess
    expect(answer.summary).not.toContain("Warning");
    expect(outcome.alerts).toEqual([]);
  });

  it.each([
    [13, "in 13 days"],
    [1, "in 1 day"],
    [0.5, "in less than a day"],
  ])("warns when the token expires %s days from now, saying %s", async (days, phrase) => {
    // Prepare
    const world = fakeWorld(1);
    const expiresAt = new Date(world.clock.now().getTime() + days * DAY_MS);
    world.github.tokenOwner = { login: "machine-user", expiresAt };

    // Act
    const { answer } = await rotateOnce(world);

    // Assess
    expect(answer.status).toBe("Succeeded");
    expect(answer.summary).toContain(
      `Warning: the GitHub token of machine-user expires at ${expiresAt.toISOString().slice(0, 19)}Z (${phrase}).`,
    );
    expect(answer.summary).toContain("GHS-AKM-deploy-bot-GitHubToken-machine-user");
  });

  it("does not warn about a token that expires in more than 14 days", async () => {
    // Prepare
    const world = fakeWorld(1);
    world.github.tokenOwner = {
      login: "machine-user",
      expiresAt: new Date(world.clock.now().getTime() + 15 * DAY_MS),
    };

    // Act
    const { answer } = await rotateOnce(world);

    // Assess
    expect(answer.summary).not.toContain("Warning");
  });
});

/** The list of `world` as repos.json. */
function listOf(repos: readonly { owner: string; name: string }[]): string {
  return JSON.stringify({ Repos: repos.map((r) => ({ Owner: r.owner, Name: r.name })) });
}

const HOUR_MS = 3_600_000;

describe("repositories identified by GitHub's ID once first seen", () => {
  it("records each listed repository's ID at the first rotation, which says it starts keeping track", async () => {
    // Prepare
    const world = fakeWorld(2);

    // Act
    const { answer } = await rotateOnce(world);

    // Assess
    expect(answer.summary).toContain("Repositories added since the previous rotation: not known yet");
    const state = await world.state.load();
    expect(
      Object.fromEntries(Object.entries(state?.repoIds ?? {}).map(([slug, seen]) => [slug, seen.id])),
    ).toEqual({
      "acme/service-1": world.github.ids.get("acme/service-1"),
      "acme/service-2": world.github.ids.get("acme/service-2"),
    });
  });

  it("names the repositories added since the previous rotation, and none once they were rotated", async () => {
    // Prepare
    const world = fakeWorld(2);
    await rotateOnce(world);
    const added = world.github.addRepo("acme", "new-service");
    world.config.text = listOf([...world.repos, added]);
    world.clock.advance(2 * HOUR_MS);

    // Act
    const second = await rotateOnce(world);
    world.clock.advance(2 * HOUR_MS);
    const third = await rotateOnce(world);

    // Assess
    expect(second.answer.status).toBe("Succeeded");
    expect(second.answer.summary).toMatch(
      /Repositories added since the previous rotation \(\S+\): acme\/new-service \(1\)\./,
    );
    expect(third.answer.summary).toMatch(/Repositories added since the previous rotation \(\S+\): none\./);
  });

  it("refuses a repository re-created under a listed name before any change, with both IDs, and alerts", async () => {
    // Prepare
    const world = fakeWorld(2);
    await rotateOnce(world);
    const before = world.github.ids.get("acme/service-2");
    world.github.recreateRepo("acme", "service-2");
    world.clock.advance(2 * HOUR_MS);
    const keys = world.iam.keys.map((k) => k.accessKeyId);
    const writes = world.github.writes.length;
    const stateBefore = await world.state.load();

    // Act
    const { outcome, answer } = await rotateOnce(world);

    // Assess
    expect(answer.status).toBe("Failed");
    expect(answer.summary).toContain(
      `acme/service-2 is a different repository now (ID ${before} → ${world.github.ids.get("acme/service-2")})`,
    );
    expect(answer.failedRepos.map((r) => r.repo)).toEqual(["acme/service-2"]);
    expect(world.iam.keys.map((k) => k.accessKeyId)).toEqual(keys);
    expect(world.github.writes).toHaveLength(writes);
    const after = await world.state.load();
    expect([after?.current?.accessKeyId, after?.pending, after?.creating]).toEqual([
      stateBefore?.current?.accessKeyId,
      undefined,
      undefined,
    ]);
    expect(outcome.alerts).toEqual([
      expect.stringContaining("acme/service-2 is a different repository on GitHub"),
    ]);
  });

  it("takes the new repository once it was removed from the list for one rotation and added again", async () => {
    // Prepare
    const world = fakeWorld(2);
    await rotateOnce(world);
    world.github.recreateRepo("acme", "service-2");
    const [first, second] = world.repos;
    world.config.text = listOf(first ? [first] : []);
    world.clock.advance(2 * HOUR_MS);
    await rotateOnce(world);
    world.config.text = listOf([first, second].flatMap((r) => (r ? [r] : [])));
    world.clock.advance(2 * HOUR_MS);

    // Act
    const { answer } = await rotateOnce(world);

    // Assess
    expect(answer.status).toBe("Succeeded");
    expect(answer.summary).toContain("acme/service-2 (1)");
  });

  it("refuses a repository re-created while a rotation is unfinished, at its write, and writes the others", async () => {
    // Prepare: invocations with no time left check one repository each, then create the key and write one.
    const world = fakeWorld(3);
    await rotateOnce(world);
    world.clock.advance(2 * HOUR_MS);
    const step = (deadline: Date) =>
      rotate(world.deps, { owner: "exec-2", dryRun: false, replaceOlderKey: false, deadline });
    for (let i = 0; i < 10 && (await world.state.load())?.pending === undefined; i++) {
      await step(world.clock.now());
    }
    const pending = (await world.state.load())?.pending?.accessKeyId;
    world.github.recreateRepo("acme", "service-3");

    // Act
    const outcome = await step(FAR_FUTURE);
    const answer = answerOf(world.clock, outcome);

    // Assess
    expect(pending).toBeDefined();
    expect(answer.status).toBe("Failed");
    expect(answer.failedRepos).toEqual([
      expect.objectContaining({
        repo: "acme/service-3",
        detail: expect.stringContaining("different repository now"),
      }),
    ]);
    expect(world.github.value("acme/service-3", "AWS_ACCESS_KEY_ID")).toBeUndefined();
    expect(world.github.value("acme/service-2", "AWS_ACCESS_KEY_ID")).toBe(pending);
    expect(outcome.alerts).toEqual([expect.stringContaining("acme/service-3")]);
  });
});

describe("the token's expiry, alerted", () => {
  it("alerts the stack's topic at most once a day, and warns in every summary", async () => {
    // Prepare
    const world = fakeWorld(1);
    world.github.tokenOwner = {
      login: "machine-user",
      expiresAt: new Date(world.clock.now().getTime() + 10 * DAY_MS),
    };

    // Act
    const first = await rotateOnce(world);
    world.clock.advance(2 * HOUR_MS);
    const second = await rotateOnce(world);
    world.clock.advance(DAY_MS);
    const third = await rotateOnce(world);

    // Assess
    expect(first.outcome.alerts).toEqual([expect.stringContaining("expires at")]);
    expect(second.outcome.alerts).toEqual([]);
    expect(second.answer.summary).toContain("Warning: the GitHub token of machine-user expires at");
    expect(third.outcome.alerts).toEqual([expect.stringContaining("expires at")]);
  });

  it("alerts nothing in a dry run", async () => {
    // Prepare
    const world = fakeWorld(1);
    world.github.tokenOwner = {
      login: "machine-user",
      expiresAt: new Date(world.clock.now().getTime() + DAY_MS),
    };

    // Act
    const outcome = await rotate(world.deps, {
      owner: "exec-1",
      dryRun: true,
      replaceOlderKey: false,
      deadline: FAR_FUTURE,
    });

    // Assess
    expect(outcome.alerts).toEqual([]);
  });
});
