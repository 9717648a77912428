/**
 * The shadowing check in the lifecycle (in-memory fakes): preflight refuses to create a key while a copy the list
 * does not manage would hide it, DryRun reports every copy, a long check continues over invocations, and Retire
 * checks again before it deactivates the old key.
 */
import { describe, expect, it } from "vitest";
import type { Target } from "../../src/domain/target.ts";
import { GitHubAccessError, GitHubRateLimitError } from "../../src/errors.ts";
import { retire } from "../../src/lifecycle/retire.ts";
import { rotate } from "../../src/lifecycle/rotate.ts";
import type { RotationDeps } from "../../src/lifecycle/rotation-context.ts";
import { rotationResult } from "../../src/lifecycle/rotation-result.ts";
import { answerOf, type FakeWorld, fakeWorld, MemoryTargetList, type TestAnswer } from "../support/fakes.ts";
import { MemoryInventory } from "../support/memory-inventory.ts";

const FAR_FUTURE = new Date("2100-01-01T00:00:00Z");
const BOTH = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"];
const APP: Target = { kind: "repository", owner: "acme", name: "app", store: "actions" };
const WEB: Target = { kind: "repository", owner: "acme", name: "web", store: "actions" };
const PRODUCTION: Target = { kind: "environment", owner: "acme", name: "app", environment: "production" };
const DEPLOY = `
on: push
jobs:
  test: { runs-on: ubuntu-latest, steps: [{ run: make test }] }
  release: { runs-on: ubuntu-latest, environment: production, steps: [{ run: make deploy }] }
`;

interface ShadowWorld extends FakeWorld {
  readonly list: MemoryTargetList;
  readonly inventory: MemoryInventory;
  readonly deps: RotationDeps;
}

/**
 * acme/app, whose deployment job uses environment production, and acme/web; the inventory shows production holding
 * its own pair (the reproduction) unless `copies` is false.
 */
function shadowWorld(
  targets: readonly Target[],
  options: { copies?: boolean; grace?: number } = {},
): ShadowWorld {
  const world = fakeWorld(0, options.grace ?? 60);
  for (const name of ["app", "web"]) world.github.addRepo("acme", name);
  world.github.addEnvironment("acme", "app", "production");
  const inventory = new MemoryInventory()
    .repo("acme/app", {
      environments: { production: { secrets: options.copies === false ? [] : BOTH } },
      workflows: { ".github/workflows/deploy.yml": DEPLOY },
    })
    .repo("acme/web");
  const list = new MemoryTargetList(targets);
  return { ...world, list, inventory, deps: { ...world.deps, list, inventory } };
}

async function run(
  world: ShadowWorld,
  options: { dryRun?: boolean; deadline?: Date } = {},
): Promise<TestAnswer> {
  const outcome = await rotate(world.deps, {
    owner: "exec-1",
    dryRun: options.dryRun ?? false,
    replaceOlderKey: false,
    deadline: options.deadline ?? FAR_FUTURE,
  });
  return answerOf(world.clock, outcome);
}

async function runRetire(world: ShadowWorld, options: { dryRun?: boolean; deadline?: Date } = {}) {
  const outcome = await retire(world.deps, {
    owner: "exec-1",
    dryRun: options.dryRun ?? false,
    ...(options.deadline ? { deadline: options.deadline } : {}),
  });
  return answerOf(world.clock, outcome);
}

/** Rotates twice (the second run has an old key to retire) and lets the grace period pass. */
async function rotatedTwice(world: ShadowWorld): Promise<{ oldKey: string; newKey: string }> {
  const first = await run(world);
  expect(first.status).toBe("Succeeded");
  world.clock.advance(61 * 60_000);
  await runRetire(world);
  const second = await run(world);
  expect(second.status, second.summary).toBe("Succeeded");
  world.clock.advance(61 * 60_000);
  return { oldKey: second.oldAccessKeyId, newKey: second.newAccessKeyId };
}

describe("preflight refuses to rotate while a copy the list does not manage would hide the key", () => {
  it("refuses before any key is created, naming the environment, the jobs that would keep the old key and the fix", async () => {
    // Prepare
    const world = shadowWorld([APP, WEB]);

    // Act
    const answer = await run(world);

    // Assess
    expect(answer.status).toBe("Failed");
    expect(world.iam.keys).toHaveLength(0);
    expect(world.github.writes).toEqual([]);
    expect(answer.summary).toContain("Rotation refused");
    expect(answer.summary).toContain(
      "acme/app environment production (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)",
    );
    expect(answer.summary).toContain(
      "acme/app environment production has its own secret AWS_ACCESS_KEY_ID, which hides acme/app from the jobs .github/workflows/deploy.yml: release.",
    );
    expect(answer.summary).toContain('"Unmanaged": true');
  });

  it("rotates once the environment is listed, and every scope's copy then holds the new key", async () => {
    // Prepare
    const world = shadowWorld([APP, WEB, PRODUCTION]);

    // Act
    const answer = await run(world);

    // Assess
    expect(answer.status, answer.summary).toBe("Succeeded");
    const key = answer.newAccessKeyId;
    for (const label of ["acme/app", "acme/web", "acme/app (environment production)"]) {
      expect(world.github.value(label, "AWS_ACCESS_KEY_ID"), label).toBe(key);
    }
    expect(answer.summary).toContain(
      "Copies of the key's secrets that would hide it: none (looked at all 2 repositories).",
    );
  });

  it("rotates when the environment's copy is marked Unmanaged, and leaves that copy alone", async () => {
    // Prepare
    const world = shadowWorld([APP, WEB]);
    world.list.unmanaged = [PRODUCTION];

    // Act
    const answer = await run(world);

    // Assess
    expect(answer.status, answer.summary).toBe("Succeeded");
    expect(answer.summary).toContain("Copies of the key's secrets that would hide it: none");
  });

  it("continues a check that outlasts one invocation in the next, changing nothing until it is done", async () => {
    // Prepare: the deadline has passed, so each invocation checks one target and looks at one repository.
    const world = shadowWorld([APP, WEB], { copies: false });

    // Act
    const answers: TestAnswer[] = [];
    const keys: number[] = [];
    do {
      answers.push(await run(world, { deadline: world.clock.now() }));
      keys.push(world.iam.keys.length);
    } while (answers.at(-1)?.status === "InProgress" && answers.length < 10);

    // Assess: each repository looked at once, and the key created only once the check was done (the writes then
    // take their own invocations).
    expect(answers.at(-1)?.status).toBe("Succeeded");
    expect(answers[1]?.status).toBe("InProgress");
    expect(keys.slice(0, 2)).toEqual([0, 0]);
    expect(answers[1]?.summary).toContain(
      "(looking for copies of the key's secrets that would hide it): 1 of 2 repositories checked",
    );
    expect(answers[1]?.summary).toContain("Nothing was changed in IAM or GitHub.");
    expect(world.inventory.calls.filter((call) => call.startsWith("environments"))).toEqual([
      "environments acme/app",
      "environments acme/web",
    ]);
    expect(world.iam.keys).toHaveLength(1);
  });

  it("says the rotation continues at the next run when the loop runs out during the check, and gives the lease up", async () => {
    // Prepare: one invocation looked at one repository, then the runbook's loop ended.
    const world = shadowWorld([APP, WEB], { copies: false });
    await run(world, { deadline: world.clock.now() });
    await run(world, { deadline: world.clock.now() });

    // Act
    const answer = answerOf(
      world.clock,
      await rotationResult(world.deps, { owner: "exec-1", dryRun: false }),
    );

    // Assess
    expect(answer.next).toBe("continues");
    expect(answer.summary).toContain("still being checked before a new key is created");
    expect(world.lock.lease).toBeUndefined();
  });

  it("waits for GitHub's rate limit to reset, keeping what is left for the rotation itself", async () => {
    // Prepare
    const world = shadowWorld([APP, WEB], { copies: false });
    world.inventory.remaining = 501;
    world.inventory.resetAt = new Date(world.clock.now().getTime() + 30 * 60_000);

    // Act
    const answer = await run(world);

    // Assess
    expect(answer.status).toBe("InProgress");
    expect(answer.resumeAt).toBe("2026-01-01T00:30:00Z");
    expect(world.iam.keys).toHaveLength(0);
  });

  it("waits until the reset GitHub names when it answers that the rate limit is used up during the check", async () => {
    // Prepare: other tools used the token up; GitHub refuses to list acme/web's environments until its reset.
    const world = shadowWorld([APP, WEB], { copies: false });
    const resetAt = new Date(world.clock.now().getTime() + 45 * 60_000);
    world.inventory.fail(
      "acme/web",
      new GitHubRateLimitError("GitHub's primary rate limit for the token is used up.", {
        status: 403,
        repo: "acme/web",
        resetAt,
        fix: "Wait.",
      }),
    );

    // Act
    const answer = await run(world);

    // Assess: not a failure of acme/web; the runbook sleeps until the reset, and no key exists yet.
    expect(answer.status, answer.summary).toBe("InProgress");
    expect(answer.next).toBe("again");
    expect(answer.resumeAt).toBe("2026-01-01T00:45:00Z");
    expect(answer.summary).toContain("1 of 2 repositories checked");
    expect(answer.progress).toBe(
      "1 repository not checked yet; GitHub's primary rate limit is low, resumes at 2026-01-01T00:45:00Z",
    );
    expect(answer.repoCounts.failed).toBe(0);
    expect(world.iam.keys).toHaveLength(0);
    expect(world.lock.lease).toBeDefined();
  });

  it("checks again, after a refusal, only where copies were found and whatever was left", async () => {
    // Prepare: refused; then the copy is deleted.
    const world = shadowWorld([APP, WEB]);
    await run(world);
    world.inventory.repo("acme/app", { environments: { production: {} } });
    const before = world.inventory.calls.length;

    // Act
    const answer = await run(world);

    // Assess
    expect(answer.status, answer.summary).toBe("Succeeded");
    expect(world.inventory.calls.slice(before).filter((call) => call.startsWith("environments"))).toEqual([
      "environments acme/app",
    ]);
  });

  it("names a repository it could not look at, with its fix, and creates no key", async () => {
    // Prepare
    const world = shadowWorld([APP, WEB], { copies: false });
    world.inventory.fail(
      "acme/web",
      new GitHubAccessError(
        'GitHub refused GET environments on acme/web (403 "Resource not accessible by personal access token").',
        { status: 403, repo: "acme/web", fix: 'Give the token "Actions: Read-only" on acme/web.' },
      ),
    );

    // Act
    const answer = await run(world);

    // Assess
    expect(answer.status).toBe("Failed");
    expect(answer.failedRepos.map((r) => r.repo)).toEqual(["acme/web"]);
    expect(answer.summary).toContain('"Actions: Read-only"');
    expect(world.iam.keys).toHaveLength(0);
  });
});

describe("DryRun reports every copy", () => {
  it("names each copy with its jobs and says a rotation would stop, changing nothing", async () => {
    // Prepare
    const world = shadowWorld([APP, WEB]);

    // Act
    const answer = await run(world, { dryRun: true });

    // Assess
    expect(answer.status).toBe("Succeeded");
    expect(answer.summary).toContain(
      "Copies of the key's secrets that would hide it: 2 (looked at all 2 repositories):",
    );
    expect(answer.summary).toContain(
      "- acme/app environment production has its own secret AWS_SECRET_ACCESS_KEY, which hides acme/app from the jobs .github/workflows/deploy.yml: release.",
    );
    expect(answer.summary).toContain("A rotation would stop here, before creating a key: Rotation refused");
    expect(world.iam.keys).toHaveLength(0);
    expect(world.state.saves).toBe(0);
  });
});

describe("Retire checks again before it deactivates the old key", () => {
  it("keeps the old key active while a copy added since the rotation hides the new key, naming it", async () => {
    // Prepare: a clean rotation, then a copy appears in production.
    const world = shadowWorld([APP, WEB], { copies: false });
    const { oldKey } = await rotatedTwice(world);
    world.inventory.repo("acme/app", {
      environments: { production: { secrets: ["AWS_ACCESS_KEY_ID"] } },
      workflows: { ".github/workflows/deploy.yml": DEPLOY },
    });

    // Act
    const answer = await runRetire(world);

    // Assess
    expect(answer.status).toBe("Failed");
    expect(world.iam.status(oldKey)).toBe("Active");
    expect(answer.summary).toContain(`Retire refused: the old key ${oldKey} stays active`);
    expect(answer.summary).toContain("acme/app environment production (AWS_ACCESS_KEY_ID)");
    expect(answer.summary).toContain(".github/workflows/deploy.yml: release");
  });

  it("deactivates the old key once the copy is gone", async () => {
    // Prepare
    const world = shadowWorld([APP, WEB], { copies: false });
    const { oldKey } = await rotatedTwice(world);
    world.inventory.repo("acme/app", { environments: { production: { secrets: ["AWS_ACCESS_KEY_ID"] } } });
    await runRetire(world);
    world.inventory.repo("acme/app", { environments: { production: {} } });

    // Act
    const answer = await runRetire(world);

    // Assess
    expect(answer.status, answer.summary).toBe("Succeeded");
    expect(world.iam.status(oldKey)).toBe("Inactive");
  });

  it("keeps the old key active and succeeds when the check outlasts the step, for the next rotation to finish", async () => {
    // Prepare
    const world = shadowWorld([APP, WEB], { copies: false });
    const { oldKey } = await rotatedTwice(world);

    // Act
    const answer = await runRetire(world, { deadline: world.clock.now() });

    // Assess
    expect(answer.status).toBe("Succeeded");
    expect(world.iam.status(oldKey)).toBe("Active");
    expect(answer.summary).toContain("1 of 2 repositories were looked at again");
  });

  it("in a dry run, says it would not deactivate the old key, changing nothing", async () => {
    // Prepare
    const world = shadowWorld([APP, WEB], { copies: false });
    const { oldKey } = await rotatedTwice(world);
    world.inventory.repo("acme/app", { environments: { production: { secrets: BOTH } } });
    const saves = world.state.saves;

    // Act
    const answer = await runRetire(world, { dryRun: true });

    // Assess
    expect(answer.status).toBe("Succeeded");
    expect(answer.summary).toContain(`Would not deactivate the previous key ${oldKey}`);
    expect(world.iam.status(oldKey)).toBe("Active");
    expect(world.state.saves).toBe(saves);
  });
});

describe("an organization secret that reaches repositories the credential cannot list", () => {
  const ORG_ALL: Target = {
    kind: "organization",
    owner: "acme",
    store: "actions",
    visibility: "all",
    selectedRepositories: [],
  };
  const LEFT_OUT = {
    certain: true,
    total: 3,
    reason: "The GitHub App is installed on selected repositories of acme only, and sees no other.",
    fix: 'Let the App see every repository ("All repositories"). Then run Rotate again.',
  };
  const NO_COUNT = {
    certain: false,
    reason: "GitHub shows how many private repositories acme has only to an organization owner.",
    fix: "If the token does not see every repository, give it every one.",
  };

  function orgWorld(unseen: typeof LEFT_OUT | typeof NO_COUNT): ShadowWorld {
    const world = shadowWorld([ORG_ALL], { copies: false });
    world.github.addOrg("acme");
    world.inventory.unseen("acme", unseen);
    return world;
  }

  it("refuses before any key is created when GitHub says repositories were left out, naming how many it saw and the fix", async () => {
    // Prepare: the credential lists acme/app and acme/web; the secret reaches 3 repositories.
    const world = orgWorld(LEFT_OUT);

    // Act
    const answer = await run(world);

    // Assess
    expect(answer.status).toBe("Failed");
    expect(world.iam.keys).toHaveLength(0);
    expect(world.github.writes).toEqual([]);
    expect(answer.failedRepos.map((r) => r.repo)).toEqual(["organization acme (Actions)"]);
    expect(answer.summary).toContain(
      "it looked at 2 repositories of the 3 repositories it reaches, and not at the others.",
    );
    expect(answer.summary).toContain('("All repositories")');
  });

  it("in a dry run, says a rotation would stop and that the others were not looked at, changing nothing", async () => {
    // Prepare
    const world = orgWorld(LEFT_OUT);

    // Act
    const answer = await run(world, { dryRun: true });

    // Assess
    expect(answer.status).toBe("Succeeded");
    expect(answer.summary).toContain(
      "Copies of the key's secrets that would hide it: none (looked at the 2 repositories the credential can see; others were not looked at: see the notes).",
    );
    expect(answer.summary).toContain("A rotation would stop here, before creating a key:");
    expect(answer.summary).toContain("and not at the others");
    expect(world.iam.keys).toHaveLength(0);
    expect(world.state.saves).toBe(0);
  });

  it("keeps the old key active at Retire while repositories are left out", async () => {
    // Prepare: rotations while the App saw every repository; then it is limited to selected ones.
    const world = shadowWorld([ORG_ALL], { copies: false });
    world.github.addOrg("acme");
    const { oldKey } = await rotatedTwice(world);
    world.inventory.unseen("acme", LEFT_OUT);

    // Act
    const answer = await runRetire(world);

    // Assess
    expect(answer.status).toBe("Failed");
    expect(world.iam.status(oldKey)).toBe("Active");
    expect(answer.summary).toContain("and not at the others");
  });

  it("rotates, and says it cannot confirm it saw every repository, when GitHub gives no count", async () => {
    // Prepare
    const world = orgWorld(NO_COUNT);

    // Act
    const answer = await run(world);

    // Assess
    expect(answer.status, answer.summary).toBe("Succeeded");
    expect(answer.summary).toContain(
      "cannot confirm it saw every repository the organization secret organization acme (Actions) reaches: it looked at 2 repositories of acme.",
    );
    expect(answer.summary).toContain("If the token does not see every repository, give it every one.");
  });
});
