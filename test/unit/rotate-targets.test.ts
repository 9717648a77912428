/**
 * Every kind of target through the lifecycle (in-memory fakes): environment secrets, Dependabot and Codespaces
 * secrets, organization secrets (all, private, selected), per-target names, the key ID as an Actions variable — and
 * R1 across all of them: no key any target may still hold is deactivated.
 */
import { describe, expect, it } from "vitest";
import { type Target, targetKey, targetLabel } from "../../src/domain/target.ts";
import { retire } from "../../src/lifecycle/retire.ts";
import { rotate } from "../../src/lifecycle/rotate.ts";
import type { RotationDeps } from "../../src/lifecycle/rotation-context.ts";
import { rotationResult } from "../../src/lifecycle/rotation-result.ts";
import { answerOf, type FakeWorld, fakeWorld, MemoryTargetList, type TestAnswer } from "../support/fakes.ts";

const FAR_FUTURE = new Date("2100-01-01T00:00:00Z");
const KEY_ID = "AWS_ACCESS_KEY_ID";
const SECRET_KEY = "AWS_SECRET_ACCESS_KEY";

const ENVIRONMENT: Target = { kind: "environment", owner: "acme", name: "app", environment: "production" };
const DEPENDABOT: Target = { kind: "repository", owner: "acme", name: "app", store: "dependabot" };
const CODESPACES: Target = { kind: "repository", owner: "acme", name: "app", store: "codespaces" };
const ORG_ALL: Target = {
  kind: "organization",
  owner: "acme",
  store: "actions",
  visibility: "all",
  selectedRepositories: [],
};
const ORG_PRIVATE: Target = { ...ORG_ALL, store: "codespaces", visibility: "private" };
const ORG_SELECTED: Target = {
  kind: "organization",
  owner: "acme",
  store: "dependabot",
  visibility: "selected",
  selectedRepositories: ["app", "web"],
};
const VARIABLE: Target = {
  kind: "repository",
  owner: "acme",
  name: "web",
  store: "actions",
  keyIdAs: "variable",
};
const NAMED: Target = {
  kind: "repository",
  owner: "acme",
  name: "api",
  store: "actions",
  secretNames: { keyId: "DEPLOY_KEY_ID", secretKey: "DEPLOY_SECRET_KEY" },
};
const EVERY_KIND: readonly Target[] = [
  ENVIRONMENT,
  DEPENDABOT,
  CODESPACES,
  ORG_ALL,
  ORG_PRIVATE,
  ORG_SELECTED,
  VARIABLE,
  NAMED,
];

interface TargetWorld extends FakeWorld {
  readonly list: MemoryTargetList;
  readonly deps: RotationDeps;
}

/** GitHub with organization acme, its repositories app, web and api, and app's environment production. */
function targetWorld(targets: readonly Target[], graceMinutes = 60): TargetWorld {
  const world = fakeWorld(0, graceMinutes);
  world.github.addOrg("acme");
  for (const name of ["app", "web", "api"]) world.github.addRepo("acme", name);
  world.github.addEnvironment("acme", "app", "production");
  const list = new MemoryTargetList(targets);
  return { ...world, list, deps: { ...world.deps, list } };
}

async function run(world: TargetWorld, options: { dryRun?: boolean; deadline?: Date } = {}) {
  const outcome = await rotate(world.deps, {
    owner: "exec-1",
    dryRun: options.dryRun ?? false,
    replaceOlderKey: false,
    deadline: options.deadline ?? FAR_FUTURE,
  });
  return answerOf(world.clock, outcome);
}

/** Where the target keeps the key ID and the secret key, and their names there. */
function namesAt(target: Target): { keyId: string; secretKey: string } {
  return target.secretNames ?? { keyId: KEY_ID, secretKey: SECRET_KEY };
}

/** The key ID a target holds now (from its secret or, with KeyIdAs variable, its variable). */
function keyIdAt(world: FakeWorld, target: Target): string | undefined {
  const { keyId } = namesAt(target);
  const label = targetLabel(target);
  return target.keyIdAs === "variable"
    ? world.github.variable(label, keyId)
    : world.github.value(label, keyId);
}

function expectEveryTargetHolds(world: TargetWorld, accessKeyId: string): void {
  for (const target of world.list.targets) {
    const label = targetLabel(target);
    expect(keyIdAt(world, target), label).toBe(accessKeyId);
    expect(world.github.value(label, namesAt(target).secretKey), label).toBe(world.iam.secretOf(accessKeyId));
  }
}

/** R1 at every instant, over every target: its key ID names a key that is Active in IAM. */
function watchR1(world: TargetWorld): string[] {
  const violations: string[] = [];
  world.github.onWrite = () => {
    for (const target of world.list.targets) {
      const id = keyIdAt(world, target);
      if (id !== undefined && world.iam.status(id) !== "Active") {
        violations.push(`${targetLabel(target)} holds ${id}`);
      }
    }
  };
  return violations;
}

function expectNoSecretIn(world: FakeWorld, ...results: TestAnswer[]): void {
  const text = JSON.stringify(results) + world.logs.join("\n");
  for (const key of world.iam.keys) expect(text).not.toContain(key.secret);
}

describe("a rotation over every kind of target", () => {
  it("writes the new key to each target's own secrets and names each one in the summary", async () => {
    // Prepare
    const world = targetWorld(EVERY_KIND);
    const old = world.iam.addKey("Active");
    const r1 = watchR1(world);

    // Act
    const result = await run(world);

    // Assess
    expect(result.status).toBe("Succeeded");
    expectEveryTargetHolds(world, result.newAccessKeyId);
    expect(result.repos.map((r) => [r.repo, r.result])).toEqual(
      EVERY_KIND.map((target) => [targetLabel(target), "written"]),
    );
    expect(result.summary).toContain("Rotation Succeeded: every listed target holds key");
    expect(result.progress).toBe("8 of 8 targets done");
    expect(world.iam.status(old.accessKeyId)).toBe("Active");
    expect(r1).toEqual([]);
    expectNoSecretIn(world, result);
  });

  it("keeps the targets apart: an environment's, Dependabot's or Codespaces' secrets never land in the repository's Actions secrets", async () => {
    // Prepare
    const world = targetWorld([ENVIRONMENT, DEPENDABOT, CODESPACES]);

    // Act
    const result = await run(world);

    // Assess
    expect(result.status).toBe("Succeeded");
    expect(world.github.value("acme/app", KEY_ID)).toBeUndefined();
    expect(world.github.value("acme/app (environment production)", KEY_ID)).toBe(result.newAccessKeyId);
    expect(world.github.value("acme/app (Dependabot)", KEY_ID)).toBe(result.newAccessKeyId);
    expect(world.github.value("acme/app (Codespaces)", KEY_ID)).toBe(result.newAccessKeyId);
  });

  it("writes organization secrets with their visibility, and a selected one with its repositories' IDs", async () => {
    // Prepare
    const world = targetWorld([ORG_ALL, ORG_PRIVATE, ORG_SELECTED]);

    // Act
    const result = await run(world);

    // Assess
    expect(result.status).toBe("Succeeded");
    const ids = [world.github.ids.get("acme/app"), world.github.ids.get("acme/web")];
    expect(world.github.visibility.get(`organization acme (Actions):${KEY_ID}`)).toEqual({
      visibility: "all",
      selectedRepositoryIds: undefined,
    });
    expect(world.github.visibility.get(`organization acme (Codespaces):${SECRET_KEY}`)).toEqual({
      visibility: "private",
      selectedRepositoryIds: undefined,
    });
    expect(world.github.visibility.get(`organization acme (Dependabot):${KEY_ID}`)).toEqual({
      visibility: "selected",
      selectedRepositoryIds: ids,
    });
  });

  it("uses a target's own secret names, and the stack's names everywhere else", async () => {
    // Prepare
    const plain: Target = { kind: "repository", owner: "acme", name: "web", store: "actions" };
    const world = targetWorld([NAMED, plain]);

    // Act
    const result = await run(world);

    // Assess
    expect(world.github.value("acme/api", "DEPLOY_KEY_ID")).toBe(result.newAccessKeyId);
    expect(world.github.value("acme/api", "DEPLOY_SECRET_KEY")).toBe(
      world.iam.secretOf(result.newAccessKeyId),
    );
    expect(world.github.value("acme/api", KEY_ID)).toBeUndefined();
    expect(world.github.value("acme/web", KEY_ID)).toBe(result.newAccessKeyId);
  });

  it("writes the key ID as an Actions variable and the secret key as a secret", async () => {
    // Prepare
    const world = targetWorld([VARIABLE]);

    // Act
    const result = await run(world);

    // Assess
    expect(result.status).toBe("Succeeded");
    expect(world.github.variable("acme/web", KEY_ID)).toBe(result.newAccessKeyId);
    expect(world.github.value("acme/web", KEY_ID)).toBeUndefined();
    expect(world.github.value("acme/web", SECRET_KEY)).toBe(world.iam.secretOf(result.newAccessKeyId));
    expect(world.github.writes).toEqual([`acme/web:${SECRET_KEY}`, `acme/web:vars.${KEY_ID}`]);
    expect(result.repos[0]?.detail).toContain("updated_at and the variable's value verified");
  });

  it("fails a target whose key ID variable does not read back as the new key, and keeps the old key active", async () => {
    // Prepare: something else rewrites the variable right after each write.
    const world = targetWorld([VARIABLE]);
    const old = world.iam.addKey("Active");
    world.github.onWrite = (label) => {
      const variables = world.github.repos.get(label)?.variables;
      if (variables?.has(KEY_ID)) variables.set(KEY_ID, "SOMETHINGELSE0001");
    };

    // Act
    const result = await run(world);

    // Assess
    expect(result.status).toBe("Failed");
    expect(result.failedRepos).toEqual([
      expect.objectContaining({
        repo: "acme/web",
        detail: expect.stringContaining(
          `GitHub accepted variable ${KEY_ID} for acme/web but reads it back as "SOMETHINGELSE0001"`,
        ),
      }),
    ]);
    expect(world.iam.status(old.accessKeyId)).toBe("Active");
  });

  it("quotes a key ID variable that reads back as something else short, with invisible characters escaped", async () => {
    // Prepare: whoever may write the repository's variables wrote 5,000 characters with a right-to-left override.
    const world = targetWorld([VARIABLE]);
    world.iam.addKey("Active");
    world.github.onWrite = (label) => {
      const variables = world.github.repos.get(label)?.variables;
      if (variables?.has(KEY_ID)) variables.set(KEY_ID, `\u202e${"x".repeat(5_000)}`);
    };

    // Act
    const result = await run(world);

    // Assess
    const detail = result.failedRepos[0]?.detail ?? "";
    expect(detail).toContain(`reads it back as "\\u202e${"x".repeat(59)}...", not `);
    expect(detail).not.toContain("\u202e");
  });

  it("plans each target with its names in a dry run, and changes nothing", async () => {
    // Prepare
    const world = targetWorld([NAMED, VARIABLE, ORG_SELECTED]);

    // Act
    const plan = await run(world, { dryRun: true });

    // Assess
    expect(plan.status).toBe("Succeeded");
    expect(plan.repos.map((r) => [r.repo, r.result, r.detail])).toEqual([
      ["acme/api", "would-write", "DEPLOY_SECRET_KEY and DEPLOY_KEY_ID"],
      ["acme/web", "would-write", `${SECRET_KEY} and variable ${KEY_ID}`],
      ["organization acme (Dependabot)", "would-write", `${SECRET_KEY} and ${KEY_ID}`],
    ]);
    expect(world.github.writes).toEqual([]);
    expect(world.iam.keys).toEqual([]);
  });
});

describe("preflight for every kind of target", () => {
  it("refuses an environment that does not exist, naming it, before any IAM change", async () => {
    // Prepare
    const missing: Target = { ...ENVIRONMENT, environment: "staging" };
    const world = targetWorld([ENVIRONMENT, missing]);
    const old = world.iam.addKey("Active");

    // Act
    const result = await run(world);

    // Assess
    expect(result.status).toBe("Failed");
    expect(result.summary).toContain(
      "GitHub preflight failed for 1 target: acme/app (environment staging). Nothing was changed.",
    );
    expect(result.failedRepos).toEqual([
      expect.objectContaining({
        repo: "acme/app (environment staging)",
        detail: expect.stringContaining("The environment staging does not exist in acme/app"),
      }),
    ]);
    expect(world.iam.calls).toEqual([]);
    expect(world.iam.keys.map((k) => k.accessKeyId)).toEqual([old.accessKeyId]);
    expect(world.github.writes).toEqual([]);
  });

  it("refuses an organization secret whose selected repository does not exist, before any IAM change", async () => {
    // Prepare
    const world = targetWorld([{ ...ORG_SELECTED, selectedRepositories: ["app", "gone"] }]);

    // Act
    const result = await run(world);

    // Assess
    expect(result.status).toBe("Failed");
    expect(result.failedRepos.map((r) => r.repo)).toEqual(["organization acme (Dependabot)"]);
    expect(result.failedRepos[0]?.detail).toContain("acme/gone");
    expect(world.iam.calls).toEqual([]);
    expect(world.github.writes).toEqual([]);
  });

  it("refuses an organization the token cannot see, before any IAM change", async () => {
    // Prepare
    const world = targetWorld([{ ...ORG_ALL, owner: "elsewhere" }]);

    // Act
    const result = await run(world);

    // Assess
    expect(result.status).toBe("Failed");
    expect(result.failedRepos.map((r) => r.repo)).toEqual(["organization elsewhere (Actions)"]);
    expect(world.iam.calls).toEqual([]);
  });
});

describe("identity of every kind of target", () => {
  it("pins an environment target to its repository's ID and an organization target to the organization's", async () => {
    // Prepare
    const world = targetWorld([ENVIRONMENT, ORG_ALL]);

    // Act
    await run(world);

    // Assess
    const state = await world.state.load();
    expect(state?.repoIds?.[targetKey(ENVIRONMENT)]?.id).toBe(world.github.ids.get("acme/app"));
    expect(state?.repoIds?.[targetKey(ORG_ALL)]?.id).toBe(world.github.orgs.get("acme"));
  });

  it("refuses an organization re-created under the listed name, with both IDs, and alerts", async () => {
    // Prepare
    const world = targetWorld([ORG_ALL]);
    await run(world);
    const before = world.github.orgs.get("acme");
    world.github.addOrg("acme");
    world.clock.advance(2 * 3_600_000);
    const writes = world.github.writes.length;

    // Act
    const outcome = await rotate(world.deps, {
      owner: "exec-2",
      dryRun: false,
      replaceOlderKey: false,
      deadline: FAR_FUTURE,
    });

    // Assess
    const answer = answerOf(world.clock, outcome);
    expect(answer.status).toBe("Failed");
    expect(answer.summary).toContain(
      `organization acme (Actions) is a different organization now (ID ${before} → ${world.github.orgs.get("acme")})`,
    );
    expect(world.github.writes).toHaveLength(writes);
    expect(outcome.alerts).toEqual([expect.stringContaining("is a different organization on GitHub")]);
  });
});

describe("R1 across every kind of target", () => {
  it("keeps the old key active while an organization secret could not be written, and retires it once it is", async () => {
    // Prepare
    const world = targetWorld([ENVIRONMENT, ORG_SELECTED], 0);
    const old = world.iam.addKey("Active");
    world.github.failingWrites.add("organization acme (Dependabot)");
    const r1 = watchR1(world);

    // Act
    const failed = await run(world);
    const retireWhileHeld = answerOf(
      world.clock,
      await retire(world.deps, { owner: "exec-1", dryRun: false }),
    );
    const statusWhileHeld = world.iam.status(old.accessKeyId);
    world.github.failingWrites.clear();
    const resumed = await run(world);
    const result = answerOf(
      world.clock,
      await rotationResult(world.deps, { owner: "exec-1", dryRun: false }),
    );
    const retired = answerOf(world.clock, await retire(world.deps, { owner: "exec-1", dryRun: false }));

    // Assess
    expect(failed.status).toBe("Failed");
    expect(failed.failedRepos.map((r) => r.repo)).toEqual(["organization acme (Dependabot)"]);
    expect(retireWhileHeld.summary).toContain("Nothing to retire");
    expect(statusWhileHeld).toBe("Active");
    expect(resumed.status).toBe("Succeeded");
    expect(resumed.repos.map((r) => [r.repo, r.result])).toEqual([
      ["acme/app (environment production)", "already-current"],
      ["organization acme (Dependabot)", "written"],
    ]);
    expect(result.next).toBe("retire");
    expect(retired.status).toBe("Succeeded");
    expect(world.iam.status(old.accessKeyId)).toBe("Inactive");
    expect(r1).toEqual([]);
  });

  it("refuses to retire an adopted key while a target listed since may still hold it", async () => {
    // Prepare: the key set by hand is adopted and replaced in the environment; then an organization secret that
    // may hold it too is listed.
    const world = targetWorld([ENVIRONMENT], 0);
    const old = world.iam.addKey("Active");
    const rotated = await run(world);
    world.list.targets = [ENVIRONMENT, ORG_ALL];

    // Act
    const retired = answerOf(world.clock, await retire(world.deps, { owner: "exec-1", dryRun: false }));

    // Assess
    expect(rotated.status).toBe("Succeeded");
    expect(retired.status).toBe("Failed");
    expect(retired.summary).toContain(
      `the previous key ${old.accessKeyId} may still be used by organization acme (Actions), so it stays active. Run Rotate: it writes the current key to these targets first.`,
    );
    expect(world.iam.status(old.accessKeyId)).toBe("Active");
  });
});

describe("a rotation over every kind of target that dies at any save", () => {
  it("converges to every target holding the new key, with no target written twice after the last batch", async () => {
    // Prepare: the fault-free run counts the saves.
    const clean = targetWorld(EVERY_KIND);
    await run(clean);
    const saves = clean.state.saves;

    for (let crashAt = 1; crashAt <= saves; crashAt++) {
      const world = targetWorld(EVERY_KIND);
      const r1 = watchR1(world);
      world.state.crashOnSave = crashAt;

      // Act
      const crashed = await run(world);
      world.state.crashOnSave = undefined;
      const rerun = await run(world);

      // Assess
      expect(crashed.status, `crash at save ${crashAt}`).toBe("Failed");
      expect(rerun.status, `crash at save ${crashAt}`).toBe("Succeeded");
      expectEveryTargetHolds(world, rerun.newAccessKeyId);
      expect(world.iam.keys.length).toBeLessThanOrEqual(2);
      expect(r1).toEqual([]);
    }
  });

  it("recognises targets an interrupted run wrote (a key ID variable by its value) instead of writing them again", async () => {
    // Prepare: the run dies at its last save, after every write.
    const clean = targetWorld([VARIABLE, ORG_SELECTED]);
    await run(clean);
    const world = targetWorld([VARIABLE, ORG_SELECTED]);
    world.state.crashOnSave = clean.state.saves - 1;
    await run(world);
    world.state.crashOnSave = undefined;
    const writes = world.github.writes.length;
    world.clock.advance(5_000);

    // Act
    const rerun = await run(world);

    // Assess
    expect(rerun.status).toBe("Succeeded");
    expect(world.github.writes).toHaveLength(writes);
    expect(rerun.repos.map((r) => r.detail)).toEqual([
      expect.stringContaining("written by an interrupted run"),
      expect.stringContaining("written by an interrupted run"),
    ]);
  });
});
