import { describe, expect, it } from "vitest";
import { GITHUB_WRITE_LIMITS, type WriteLimits, WritePacer } from "../../src/github/write-pacer.ts";
import { FakeClock } from "../support/fakes.ts";

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** Only the sliding windows, no per-second pace: to reach a window's limit in few steps. */
function windowsOnly(...windows: [limit: number, periodMs: number][]): WriteLimits {
  return {
    intervalMs: 0,
    burst: 1,
    windows: windows.map(([limit, periodMs]) => ({ limit, periodMs, label: `per ${periodMs} ms` })),
    marginMs: 0,
  };
}

/** Takes `count` writes one after the other and returns the fake time (ms since start) each one went at. */
async function takeWrites(pacer: WritePacer, clock: FakeClock, count: number): Promise<number[]> {
  const start = clock.now().getTime();
  const at: number[] = [];
  for (let i = 0; i < count; i++) {
    await pacer.take();
    at.push(clock.now().getTime() - start);
  }
  return at;
}

describe("WritePacer with GitHub's limits", () => {
  it("lets one repository's two writes go back to back, then keeps one write a second on average", async () => {
    // Prepare
    const clock = new FakeClock();
    const pacer = new WritePacer({ clock });

    // Act
    const times = await takeWrites(pacer, clock, 6);

    // Assess
    expect(times).toEqual([0, 0, SECOND, 2 * SECOND, 3 * SECOND, 4 * SECOND]);
  });

  it("says a repository's pair of writes is ready once two writes fit, every two seconds", async () => {
    // Prepare
    const clock = new FakeClock();
    const pacer = new WritePacer({ clock });
    const start = clock.now().getTime();

    // Act
    const first = pacer.readyAt(2).getTime() - start;
    await pacer.take();
    await pacer.take();
    const second = pacer.readyAt(2).getTime() - start;

    // Assess
    expect(first).toBe(0);
    expect(second).toBe(2 * SECOND);
  });

  it("never lets more than 80 writes into any minute", async () => {
    // Prepare
    const clock = new FakeClock();
    const pacer = new WritePacer({ clock, limits: windowsOnly([80, MINUTE]) });

    // Act
    const times = await takeWrites(pacer, clock, 170);

    // Assess
    expect(times.slice(0, 80).every((t) => t === 0)).toBe(true);
    expect(times[80]).toBe(MINUTE);
    expect(times[160]).toBe(2 * MINUTE);
    expect(maxInWindow(times, MINUTE)).toBe(80);
  });

  it("never lets more than 500 writes into any hour at GitHub's pace", async () => {
    // Prepare
    const clock = new FakeClock();
    const pacer = new WritePacer({ clock });

    // Act
    const times = await takeWrites(pacer, clock, 1_000);

    // Assess: 500 writes in the first 499 s, the next ones as the first leave the window (plus the margin
    // for GitHub counting a write when it arrives).
    const margin = GITHUB_WRITE_LIMITS.marginMs;
    expect(times[499]).toBe(498 * SECOND);
    expect(times[500]).toBe(HOUR + margin);
    expect(times[999]).toBe(HOUR + margin + 498 * SECOND);
    expect(maxInWindow(times, HOUR + margin)).toBe(500);
    expect(maxInWindow(times, MINUTE)).toBeLessThanOrEqual(80);
  });

  it("estimates when the last of N repositories can be written, from the same schedule", () => {
    // Prepare
    const clock = new FakeClock();
    const pacer = new WritePacer({ clock });
    const start = clock.now().getTime();

    // Act
    const ten = pacer.finishAt(10, 2).getTime() - start;
    const fiveHundred = pacer.finishAt(500, 2).getTime() - start;

    // Assess: a pair every 2 s; beyond 250 repositories the hourly limit adds the wait for the window.
    expect(ten).toBe(18 * SECOND);
    expect(fiveHundred).toBe(HOUR + GITHUB_WRITE_LIMITS.marginMs + 498 * SECOND);
    expect(pacer.recent()).toEqual([]);
  });

  it("names the limit that holds writes back", async () => {
    // Prepare
    const clock = new FakeClock();
    const pacer = new WritePacer({ clock, limits: windowsOnly([80, MINUTE], [4, HOUR]) });

    // Act
    await takeWrites(pacer, clock, 4);

    // Assess
    expect(pacer.limitingWindow(1)).toMatchObject({ limit: 4, periodMs: HOUR });
    expect(pacer.readyAt(1).getTime() - clock.now().getTime()).toBe(HOUR);
  });
});

describe("WritePacer across Lambda invocations", () => {
  it("counts the writes of earlier runs against the hourly limit", async () => {
    // Prepare: one invocation writes 6 of 8 allowed writes an hour, then the next one starts 10 minutes later.
    const limits = windowsOnly([8, HOUR]);
    const clock = new FakeClock();
    const first = new WritePacer({ clock, limits });
    await takeWrites(first, clock, 6);
    const saved = first.recent();
    clock.advance(10 * MINUTE);
    const second = new WritePacer({ clock, limits });

    // Act
    second.remember(saved);
    const times = await takeWrites(second, clock, 2);
    const inWindow = second.recent().length;
    times.push(...(await takeWrites(second, clock, 1)).map((t) => t + (times.at(-1) as number)));

    // Assess
    expect(times).toEqual([0, 0, HOUR - 10 * MINUTE]);
    expect(inWindow).toBe(8);
  });

  it("keeps the pace across invocations: a run that starts right after a pair waits for the bucket", async () => {
    // Prepare
    const clock = new FakeClock();
    const first = new WritePacer({ clock });
    await takeWrites(first, clock, 2);
    const second = new WritePacer({ clock });

    // Act
    second.remember(first.recent());

    // Assess
    expect(second.readyAt(2).getTime() - clock.now().getTime()).toBe(2 * SECOND);
  });

  it("forgets writes older than an hour (and the margin for GitHub's counting)", async () => {
    // Prepare
    const clock = new FakeClock();
    const pacer = new WritePacer({ clock });
    const old = HOUR + GITHUB_WRITE_LIMITS.marginMs + SECOND;
    pacer.remember([new Date(clock.now().getTime() - old), new Date(clock.now().getTime() - MINUTE)]);

    // Act
    const recent = pacer.recent();

    // Assess
    expect(recent.map((at) => clock.now().getTime() - at.getTime())).toEqual([MINUTE]);
  });
});

describe("WritePacer after a secondary rate limit", () => {
  it("waits for retry-after, then slows down and recovers its pace write by write", async () => {
    // Prepare
    const clock = new FakeClock();
    const pacer = new WritePacer({ clock });
    await takeWrites(pacer, clock, 2);

    // Act
    pacer.backOff(30 * SECOND);
    const times = await takeWrites(pacer, clock, 30);

    // Assess: nothing before retry-after; then two seconds a write, back to about one second later on.
    expect(times[0]).toBeGreaterThanOrEqual(30 * SECOND + 2 * SECOND);
    const gaps = times.slice(1).map((t, i) => t - (times[i] as number));
    expect(gaps[0]).toBeGreaterThan(1.5 * SECOND);
    expect(gaps.at(-1)).toBe(SECOND);
    expect(gaps.every((gap, i) => i === 0 || gap <= (gaps[i - 1] as number))).toBe(true);
  });

  it("never slows down beyond an eighth of the pace", async () => {
    // Prepare
    const clock = new FakeClock();
    const pacer = new WritePacer({ clock });

    // Act
    for (let i = 0; i < 10; i++) pacer.backOff(0);
    const times = await takeWrites(pacer, clock, 2);

    // Assess
    expect(times[1] as number).toBeLessThanOrEqual((times[0] as number) + 8 * SECOND);
  });
});

describe("WritePacer refusing to wait", () => {
  it("fails a write at once, naming the limit and when it frees up, when its turn is too far away", async () => {
    // Prepare
    const clock = new FakeClock();
    const pacer = new WritePacer({ clock, limits: windowsOnly([2, HOUR]), maxWaitMs: MINUTE });
    await takeWrites(pacer, clock, 2);

    // Act
    const refused = pacer.take();

    // Assess
    await expect(refused).rejects.toMatchObject({
      fault: "transient",
      message: expect.stringMatching(/write budget \(2 writes per 3600000 ms\) is used up until 2026-/),
    });
    expect(clock.sleeps).toEqual([]);
  });

  it("lets later writes go once the budget frees up after a refusal", async () => {
    // Prepare
    const clock = new FakeClock();
    const pacer = new WritePacer({ clock, limits: windowsOnly([1, MINUTE]), maxWaitMs: SECOND });
    await pacer.take();
    await expect(pacer.take()).rejects.toThrow(/used up/);

    // Act
    clock.advance(MINUTE);
    const later = pacer.take();

    // Assess
    await expect(later).resolves.toBeUndefined();
    expect(pacer.recent()).toHaveLength(1);
  });

  it("rejects limits that could never admit a write", () => {
    expect(
      () => new WritePacer({ clock: new FakeClock(), limits: { ...GITHUB_WRITE_LIMITS, burst: 0 } }),
    ).toThrow(/burst must be an integer ≥ 1/);
  });
});

/** The most writes within any window of `periodMs` (a window is (t − period, t]). */
function maxInWindow(times: readonly number[], periodMs: number): number {
  let most = 0;
  let first = 0;
  for (let last = 0; last < times.length; last++) {
    while ((times[first] as number) <= (times[last] as number) - periodMs) first++;
    most = Math.max(most, last - first + 1);
  }
  return most;
}
