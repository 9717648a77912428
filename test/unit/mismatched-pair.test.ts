import { describe, expect, it } from "vitest";
import { rotate } from "../../src/lifecycle/rotate.ts";
import { answerOf, type FakeWorld, fakeWorld, type TestAnswer } from "../support/fakes.ts";

const FAR_FUTURE = new Date("2100-01-01T00:00:00Z");
const KEY_ID = "AWS_ACCESS_KEY_ID";
const SECRET_KEY = "AWS_SECRET_ACCESS_KEY";

async function run(world: FakeWorld): Promise<TestAnswer> {
  const outcome = await rotate(world.deps, {
    owner: "exec-1",
    dryRun: false,
    replaceOlderKey: false,
    deadline: FAR_FUTURE,
  });
  return answerOf(world.clock, outcome);
}

/** A repository's pair belongs together: its key ID names the key whose secret it holds. */
function pairMatches(world: FakeWorld, repo: string): boolean {
  const id = world.github.value(repo, KEY_ID);
  return id !== undefined && world.iam.secretOf(id) === world.github.value(repo, SECRET_KEY);
}

describe("a fault between a repository's two writes", () => {
  it("writes the key ID again within the run when it fails after the secret key was written", async () => {
    // Prepare
    const world = fakeWorld(3);
    world.iam.addKey("Active");
    world.github.writeFaults.push({
      repo: "acme/service-2",
      name: KEY_ID,
      times: 1,
      when: "before",
      fault: "transient",
    });

    // Act
    const result = await run(world);

    // Assess: written again after the other repositories, ten seconds after the failure at the earliest.
    expect(result.status).toBe("Succeeded");
    expect(result.repoCounts.mismatched).toBe(0);
    for (const [repo] of world.github.repos) expect(pairMatches(world, repo), repo).toBe(true);
    expect(world.github.writes.at(-1)).toBe(`acme/service-2:${KEY_ID}`);
    expect(world.clock.sleeps).toHaveLength(1);
    expect(result.repos.find((r) => r.repo === "acme/service-2")?.detail).toContain(
      "its key ID written again after a failure",
    );
  });

  it("completes the pair when the secret key write took effect although its answer was lost", async () => {
    // Prepare
    const world = fakeWorld(2);
    world.iam.addKey("Active");
    world.github.writeFaults.push({
      repo: "acme/service-1",
      name: SECRET_KEY,
      times: 1,
      when: "after",
      fault: "transient",
    });

    // Act
    const result = await run(world);

    // Assess
    expect(result.status).toBe("Succeeded");
    expect(pairMatches(world, "acme/service-1")).toBe(true);
    expect(world.logs.join("\n")).toContain("AWS_SECRET_ACCESS_KEY of acme/service-1 was written although");
  });

  it("names a repository still mismatched after its retry first, as mismatched, and keeps the old key active", async () => {
    // Prepare: service-1 refuses every write (failed); service-3's key ID write keeps failing (mismatched).
    const world = fakeWorld(3);
    const old = world.iam.addKey("Active");
    world.github.failingWrites.add("acme/service-1");
    world.github.writeFaults.push({
      repo: "acme/service-3",
      name: KEY_ID,
      times: 10,
      when: "before",
      fault: "transient",
    });

    // Act
    const result = await run(world);

    // Assess
    expect(result.status).toBe("Failed");
    expect(result.repoCounts).toMatchObject({ failed: 1, mismatched: 1 });
    expect(result.failedRepos.map((r) => r.repo)).toEqual(["acme/service-3", "acme/service-1"]);
    expect(result.failedRepos[0]?.detail).toContain(
      "acme/service-3 holds a mismatched pair: its AWS_SECRET_ACCESS_KEY is the new key's, but writing AWS_ACCESS_KEY_ID",
    );
    expect(result.failedRepos[0]?.detail).toContain("failed twice");
    expect(result.repos.find((r) => r.repo === "acme/service-3")?.result).toBe("mismatched");
    expect(result.summary).toContain("1 of them left mismatched");
    expect(world.clock.sleeps).toHaveLength(1);
    expect(world.github.value("acme/service-3", KEY_ID)).not.toBe(result.newAccessKeyId);
    expect(world.github.value("acme/service-3", SECRET_KEY)).toBe(world.iam.secretOf(result.newAccessKeyId));
    expect(world.iam.status(old.accessKeyId)).toBe("Active");
  });

  it("does not retry a refusal that retrying cannot get past (403), and names the repository mismatched", async () => {
    // Prepare
    const world = fakeWorld(1);
    world.iam.addKey("Active");
    world.github.writeFaults.push({
      repo: "acme/service-1",
      name: KEY_ID,
      times: 1,
      when: "before",
      fault: "user",
    });

    // Act
    const result = await run(world);

    // Assess
    expect(result.repoCounts.mismatched).toBe(1);
    expect(result.failedRepos[0]?.detail).toContain("writing AWS_ACCESS_KEY_ID");
    expect(result.failedRepos[0]?.detail).not.toContain("twice");
    expect(world.clock.sleeps).toEqual([]);
  });

  it("writes a mismatched repository's pair again at the next run", async () => {
    // Prepare
    const world = fakeWorld(2);
    world.iam.addKey("Active");
    world.github.writeFaults.push({
      repo: "acme/service-2",
      name: KEY_ID,
      times: 2,
      when: "before",
      fault: "transient",
    });
    const first = await run(world);

    // Act
    const second = await run(world);

    // Assess
    expect(first.repoCounts.mismatched).toBe(1);
    expect(second.status).toBe("Succeeded");
    for (const [repo] of world.github.repos) expect(pairMatches(world, repo), repo).toBe(true);
  });
});
