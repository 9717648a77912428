/**
 * The progress object keeps holdings and IDs by targetKey: a repository's Actions secrets under v1's `owner/name`,
 * so progress written before other targets existed stays valid, and every other kind beside them.
 */
import { describe, expect, it } from "vitest";
import { repositoryTarget, type Target, targetKey } from "../../src/domain/target.ts";
import { parseProgressDocument, serializeProgressDocument } from "../../src/lifecycle/progress-document.ts";
import { rotate } from "../../src/lifecycle/rotate.ts";
import { rotationResult } from "../../src/lifecycle/rotation-result.ts";
import { emptyProgress } from "../../src/lifecycle/state-parts.ts";
import { answerOf, fakeWorld } from "../support/fakes.ts";

const SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:GHS-AKM-ci-RotationState-AbCdEf";
const LOCATION = "s3://bucket/repos.json.progress.json";
const FAR_FUTURE = new Date("2100-01-01T00:00:00Z");

const ENVIRONMENT: Target = {
  kind: "environment",
  owner: "octo-org",
  name: "api",
  environment: "prod/eu",
};
const DEPENDABOT: Target = { kind: "repository", owner: "octo-org", name: "api", store: "dependabot" };
const ORGANIZATION: Target = {
  kind: "organization",
  owner: "octo-org",
  store: "codespaces",
  visibility: "selected",
  selectedRepositories: ["api"],
};
const REPOSITORY = repositoryTarget({ owner: "octo-org", name: "api" });

describe("a progress object written before targets other than repositories existed", () => {
  it("is read with each repository as its Actions target, which a later run finds holding the key", async () => {
    // Prepare: a rotation, then its progress replaced by one as the release before targets wrote it.
    const world = fakeWorld(2);
    const rotated = answerOf(
      world.clock,
      await rotate(world.deps, {
        owner: "exec-1",
        dryRun: false,
        replaceOlderKey: false,
        deadline: FAR_FUTURE,
      }),
    );
    const key = rotated.newAccessKeyId;
    const seconds = Math.floor(world.clock.now().getTime() / 1000);
    world.state.progress.text = JSON.stringify({
      schemaVersion: 2,
      secret: world.state.secret.id,
      updatedAt: world.clock.now().toISOString(),
      holdings: { [key]: { acme: { "service-1": seconds, "service-2": seconds } } },
      repoIds: {
        acme: {
          "service-1": [world.github.ids.get("acme/service-1"), seconds],
          "service-2": [world.github.ids.get("acme/service-2"), seconds],
        },
      },
      promotedAt: `${world.clock.now().toISOString().slice(0, 19)}Z`,
    });

    // Act
    const loaded = await world.state.load();
    const result = answerOf(
      world.clock,
      await rotationResult(world.deps, { owner: "exec-1", dryRun: false }),
    );

    // Assess
    for (const repo of world.repos) {
      expect(loaded?.holdings[targetKey(repositoryTarget(repo))]?.accessKeyId).toBe(key);
      expect(loaded?.repoIds?.[targetKey(repositoryTarget(repo))]?.id).toBe(
        world.github.ids.get(`${repo.owner}/${repo.name}`),
      );
    }
    expect(result.repos.map((r) => [r.repo, r.result])).toEqual([
      ["acme/service-1", "already-current"],
      ["acme/service-2", "already-current"],
    ]);
  });
});

describe("the progress object's record of every kind of target", () => {
  it("keeps holdings and IDs of environment, Dependabot and organization targets beside a repository's", () => {
    // Prepare
    const at = "2026-01-01T00:00:00.000Z";
    const targets = [REPOSITORY, ENVIRONMENT, DEPENDABOT, ORGANIZATION];
    const progress = {
      ...emptyProgress(at),
      holdings: Object.fromEntries(
        targets.map((t) => [targetKey(t), { accessKeyId: "TESTKEY0000000001", writtenAt: at }]),
      ),
      repoIds: Object.fromEntries(targets.map((t, i) => [targetKey(t), { id: 100 + i, seenAt: at }])),
    };

    // Act
    const text = serializeProgressDocument(progress, SECRET);
    const loaded = parseProgressDocument(text, LOCATION).progress;

    // Assess
    expect(loaded.holdings).toEqual(progress.holdings);
    expect(loaded.repoIds).toEqual(progress.repoIds);
    expect(JSON.parse(text).holdings).toEqual({
      TESTKEY0000000001: {
        "octo-org": { api: 1767225600, "api@environment:prod/eu": 1767225600, "api@dependabot": 1767225600 },
        "org:octo-org": { "@codespaces": 1767225600 },
      },
    });
  });

  it("refuses a progress object whose owner part holds a slash, naming where", () => {
    // Prepare
    const text = JSON.stringify({
      schemaVersion: 2,
      secret: SECRET,
      updatedAt: "2026-01-01T00:00:00.000Z",
      holdings: { TESTKEY0000000001: { "octo/org": { api: 1767225600 } } },
    });

    // Act
    const read = () => parseProgressDocument(text, LOCATION);

    // Assess
    expect(read).toThrow(/does not match the expected format \(holdings\.TESTKEY0000000001/);
  });
});
