/**
 * GitHub's primary rate limit (5,000 requests an hour for a personal access token) as the rotation meets it: a
 * 403/429 with `x-ratelimit-remaining: 0` means "no request before `x-ratelimit-reset`"
 * (https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-rate-limit), so
 * the run stops, keeps what it did, and answers InProgress with that reset as `resumeAt`: the runbook sleeps until
 * then and invokes the function again. Time is the fake clock's; nothing waits.
 */
import { describe, expect, it } from "vitest";
import { repoLabel } from "../../src/domain/repo.ts";
import type { SecretValue } from "../../src/domain/secret-value.ts";
import { type Target, targetLabel } from "../../src/domain/target.ts";
import { GitHubRateLimitError } from "../../src/errors.ts";
import { isoSeconds } from "../../src/lifecycle/outcome.ts";
import { rotate } from "../../src/lifecycle/rotate.ts";
import type { RepoPublicKey, SecretsTarget, TargetIdentity, TokenOwner } from "../../src/ports.ts";
import { answerOf, type FakeClock, type FakeGitHub, type FakeWorld, fakeWorld } from "../support/fakes.ts";

const HOUR_MS = 3_600_000;

/**
 * The fake GitHub behind GitHub's primary rate limit: at most `perHour` requests in a window that starts with the
 * first request and lasts an hour; beyond that every request is refused until the window's end, as GitHub answers.
 */
class PrimaryLimitedGitHub implements SecretsTarget {
  /** Fake-clock times (ms) of the requests GitHub accepted, and of those it refused with the reset it named. */
  readonly accepted: number[] = [];
  readonly refused: { at: number; resetAt: number }[] = [];
  /** Accepted `GET repository` requests made while `countChecks` said so, by repository. */
  readonly checks = new Map<string, number>();
  countChecks: () => boolean = () => true;
  #windowStart: number | undefined;
  #used = 0;

  constructor(
    private readonly inner: FakeGitHub,
    private readonly clock: FakeClock,
    private readonly perHour: number,
  ) {}

  /** When the current window ends (GitHub's `x-ratelimit-reset`). */
  get resetAt(): Date {
    return new Date((this.#windowStart ?? this.clock.now().getTime()) + HOUR_MS);
  }

  /** The first request whose description starts with this uses the window up (other tools share the token). */
  exhaustAt: string | undefined;

  #admit(what: string, target?: Target): void {
    const now = this.clock.now().getTime();
    if (this.#windowStart === undefined || now >= this.#windowStart + HOUR_MS) {
      this.#windowStart = now;
      this.#used = 0;
    }
    if (this.exhaustAt !== undefined && what.startsWith(this.exhaustAt)) {
      this.exhaustAt = undefined;
      this.#used = this.perHour;
    }
    if (this.#used >= this.perHour) {
      this.refused.push({ at: now, resetAt: this.resetAt.getTime() });
      throw new GitHubRateLimitError(`GitHub's primary rate limit is used up (403, at ${what}).`, {
        status: 403,
        ...(target ? { repo: targetLabel(target) } : {}),
        resetAt: this.resetAt,
        fix: "Wait for the reset.",
      });
    }
    this.#used++;
    this.accepted.push(now);
  }

  async whoAmI(): Promise<TokenOwner> {
    this.#admit("GET /user");
    return this.inner.whoAmI();
  }

  async checkWritable(target: Target): Promise<TargetIdentity> {
    this.#admit("GET repository", target);
    const label = targetLabel(target);
    if (this.countChecks()) this.checks.set(label, (this.checks.get(label) ?? 0) + 1);
    return this.inner.checkWritable(target);
  }

  async publicKey(target: Target): Promise<RepoPublicKey> {
    this.#admit("GET public key", target);
    return this.inner.publicKey(target);
  }

  async writeSecret(
    target: Target,
    publicKey: RepoPublicKey,
    name: string,
    value: SecretValue,
  ): Promise<void> {
    this.#admit(`PUT secret ${name}`, target);
    return this.inner.writeSecret(target, publicKey, name, value);
  }

  async writeVariable(target: Target, name: string, value: string): Promise<void> {
    this.#admit(`PATCH variable ${name}`, target);
    return this.inner.writeVariable(target, name, value);
  }

  async secretUpdatedAt(target: Target, name: string): Promise<Date | undefined> {
    this.#admit(`GET secret ${name}`, target);
    return this.inner.secretUpdatedAt(target, name);
  }

  async variableValue(target: Target, name: string): Promise<string | undefined> {
    this.#admit(`GET variable ${name}`, target);
    return this.inner.variableValue(target, name);
  }
}

function limitedWorld(
  repoCount: number,
  perHour: number,
): { world: FakeWorld; github: PrimaryLimitedGitHub } {
  const base = fakeWorld(repoCount, 0);
  const github = new PrimaryLimitedGitHub(base.github, base.clock, perHour);
  return { world: { ...base, deps: { ...base.deps, github } }, github };
}

const FAR_FUTURE = new Date("2100-01-01T00:00:00Z");

async function rotateOnce(world: FakeWorld) {
  return answerOf(
    world.clock,
    await rotate(world.deps, {
      owner: "exec-1",
      dryRun: false,
      replaceOlderKey: false,
      deadline: FAR_FUTURE,
    }),
  );
}

/** The runbook's loop: invoke, sleep until `resumeAt` (the fake clock jumps), invoke again, until not `again`. */
async function rotateUntilDone(world: FakeWorld) {
  const answers = [];
  for (let i = 0; i < 20; i++) {
    const answer = await rotateOnce(world);
    answers.push(answer);
    if (answer.next !== "again") break;
    world.clock.advance(Math.max(0, Date.parse(answer.resumeAt) - world.clock.now().getTime()));
  }
  return answers;
}

describe("GitHub's primary rate limit during a long preflight", () => {
  it("stops checking, keeps what passed, and answers InProgress until the limit resets, before any key exists", async () => {
    // Prepare: 10 repositories need 21 reads (GET /user, then two per repository); GitHub allows 9 an hour.
    const { world, github } = limitedWorld(10, 9);
    const old = world.iam.addKey("Active");

    // Act
    const answer = await rotateOnce(world);

    // Assess
    expect(answer.status).toBe("InProgress");
    expect(answer.next).toBe("again");
    expect(answer.resumeAt).toBe(isoSeconds(github.resetAt));
    expect(Date.parse(answer.resumeAt)).toBeGreaterThan(world.clock.now().getTime());
    expect(answer.summary).toContain("GitHub's primary rate limit for the token is used up until");
    expect(answer.progress).toMatch(
      /^\d+ repositories not checked yet; GitHub's primary rate limit is used up, resumes at /,
    );
    expect(answer.repoCounts.failed).toBe(0);
    expect(world.iam.keys.map((k) => k.accessKeyId)).toEqual([old.accessKeyId]);
    expect(world.github.writes).toEqual([]);
    const saved = await world.state.load();
    expect(saved?.checked?.repos).toHaveLength(4);
    // The lease is kept over the runbook's wait, so a scheduled run cannot take the rotation over meanwhile.
    expect(Date.parse(world.lock.lease?.expiresAt ?? "")).toBeGreaterThan(Date.parse(answer.resumeAt));
  });

  it("resumes after each reset, checks each repository once before the key exists, and sends nothing before a reset", async () => {
    // Prepare
    const { world, github } = limitedWorld(10, 9);
    world.iam.addKey("Active");
    // The preflight's checks: the ones before the new key exists (a resumed write phase checks again as it writes).
    github.countChecks = () => world.iam.keys.length === 1;

    // Act
    const answers = await rotateUntilDone(world);

    // Assess
    expect(answers.at(-1)?.status).toBe("Succeeded");
    expect(answers.slice(0, -1).every((a) => a.status === "InProgress" && a.next === "again")).toBe(true);
    const newKey = answers.at(-1)?.newAccessKeyId ?? "";
    for (const repo of world.repos) {
      expect(world.github.value(repoLabel(repo), "AWS_ACCESS_KEY_ID")).toBe(newKey);
    }
    expect([...github.checks.values()]).toEqual(world.repos.map(() => 1));
    // GitHub refused only requests already in flight when the limit ran out (at most one per preflight worker)...
    expect(github.refused.length).toBeGreaterThan(0);
    expect(github.refused.length).toBeLessThanOrEqual(4 * (answers.length - 1));
    // ... and no request was sent after a refusal until the reset GitHub named.
    for (const { at, resetAt } of github.refused) {
      expect(github.accepted.filter((t) => t > at && t < resetAt)).toEqual([]);
    }
  });

  it("waits for the reset when GET /user itself is refused, having saved nothing", async () => {
    // Prepare
    const { world, github } = limitedWorld(3, 100);
    github.exhaustAt = "GET /user";

    // Act
    const answer = await rotateOnce(world);

    // Assess
    expect(answer.status).toBe("InProgress");
    expect(answer.next).toBe("again");
    expect(answer.resumeAt).toBe(isoSeconds(github.resetAt));
    expect(answer.summary).toContain("nothing checked yet");
    expect(await world.state.load()).toBeUndefined();
    expect(world.iam.keys).toEqual([]);
  });
});

describe("GitHub's primary rate limit while the key is being written", () => {
  it("stops before the next repository and resumes after the reset without counting any repository as failed", async () => {
    // Prepare: the limit runs out at the first write (the secret key of the first repository); nothing is written.
    const { world, github } = limitedWorld(4, 100);
    world.iam.addKey("Active");
    github.exhaustAt = "PUT secret AWS_SECRET_ACCESS_KEY";

    // Act
    const answers = await rotateUntilDone(world);

    // Assess
    expect(answers[0]).toMatchObject({ status: "InProgress", next: "again" });
    expect(answers[0]?.repoCounts).toMatchObject({ failed: 0, mismatched: 0, remaining: 4 });
    expect(answers[0]?.progress).toContain("GitHub's primary rate limit is used up, resumes at");
    expect(world.logs.filter((line) => line.startsWith("failed to write"))).toEqual([]);
    expect(answers.at(-1)?.status).toBe("Succeeded");
    const newKey = answers.at(-1)?.newAccessKeyId ?? "";
    for (const repo of world.repos)
      expect(world.github.value(repoLabel(repo), "AWS_ACCESS_KEY_ID")).toBe(newKey);
  });

  it("a refusal between a repository's two writes leaves it mismatched only until the reset, then writes it whole", async () => {
    // Prepare
    const { world, github } = limitedWorld(3, 100);
    world.iam.addKey("Active");
    github.exhaustAt = "PUT secret AWS_ACCESS_KEY_ID";

    // Act
    const answers = await rotateUntilDone(world);

    // Assess: not Failed; the repository is named mismatched while the run waits, and holds the new pair after.
    expect(answers[0]).toMatchObject({ status: "InProgress", next: "again" });
    expect(answers[0]?.repoCounts).toMatchObject({ failed: 0, mismatched: 1 });
    expect(answers[0]?.progress).toContain("1 mismatched");
    expect(answers[0]?.resumeAt).toBe(isoSeconds(new Date(github.refused[0]?.resetAt ?? 0)));
    const last = answers.at(-1);
    expect(last?.status).toBe("Succeeded");
    expect(last?.repoCounts.mismatched).toBe(0);
    const newKey = last?.newAccessKeyId ?? "";
    const secret = world.iam.keys.find((k) => k.accessKeyId === newKey)?.secret;
    for (const repo of world.repos) {
      expect(world.github.value(repoLabel(repo), "AWS_ACCESS_KEY_ID")).toBe(newKey);
      expect(world.github.value(repoLabel(repo), "AWS_SECRET_ACCESS_KEY")).toBe(secret);
    }
  });
});
