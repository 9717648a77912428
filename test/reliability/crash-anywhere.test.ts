/**
 * Crash anywhere, converge always: each call of a rotation (3 repositories; the first rotation, which adopts the
 * user's key, a later one, which deletes the previous key first, a first rotation over every kind of target:
 * environment, organization with selected repositories, Dependabot, the key ID as a variable; a first rotation as
 * a GitHub App over repositories selected by topic and custom property, with the shadowing check, Codespaces and
 * installation tokens expiring mid-run; and a first rotation refused for a copy the list does not manage, run
 * again once the copy is gone) is, in turn, failed with HTTP 500 and — if
 * it changes something — the last thing the function did before its process was killed, and a call whose
 * connection dropped after it took effect. Rotate is then re-run until it succeeds. See faults-matrix.ts for
 * what is checked after every call and at the end, and `effectsAt` for why reads are only failed.
 *
 * `npm test` runs a sample of boundaries; `npm run test:faults` (AKM_FAULT_MATRIX=full) runs the whole matrix
 * and writes its figures to .tmp/reliability/crash-anywhere.json for the README.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { FaultEffect } from "../support/aws-proxy.ts";
import {
  type Boundary,
  boundaryName,
  effectsAt,
  pool,
  type Reference,
  recordReference,
  runScenario,
  type ScenarioResult,
  START_STATES,
  type StartState,
  summarize,
} from "./faults-matrix.ts";
import { printTable, writeFigures } from "./figures.ts";

const endpoint = inject("motoEndpoint");
const FULL = process.env.AKM_FAULT_MATRIX === "full";
/** Scenarios at a time: each is mostly waiting (GitHub write pacing, client back-off), not computing. */
const CONCURRENCY = Number(process.env.AKM_FAULT_CONCURRENCY ?? 16);

/** The sample `npm test` runs: the boundaries where a crash is most likely to hurt. */
const SAMPLE: readonly {
  start: StartState;
  label: string;
  occurrence?: number;
  effect: FaultEffect;
  why: string;
}[] = [
  {
    start: "adopted",
    label: "s3:PutObject repos.json.lock",
    effect: "kill",
    why: "lease taken, process died",
  },
  { start: "adopted", label: "iam:CreateAccessKey", effect: "kill", why: "key created, secret never saved" },
  { start: "adopted", label: "iam:CreateAccessKey", effect: "drop", why: "key created, answer lost" },
  {
    start: "adopted",
    label: "github:PUT secret acme/app-one AWS_SECRET_ACCESS_KEY",
    effect: "kill",
    why: "between a repository's two secret PUTs",
  },
  {
    start: "adopted",
    label: "github:PUT secret acme/app-two AWS_ACCESS_KEY_ID",
    effect: "error",
    why: "a repository's second secret refused",
  },
  {
    start: "adopted",
    label: "github:PUT secret acme/app-three AWS_ACCESS_KEY_ID",
    effect: "drop",
    why: "the last secret written, GitHub's answer lost",
  },
  {
    start: "adopted",
    label: "s3:GetObject repos.json.lock",
    effect: "kill",
    why: "promoted, died before releasing the lease",
  },
  {
    start: "managed",
    label: "iam:DeleteAccessKey",
    effect: "kill",
    why: "previous key deleted, process died",
  },
  {
    start: "adopted",
    label: "secretsmanager:PutSecretValue state",
    occurrence: 2,
    effect: "kill",
    why: "new key's secret saved, died before the progress write",
  },
  {
    start: "adopted",
    label: "secretsmanager:PutSecretValue state",
    occurrence: 3,
    effect: "drop",
    why: "promotion saved, answer lost before the progress write",
  },
  {
    start: "managed",
    label: "s3:PutObject repos.json.progress.json",
    effect: "kill",
    why: "a version 1 state migrating: progress created, secret not rewritten yet",
  },
  {
    start: "mixed",
    label: "github:PUT /orgs/acme/actions/secrets/AWS_SECRET_ACCESS_KEY",
    effect: "kill",
    why: "between an organization secret's two PUTs (selected repositories)",
  },
  {
    start: "mixed",
    label: "github:PUT /repos/acme/app-one/environments/production/secrets/AWS_ACCESS_KEY_ID",
    effect: "error",
    why: "an environment's key ID refused",
  },
  {
    start: "mixed",
    label: "github:POST /repos/acme/app-two/environments/staging/variables",
    effect: "drop",
    why: "a new key ID variable created, GitHub's answer lost",
  },
  {
    start: "app",
    label: "github:POST /app/installations/70000001/access_tokens",
    occurrence: 2,
    effect: "kill",
    why: "an installation token minted again after GitHub refused the expired one, process died",
  },
  {
    start: "app",
    label: "github:GET /orgs/acme/properties/values",
    effect: "error",
    why: "the custom property values a selection reads refused",
  },
  {
    start: "shadowed",
    label: "github:GET /repos/acme/app-two/contents/.github%2Fworkflows%2Fchecks.yml",
    effect: "error",
    why: "a reusable workflow unreadable while a copy shadows the key",
  },
];

/**
 * The sample's scenarios run at the same time; one whose GitHub call is failed waits out the client's retries
 * (about 14 s per run) before its reruns, which takes long on a loaded machine.
 */
const SAMPLE_TIMEOUT_MS = 300_000;

const references = new Map<StartState, Reference>();

beforeAll(async () => {
  const starts = FULL
    ? only(Object.keys(START_STATES) as StartState[], process.env.AKM_FAULT_STARTS)
    : [...new Set(SAMPLE.map((s) => s.start))];
  // At the same time: each is mostly waiting (GitHub write pacing), and each has a stack of its own.
  const recorded = await Promise.all(starts.map((start) => recordReference(endpoint, start)));
  for (const reference of recorded) references.set(reference.start, reference);
});

function referenceOf(start: StartState): Reference {
  const reference = references.get(start);
  if (!reference) throw new Error(`no fault-free rotation recorded for ${start}`);
  return reference;
}

function boundaryOf(reference: Reference, label: string, occurrence = 1): Boundary {
  const boundary = reference.boundaries.find((b) => b.label === label && b.occurrence === occurrence);
  if (!boundary) {
    throw new Error(
      `no call ${label} (${occurrence}) in the fault-free rotation: ${reference.boundaries.map(boundaryName).join(", ")}`,
    );
  }
  return boundary;
}

function only<T extends string>(all: readonly T[], filter: string | undefined): T[] {
  const wanted = filter?.split(",").map((item) => item.trim());
  return wanted ? all.filter((item) => wanted.includes(item)) : [...all];
}

function explain(result: ScenarioResult): string {
  return `${result.start}: ${result.effect} at ${boundaryName(result.boundary)} → ${result.faultedRun}, ${result.reruns} rerun(s): ${result.problems.join("; ")}`;
}

if (!FULL)
  describe("a rotation interrupted at a sample of its calls", () => {
    it.concurrent.each(SAMPLE)(
      "converges after a $effect at $label ($start start: $why)",
      async (sample) => {
        // Prepare
        const reference = referenceOf(sample.start);
        const boundary = boundaryOf(reference, sample.label, sample.occurrence);

        // Act
        const result = await runScenario(endpoint, reference, boundary, sample.effect);

        // Assess
        expect(result.problems, explain(result)).toEqual([]);
        expect(result.fired).toBe(true);
        expect(result.converged).toBe(true);
        expect(result.endMatches).toBe(true);
        expect(result.maxKeys).toBeLessThanOrEqual(2);
      },
      SAMPLE_TIMEOUT_MS,
    );
  });

if (FULL)
  describe("a rotation interrupted at every one of its calls", () => {
    // AKM_FAULT_STARTS / AKM_FAULT_EFFECTS (comma-separated) narrow the matrix while working on one part of it.
    const starts = only(Object.keys(START_STATES) as StartState[], process.env.AKM_FAULT_STARTS);
    const effects = only(["kill", "error", "drop"] as const, process.env.AKM_FAULT_EFFECTS);
    let matrix: Promise<ScenarioResult[]> | undefined;

    /** Every start × effect × boundary in one pool (slowest first: GitHub retries back off for 14 s). */
    function runMatrix(): Promise<ScenarioResult[]> {
      const scenarios = starts.flatMap((start) =>
        referenceOf(start).boundaries.flatMap((boundary) =>
          effectsAt(boundary)
            .filter((effect) => effects.includes(effect))
            .map((effect) => ({ start, effect, boundary })),
        ),
      );
      const slow = (s: (typeof scenarios)[number]) =>
        s.effect !== "kill" && s.boundary.label.startsWith("github:");
      const ordered = [...scenarios.filter(slow), ...scenarios.filter((s) => !slow(s))];
      matrix ??= pool(ordered, CONCURRENCY, ({ start, effect, boundary }) =>
        runScenario(endpoint, referenceOf(start), boundary, effect),
      );
      return matrix;
    }

    afterAll(async () => {
      if (!matrix) return;
      const rows = summarize([...references.values()], await matrix);
      printTable("Crash anywhere, converge always", rows);
      writeFigures("crash-anywhere", rows, "Crash anywhere, converge always");
    });

    const cases = starts.flatMap((start) =>
      effects.map((effect) => ({ start, effect, what: START_STATES[start] })),
    );

    it.each(cases)(
      "$what: converges to the fault-free end state after a $effect at any call",
      async ({ start, effect }) => {
        // Prepare
        const boundaries = referenceOf(start).boundaries.filter((b) => effectsAt(b).includes(effect)).length;

        // Act
        const outcome = (await runMatrix()).filter((r) => r.start === start && r.effect === effect);

        // Assess
        expect(outcome).toHaveLength(boundaries);
        expect(outcome.filter((r) => r.problems.length > 0).map(explain)).toEqual([]);
        expect(outcome.every((r) => r.converged && r.fired && r.endMatches)).toBe(true);
      },
    );
  });
