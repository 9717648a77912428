/**
 * An organization secret with visibility `selected` and 10,000 repositories through the lifecycle (in-memory fakes,
 * the progress object serialized as in S3): the names are resolved to IDs once per rotation, 100 a request, within
 * each invocation's time, kept in the progress object for the later invocations, and written with the secret.
 * The bench's run at N = 10,000 showed each invocation resolving them again, one request per name, for 568 s.
 */
import { describe, expect, it } from "vitest";
import { type OrganizationTarget, targetKey } from "../../src/domain/target.ts";
import { GitHubRateLimitError } from "../../src/errors.ts";
import { rotate } from "../../src/lifecycle/rotate.ts";
import { answerOf, type FakeWorld, fakeWorld, MemoryTargetList, type TestAnswer } from "../support/fakes.ts";

const COUNT = 10_000;
const NAMES = Array.from({ length: COUNT }, (_, i) => `service-${String(i + 1).padStart(5, "0")}`);
const ORG: OrganizationTarget = {
  kind: "organization",
  owner: "acme",
  store: "actions",
  visibility: "selected",
  selectedRepositories: NAMES.map((name, i) => (i % 2 === 0 ? name.toUpperCase() : name)),
};
const LABEL = "organization acme (Actions)";
/** Each invocation may work this long (the step's budget, less the minute kept in hand). */
const STEP_MS = 60_000;

function world(): FakeWorld {
  const made = fakeWorld(0);
  made.github.addOrg("acme");
  for (const name of NAMES) made.github.addRepo("acme", name);
  // One second a request: an invocation lists 60 of the 100 pages before its time is up.
  made.github.lookupMs = 1_000;
  const list = new MemoryTargetList([ORG]);
  return { ...made, deps: { ...made.deps, list } };
}

async function invoke(w: FakeWorld, owner = "exec-1"): Promise<TestAnswer> {
  const deadline = new Date(w.clock.now().getTime() + STEP_MS);
  const outcome = await rotate(w.deps, { owner, dryRun: false, replaceOlderKey: false, deadline });
  return answerOf(w.clock, outcome);
}

function expectedIds(w: FakeWorld): number[] {
  return NAMES.map((name) => w.github.ids.get(`acme/${name}`) ?? 0);
}

describe("an organization secret selecting 10,000 repositories", () => {
  it("resolves the names once, 100 a request, over two invocations, before the key is created, and writes their IDs", async () => {
    // Prepare
    const w = world();
    w.iam.addKey("Active");

    // Act
    const first = await invoke(w);
    const createdAfterFirst = w.iam.calls.includes("create");
    const kept = (await w.state.load())?.selectedIds?.[targetKey(ORG)];
    const second = await invoke(w);

    // Assess
    expect(first.status).toBe("InProgress");
    expect(first.summary).toContain(
      "(resolving the organization secret's selected repositories to IDs before creating a key): 6000 of 10000 selected repositories resolved to IDs; the next invocation continues. Nothing was changed in IAM or GitHub.",
    );
    expect(createdAfterFirst).toBe(false);
    expect(kept?.nextPage).toBeGreaterThan(1);
    expect(second.status).toBe("Succeeded");
    expect(w.github.lookups).toHaveLength(100);
    expect(new Set(w.github.lookups).size).toBe(100);
    expect(w.github.visibility.get(`${LABEL}:AWS_ACCESS_KEY_ID`)).toEqual({
      visibility: "selected",
      selectedRepositoryIds: expectedIds(w),
    });
    expect((await w.state.load())?.selectedIds).toBeUndefined();
  });

  it("sends no request for the names in a later invocation of the same rotation: the IDs come from the progress object", async () => {
    // Prepare
    const w = world();
    w.iam.addKey("Active");
    w.github.failingWrites.add(LABEL);
    await invoke(w);
    const failed = await invoke(w);
    w.github.failingWrites.delete(LABEL);
    w.github.handedIds.clear();
    const lookups = w.github.lookups.length;

    // Act
    const resumed = await invoke(w, "exec-2");

    // Assess
    expect(failed.status).toBe("Failed");
    expect(resumed.status).toBe("Succeeded");
    expect(w.github.lookups).toHaveLength(lookups);
    expect(w.github.handedIds.get(targetKey(ORG))).toEqual(expectedIds(w));
    expect(w.github.visibility.get(`${LABEL}:AWS_SECRET_ACCESS_KEY`)?.selectedRepositoryIds).toEqual(
      expectedIds(w),
    );
  });

  it("resumes a rotation whose progress object was written before the IDs were kept (it resolves them then)", async () => {
    // Prepare
    const w = world();
    w.iam.addKey("Active");
    w.github.failingWrites.add(LABEL);
    await invoke(w);
    await invoke(w);
    w.github.failingWrites.delete(LABEL);
    const stored = JSON.parse(w.state.progress.text ?? "{}") as Record<string, unknown>;
    delete stored.selectedIds;
    w.state.progress.text = JSON.stringify(stored);
    const lookups = w.github.lookups.length;

    // Act
    const first = await invoke(w, "exec-2");
    const second = await invoke(w, "exec-2");

    // Assess
    expect(first.status).toBe("InProgress");
    expect(first.summary).toContain("resolving the organization secret's selected repositories to IDs");
    expect(second.status).toBe("Succeeded");
    expect(w.github.lookups.length - lookups).toBe(100);
    expect(w.github.visibility.get(`${LABEL}:AWS_ACCESS_KEY_ID`)?.selectedRepositoryIds).toEqual(
      expectedIds(w),
    );
  });

  it("resolves the names anew for the next rotation", async () => {
    // Prepare
    const w = world();
    w.github.lookupMs = 0;
    await invoke(w);
    w.clock.advance(2 * 60 * 60_000);
    const lookups = w.github.lookups.length;

    // Act
    const next = await invoke(w, "exec-2");

    // Assess
    expect(lookups).toBe(100);
    expect(next.status).toBe("Succeeded");
    expect(w.github.lookups.length - lookups).toBe(100);
  });
});

/** An organization secret selecting `count` repositories (`count` above 10: resolved from the listing). */
function pinnedWorld(count: number): { w: FakeWorld; target: OrganizationTarget; list: MemoryTargetList } {
  const made = fakeWorld(0);
  made.github.addOrg("acme");
  const names = Array.from({ length: count }, (_, i) => `app-${String(i + 1).padStart(2, "0")}`);
  for (const name of names) made.github.addRepo("acme", name);
  const target: OrganizationTarget = { ...ORG, selectedRepositories: names };
  const list = new MemoryTargetList([target]);
  return { w: { ...made, deps: { ...made.deps, list } }, target, list };
}

async function rotateNow(w: FakeWorld, owner: string) {
  const deadline = new Date(w.clock.now().getTime() + STEP_MS);
  const outcome = await rotate(w.deps, { owner, dryRun: false, replaceOlderKey: false, deadline });
  return { outcome, answer: answerOf(w.clock, outcome) };
}

const TWO_HOURS = 2 * 60 * 60_000;

describe("a selected repository deleted and re-created under its name", () => {
  it.each([
    ["looked up by name", 2],
    ["found in the organization's listing", 20],
  ])("(%s) makes the next rotation fail before any change, with both IDs, and alerts", async (_, count) => {
    // Prepare
    const { w } = pinnedWorld(count);
    const first = await rotateNow(w, "exec-1");
    const before = w.github.ids.get("acme/app-02");
    w.github.recreateRepo("acme", "app-02");
    w.clock.advance(TWO_HOURS);
    const keys = w.iam.keys.map((k) => k.accessKeyId);
    const calls = w.iam.calls.length;
    const writes = w.github.writes.length;

    // Act
    const { outcome, answer } = await rotateNow(w, "exec-2");

    // Assess
    expect(first.answer.status).toBe("Succeeded");
    expect(answer.status).toBe("Failed");
    expect(answer.summary).toContain(
      `${LABEL}: its selected repository acme/app-02 is a different repository now (ID ${before} → ${w.github.ids.get("acme/app-02")})`,
    );
    expect(w.iam.keys.map((k) => k.accessKeyId)).toEqual(keys);
    expect(w.iam.calls.slice(calls)).not.toContain("create");
    expect(w.github.writes).toHaveLength(writes);
    expect(outcome.alerts).toEqual([
      expect.stringContaining("acme/app-02 is a different repository on GitHub"),
    ]);
    expect((await w.state.load())?.repoIds?.["org:acme@actions#app-02"]?.id).toBe(before);
  });

  it("takes the new repository once its name was left out of Repositories for one rotation and added again", async () => {
    // Prepare
    const { w, target, list } = pinnedWorld(2);
    await rotateNow(w, "exec-1");
    w.github.recreateRepo("acme", "app-02");
    list.targets = [{ ...target, selectedRepositories: ["app-01"] }];
    w.clock.advance(TWO_HOURS);
    const without = await rotateNow(w, "exec-2");
    list.targets = [target];
    w.clock.advance(TWO_HOURS);

    // Act
    const { answer } = await rotateNow(w, "exec-3");

    // Assess
    expect(without.answer.status).toBe("Succeeded");
    expect(answer.status).toBe("Succeeded");
    const ids = [w.github.ids.get("acme/app-01"), w.github.ids.get("acme/app-02")];
    expect(w.github.visibility.get(`${LABEL}:AWS_ACCESS_KEY_ID`)?.selectedRepositoryIds).toEqual(ids);
    expect((await w.state.load())?.repoIds?.["org:acme@actions#app-02"]?.id).toBe(ids[1]);
  });

  it("refuses it in a rotation resumed with the names resolved anew, writing nothing in that invocation", async () => {
    // Prepare: the second rotation's key exists and its write failed; its progress object keeps no IDs (written
    // before they were kept), so the resumed invocation resolves the names again.
    const { w } = pinnedWorld(2);
    await rotateNow(w, "exec-1");
    w.clock.advance(TWO_HOURS);
    w.github.failingWrites.add(LABEL);
    const failed = await rotateNow(w, "exec-2");
    w.github.failingWrites.delete(LABEL);
    const stored = JSON.parse(w.state.progress.text ?? "{}") as Record<string, unknown>;
    delete stored.selectedIds;
    w.state.progress.text = JSON.stringify(stored);
    w.github.recreateRepo("acme", "app-02");
    const writes = w.github.writes.length;

    // Act
    const { outcome, answer } = await rotateNow(w, "exec-2");

    // Assess
    expect(failed.answer.status).toBe("Failed");
    expect(answer.status).toBe("Failed");
    expect(answer.summary).toContain("its selected repository acme/app-02 is a different repository now");
    expect(w.github.writes).toHaveLength(writes);
    expect(outcome.alerts).toEqual([expect.stringContaining("acme/app-02")]);
  });
});

describe("a rotation resumed while one organization secret's selected names cannot be resolved", () => {
  it("writes nothing in that invocation, so no organization secret goes out with IDs it did not check", async () => {
    // Prepare: two organization secrets; the second rotation's key exists and the Dependabot secret's write failed.
    // Then a name that does not exist is added to the Actions entry, and the Dependabot secret's app-02 is deleted
    // and re-created by someone else (its kept ID is the old one, so it is not looked up again in this rotation).
    const made = fakeWorld(0);
    made.github.addOrg("acme");
    for (const name of ["app-01", "app-02"]) made.github.addRepo("acme", name);
    const actions: OrganizationTarget = { ...ORG, selectedRepositories: ["app-01"] };
    const dependabot: OrganizationTarget = {
      ...ORG,
      store: "dependabot",
      selectedRepositories: ["app-01", "app-02"],
    };
    const list = new MemoryTargetList([actions, dependabot]);
    const w: FakeWorld = { ...made, deps: { ...made.deps, list } };
    const DEPENDABOT = "organization acme (Dependabot)";
    await rotateNow(w, "exec-1");
    w.clock.advance(TWO_HOURS);
    w.github.failingWrites.add(DEPENDABOT);
    const failed = await rotateNow(w, "exec-2");
    w.github.failingWrites.delete(DEPENDABOT);
    list.targets = [{ ...actions, selectedRepositories: ["app-01", "app-typo"] }, dependabot];
    w.github.recreateRepo("acme", "app-02");
    w.github.handedIds.clear();
    const writes = w.github.writes.length;

    // Act
    const { answer } = await rotateNow(w, "exec-3");

    // Assess
    expect(failed.answer.status).toBe("Failed");
    expect(w.github.visibility.get(`${DEPENDABOT}:AWS_ACCESS_KEY_ID`)?.selectedRepositoryIds).not.toContain(
      w.github.ids.get("acme/app-02"),
    );
    expect(answer.status).toBe("Failed");
    expect(w.github.writes).toHaveLength(writes);
    expect(answer.summary).toContain("organization acme (Actions): failed — acme/app-typo not found (404)");
  });
});

describe("resolving the selected repositories of several organization secrets", () => {
  it("names every organization secret with a re-created selected repository in one run, and alerts each", async () => {
    // Prepare
    const made = fakeWorld(0);
    made.github.addOrg("acme");
    for (const name of ["app-01", "app-02"]) made.github.addRepo("acme", name);
    const list = new MemoryTargetList([
      { ...ORG, selectedRepositories: ["app-01"] },
      { ...ORG, store: "dependabot", selectedRepositories: ["app-02"] },
    ]);
    const w: FakeWorld = { ...made, deps: { ...made.deps, list } };
    await rotateNow(w, "exec-1");
    w.github.recreateRepo("acme", "app-01");
    w.github.recreateRepo("acme", "app-02");
    w.clock.advance(TWO_HOURS);
    const calls = w.iam.calls.length;

    // Act
    const { outcome, answer } = await rotateNow(w, "exec-2");

    // Assess
    expect(answer.status).toBe("Failed");
    expect(answer.summary).toContain("its selected repository acme/app-01 is a different repository now");
    expect(answer.summary).toContain("its selected repository acme/app-02 is a different repository now");
    expect(outcome.alerts).toEqual([
      expect.stringContaining("acme/app-01 is a different repository on GitHub"),
      expect.stringContaining("acme/app-02 is a different repository on GitHub"),
    ]);
    expect(w.iam.calls.slice(calls)).not.toContain("create");
  });

  it("waits for GitHub's primary rate limit to reset when it runs out during the lookups, changing nothing", async () => {
    // Prepare
    const { w } = pinnedWorld(2);
    const resetAt = new Date(w.clock.now().getTime() + 30 * 60_000);
    w.github.lookupFault = new GitHubRateLimitError("GitHub's primary rate limit for the token is used up.", {
      status: 403,
      fix: "Wait for the reset.",
      resetAt,
    });

    // Act
    const { outcome, answer } = await rotateNow(w, "exec-1");

    // Assess
    expect(answer.status).toBe("InProgress");
    expect(outcome.resumeAt).toEqual(resetAt);
    expect(w.iam.calls).not.toContain("create");
    expect(w.github.writes).toHaveLength(0);
  });
});
