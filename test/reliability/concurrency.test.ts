/**
 * Two rotations at once: a scheduled execution overlapping a manual one must never produce a third key or
 * leave repositories with secrets of two different runs. One proceeds; the other stops with "another rotation
 * is in progress" having changed nothing (the S3 lease of src/aws/s3-run-lock.ts). A lease left by a crashed
 * run blocks until it expires (10 minutes, on the stack's fake clock), then the next run takes over.
 *
 * Every execution goes through the call proxy, which checks after every call that the user has at most two
 * keys and that every repository's key ID names an Active key (R1).
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { RunbookRun } from "../../scripts/local-stack/stack-fixture.ts";
import type { HandlerResult } from "../../src/handler-contract.ts";
import { LOCK_TTL_MS } from "../../src/lifecycle/rotation-context.ts";
import type { ProxiedCall } from "../support/aws-proxy.ts";
import { runOutOfStepTimeAfter } from "../support/step-time.ts";
import { ProxiedStack, pool, type Reference, recordReference } from "./faults-matrix.ts";
import { type FigureRow, printTable, writeFigures } from "./figures.ts";

const endpoint = inject("motoEndpoint");
const FULL = process.env.AKM_FAULT_MATRIX === "full";
/** Executions started at the same instant: pairs tried (each on a fresh stack). */
const SIMULTANEOUS_PAIRS = FULL ? 6 : 2;
const IN_PROGRESS = /another rotation is in progress/i;
const LOCK_WRITE = "s3:PutObject repos.json.lock";

let reference: Reference;
const figures = new Map<string, { passed: number; tried: number }>();

function tally(label: string, passed: boolean): void {
  const entry = figures.get(label) ?? { passed: 0, tried: 0 };
  figures.set(label, { passed: entry.passed + (passed ? 1 : 0), tried: entry.tried + 1 });
}

beforeAll(async () => {
  reference = await recordReference(endpoint, "adopted");
});

afterAll(() => {
  if (!FULL || figures.size === 0) return;
  const rows: FigureRow[] = [...figures].map(([label, { passed, tried }]) => ({
    label,
    value: `${passed} / ${tried}`,
  }));
  printTable("Two rotations at once", rows);
  writeFigures("concurrency", rows, "Two rotations at once");
});

/** What one overlap produced, in terms a user cares about. */
interface Overlap {
  readonly runs: readonly RunbookRun[];
  readonly stack: ProxiedStack;
}

/** Problems with an overlap: not exactly one winner, a loser that changed something, or a bad end state. */
async function judge({ runs, stack }: Overlap, expectedWinners = 1): Promise<string[]> {
  const problems: string[] = [];
  const winners = runs.filter((run) => run.execution.status === "Success");
  const losers = runs.filter((run) => run.execution.status !== "Success");
  if (winners.length !== expectedWinners) {
    problems.push(
      `${winners.length} executions succeeded: ${runs.map((run) => `${run.execution.status} ${run.execution.failureMessage ?? ""}`).join(" | ")}`,
    );
  }
  for (const loser of losers) {
    if (!IN_PROGRESS.test(loser.execution.failureMessage ?? "")) {
      problems.push(`the other execution failed for another reason: ${loser.execution.failureMessage}`);
    }
  }
  const labels = stack.proxy.calls.map((call) => call.label);
  const created = labels.filter((label) => label === "iam:CreateAccessKey").length;
  if (created !== 1) problems.push(`${created} CreateAccessKey calls`);
  for (const repo of stack.stack.repos) {
    const puts = stack.stack.secretPuts(repo);
    if (puts !== 2) problems.push(`${repo}: ${puts} secret PUTs (interleaved or repeated writes)`);
  }
  const newKey = String(winners[0]?.execution.outputs["CheckRotateResult.NewAccessKeyId"] ?? "");
  const end = await stack.endState(newKey || undefined);
  if (JSON.stringify(end) !== JSON.stringify(reference.end)) {
    problems.push(`end state ${JSON.stringify(end)}, fault-free: ${JSON.stringify(reference.end)}`);
  }
  problems.push(...stack.breaches, ...(await stack.hygiene()));
  if (stack.maxKeys > 2) problems.push(`${stack.maxKeys} keys at once`);
  return problems;
}

/** Two executions whose lock writes are held until both arrived, then sent to S3 at the same instant. */
async function simultaneousPair(): Promise<string[]> {
  const waiting: (() => void)[] = [];
  const releaseAll = () => {
    for (const release of waiting.splice(0)) release();
  };
  const barrier = (call: ProxiedCall): Promise<void> | undefined => {
    if (call.label !== LOCK_WRITE || call.occurrence > 2 || call.attempts > 1) return undefined;
    return new Promise<void>((resolve) => {
      waiting.push(resolve);
      if (call.occurrence === 2) releaseAll();
    });
  };
  const stack = await ProxiedStack.open(endpoint, "adopted", { beforeCall: barrier });
  try {
    const start = () => stack.stack.runRunbook("Rotate", {}, { sleep: "skip" }).finally(releaseAll); // never wait for a dead peer
    const runs = await Promise.all([start(), start()]);
    const raced = stack.proxy.calls.filter((call) => call.label === LOCK_WRITE).length >= 2;
    return [
      ...(raced ? [] : ["the two executions did not both write the lock"]),
      ...(await judge({ runs, stack })),
    ];
  } finally {
    await stack.close();
  }
}

describe("two Rotate executions at once", () => {
  it("lets exactly one of two executions started at the same instant rotate; the other changes nothing", async () => {
    // Prepare
    const pairs = Array.from({ length: SIMULTANEOUS_PAIRS }, (_, i) => i);

    // Act
    const outcomes = await pool(pairs, 4, () => simultaneousPair());

    // Assess
    for (const problems of outcomes) {
      tally(
        "Started at the same instant: one rotated, the other stopped having changed nothing",
        problems.length === 0,
      );
    }
    expect(outcomes.flat()).toEqual([]);
  });

  it("stops a manual execution started while a scheduled one writes secrets, without a third key", async () => {
    // Prepare
    const stack = await ProxiedStack.open(endpoint, "adopted");
    try {
      let second: Promise<RunbookRun> | undefined;
      stack.stack.onSecretWritten(async () => {
        if (second) return; // only the first write; a write of the second execution must not wait for itself
        // The first execution is waiting for GitHub's answer to its first write: run the second one now.
        second = stack.stack.runRunbook("Rotate", {}, { sleep: "skip" });
        await second;
      });

      // Act
      const first = await stack.stack.runRunbook("Rotate", {}, { sleep: "skip" });
      stack.stack.onSecretWritten(undefined);

      // Assess
      expect(second).toBeDefined();
      const problems = await judge({ runs: [first, await (second as Promise<RunbookRun>)], stack });
      tally("Started while another wrote secrets: stopped, changed nothing", problems.length === 0);
      expect(problems).toEqual([]);
      expect(first.execution.status).toBe("Success");
    } finally {
      await stack.close();
    }
  });

  it("stops an execution started between two steps of a rotation that is InProgress", async () => {
    // Prepare: the step's time runs out once the first repository is written (the stack's clock, which the
    // running function reads, moves past the invocation's deadline then), so five repositories need a second
    // Rotate invocation, whatever the machine's speed.
    const repos = ["acme/app-1", "acme/app-2", "acme/app-3", "acme/app-4", "acme/app-5"];
    const stack = await ProxiedStack.open(endpoint, "adopted", { repos });
    runOutOfStepTimeAfter(stack.stack, (keyIdWrite) => keyIdWrite === 1);
    try {
      let second: RunbookRun | undefined;
      let statusBefore: unknown;

      // Act
      const first = await stack.stack.runRunbook(
        "Rotate",
        {},
        {
          sleep: "skip",
          beforeInvoke: async ({ stepName, previous }) => {
            // Between two Rotate steps of the loop (the first Rotate follows the Start step).
            if (second || stepName !== "Rotate" || previous?.stepName !== "Rotate") return;
            statusBefore = (previous?.result as HandlerResult | undefined)?.status;
            second = await stack.stack.runRunbook("Rotate", {}, { sleep: "skip" });
          },
        },
      );

      // Assess
      expect(second, "the first execution needed a second Rotate invocation").toBeDefined();
      expect(statusBefore).toBe("InProgress");
      expect(
        first.execution.steps.filter((step) => step.stepName === "CheckRotate").map((s) => s.outputs.Next),
      ).toEqual(["again", "done"]);
      expect(second?.execution.failureMessage).toMatch(IN_PROGRESS);
      expect(first.execution.status).toBe("Success");
      const newKey = String(first.execution.outputs["CheckRotateResult.NewAccessKeyId"] ?? "");
      const end = await stack.endState(newKey);
      const problems = [...stack.breaches, ...(await stack.hygiene())];
      const ok =
        problems.length === 0 &&
        JSON.stringify(end.keys) === JSON.stringify(["old:Active", "new:Active"]) &&
        Object.values(end.repos).every((held) => held === "new") &&
        repos.every((repo) => stack.stack.secretPuts(repo) === 2);
      tally("Started between two steps of an InProgress rotation: stopped, changed nothing", ok);
      expect(problems).toEqual([]);
      expect(end.keys).toEqual(["old:Active", "new:Active"]);
      expect(Object.values(end.repos)).toEqual(repos.map(() => "new"));
      for (const repo of repos) expect(stack.stack.secretPuts(repo), repo).toBe(2);
    } finally {
      await stack.close();
    }
  });

  it("lets a run during another's grace-period wait create no key, and the old key is retired once", async () => {
    // Prepare
    const stack = await ProxiedStack.open(endpoint, "adopted");
    try {
      let second: RunbookRun | undefined;

      // Act: the first execution waits for the grace period; a manual run starts meanwhile.
      const first = await stack.stack.runRunbook(
        "Rotate",
        {},
        {
          onSleep: async () => {
            second ??= await stack.stack.runRunbook("Rotate");
          },
        },
      );

      // Assess
      const newKey = String(first.execution.outputs["CheckRotateResult.NewAccessKeyId"] ?? "");
      const end = await stack.endState(newKey);
      const problems = [...stack.breaches, ...(await stack.hygiene())];
      const labels = stack.proxy.calls.map((call) => call.label);
      const ok =
        problems.length === 0 &&
        first.execution.status === "Success" &&
        second?.execution.status === "Success" &&
        second.execution.outputs["CheckRotateResult.NewAccessKeyId"] === newKey &&
        labels.filter((label) => label === "iam:CreateAccessKey").length === 1 &&
        JSON.stringify(end.keys) === JSON.stringify(["old:Inactive", "new:Active"]);
      tally("Started during another's grace-period wait: no new key, old key retired", ok);
      expect(problems).toEqual([]);
      expect(second?.execution.status).toBe("Success");
      expect(second?.execution.outputs["CheckRotateResult.NewAccessKeyId"]).toBe(newKey);
      expect(labels.filter((label) => label === "iam:CreateAccessKey")).toHaveLength(1);
      expect(end.keys).toEqual(["old:Inactive", "new:Active"]);
      expect(Object.values(end.repos)).toEqual(stack.stack.repos.map(() => "new"));
    } finally {
      await stack.close();
    }
  });
});

describe("the lease of a crashed rotation", () => {
  it("blocks every run until it expires, then the next run resumes with the dead run's key", async () => {
    // Prepare: the process dies right after GitHub stored the first repository's secret access key.
    const stack = await ProxiedStack.open(endpoint, "adopted");
    try {
      const crashed = await stack.rotate({
        at: { label: "github:PUT secret acme/app-one AWS_SECRET_ACCESS_KEY", occurrence: 1 },
        effect: "kill",
      });
      const snapshot = async () => ({
        keys: await stack.stack.keys(),
        puts: stack.stack.repos.map((repo) => stack.stack.secretPuts(repo)),
      });
      const afterCrash = await snapshot();
      const createdByDeadRun = afterCrash.keys.find((key) => key.accessKeyId !== stack.oldKey)?.accessKeyId;

      // Act
      const atOnce = await stack.rotate();
      stack.stack.advanceClock(LOCK_TTL_MS - 60_000);
      const justBefore = await stack.rotate();
      const whileBlocked = await snapshot();
      stack.stack.advanceClock(2 * 60_000);
      const after = await stack.rotate();

      // Assess
      const blocked = [atOnce, justBefore].every(
        ({ run }) =>
          run.execution.status === "Failed" && IN_PROGRESS.test(run.execution.failureMessage ?? ""),
      );
      const unchanged = JSON.stringify(whileBlocked) === JSON.stringify(afterCrash);
      const end = await stack.endState(createdByDeadRun);
      const resumed =
        after.run.execution.status === "Success" &&
        after.run.execution.outputs["CheckRotateResult.NewAccessKeyId"] === createdByDeadRun &&
        JSON.stringify(end) === JSON.stringify(reference.end);
      tally(
        "A crashed run's lease: blocks (changing nothing) until it expires, then the next run resumes",
        blocked && unchanged && resumed,
      );
      expect(crashed.run.invocations.find((invocation) => invocation.stepName === "Rotate")?.outcome).toBe(
        "killed",
      );
      expect(atOnce.run.execution.failureMessage).toMatch(IN_PROGRESS);
      expect(justBefore.run.execution.failureMessage).toMatch(IN_PROGRESS);
      expect(unchanged).toBe(true);
      expect(after.run.execution.failureMessage).toBeUndefined();
      expect(after.run.execution.outputs["CheckRotateResult.NewAccessKeyId"]).toBe(createdByDeadRun);
      expect(end).toEqual(reference.end);
      expect([...stack.breaches, ...(await stack.hygiene())]).toEqual([]);
    } finally {
      await stack.close();
    }
  });
});
