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
