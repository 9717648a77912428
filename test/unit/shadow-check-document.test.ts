import * as v from "valibot";
import { describe, expect, it } from "vitest";
import {
  decodeShadowCheck,
  encodeShadowCheck,
  MAX_STORED_FINDINGS,
  type ShadowCheckRound,
  StoredShadowCheck,
} from "../../src/lifecycle/shadow-check-document.ts";
import type { ShadowFinding } from "../../src/lifecycle/shadowing.ts";

const FINDING: ShadowFinding = {
  repo: "org/app",
  environment: "production",
  store: "actions",
  kind: "secret",
  name: "AWS_ACCESS_KEY_ID",
  hides: "org/app",
  readers: {
    kind: "jobs",
    jobs: [
      { label: ".github/workflows/deploy.yml: release", certain: true },
      {
        label: ".github/workflows/ci.yml: any",
        certain: false,
        reason: `its environment is \${{ inputs.env }}`,
      },
    ],
    more: 0,
  },
};

const ROUND: ShadowCheckRound = {
  purpose: "retire TESTOLDKEY000001",
  since: "2026-01-01T00:00:00.000Z",
  list: "0123456789abcdef",
  checked: ["org/app", "org/api", "octo/web"],
  findings: [
    FINDING,
    {
      repo: "org/api",
      store: "dependabot",
      kind: "secret",
      name: "AWS_ACCESS_KEY_ID",
      hides: "organization org (Dependabot)",
      readers: { kind: "dependabot" },
    },
  ],
};

describe("the shadowing round in the progress object", () => {
  it("comes back as it was saved, through JSON and the schema", () => {
    // Act
    const stored = JSON.parse(JSON.stringify(encodeShadowCheck(ROUND)));
    const decoded = decodeShadowCheck(v.parse(StoredShadowCheck, stored));

    // Assess
    expect(decoded).toEqual(ROUND);
    expect(stored.checked).toEqual({ org: ["app", "api"], octo: ["web"] });
  });

  it("keeps the repository a call stopped in the middle of, in a few dozen bytes", () => {
    // Prepare: 1,200 of a repository's environments checked.
    const round: ShadowCheckRound = {
      ...ROUND,
      partial: { repo: "octo/big", environments: 1_200, digest: "fedcba9876543210" },
    };

    // Act
    const stored = JSON.parse(JSON.stringify(encodeShadowCheck(round)));
    const decoded = decodeShadowCheck(v.parse(StoredShadowCheck, stored));

    // Assess
    expect(decoded).toEqual(round);
    expect(JSON.stringify(stored.partial).length).toBeLessThan(100);
  });

  it("reads a round saved before a repository could be checked in part", () => {
    // Prepare: what an earlier release wrote (no partial).
    const stored = JSON.parse(JSON.stringify(encodeShadowCheck(ROUND)));

    // Act
    const read = v.safeParse(StoredShadowCheck, stored);

    // Assess
    expect(stored).not.toHaveProperty("partial");
    expect(read.success).toBe(true);
    expect(read.success && decodeShadowCheck(read.output).partial).toBeUndefined();
  });

  it("refuses a partial repository that is not the shape it writes", () => {
    // Act
    const stored = encodeShadowCheck(ROUND);
    const shapes = [
      { repo: "octo", environments: 1, digest: "fedcba9876543210" },
      { repo: "octo/big", environments: -1, digest: "fedcba9876543210" },
      { repo: "octo/big", environments: 1, digest: "not-a-digest" },
      { repo: "octo/big", environments: 1, digest: "fedcba9876543210", names: ["prod"] },
    ].map((partial) => v.safeParse(StoredShadowCheck, { ...stored, partial }).success);

    // Assess
    expect(shapes).toEqual([false, false, false, false]);
  });

  it("keeps at most 500 findings", () => {
    // Act
    const stored = encodeShadowCheck({ ...ROUND, findings: Array.from({ length: 600 }, () => FINDING) });

    // Assess
    expect(stored.findings).toHaveLength(MAX_STORED_FINDINGS);
    expect(v.safeParse(StoredShadowCheck, stored).success).toBe(true);
  });

  it("cuts a job's label and reason of thousands of characters to what it reads back", () => {
    // Prepare: texts from a workflow file whose author made them long (a job ID, an environment expression).
    const long: ShadowFinding = {
      ...FINDING,
      readers: {
        kind: "jobs",
        jobs: [
          {
            label: `.github/workflows/a.yml: ${"j".repeat(3_000)}`,
            certain: false,
            reason: "r".repeat(3_000),
          },
        ],
        more: 0,
      },
    };

    // Act
    const stored = JSON.parse(JSON.stringify(encodeShadowCheck({ ...ROUND, findings: [long] })));
    const read = v.safeParse(StoredShadowCheck, stored);

    // Assess
    expect(read.success).toBe(true);
    const [job] = stored.findings[0].readers.jobs;
    expect(job.label).toMatch(/^\.github\/workflows\/a\.yml: j+\.\.\.$/);
    expect(job.label).toHaveLength(1_000);
    expect(job.reason).toHaveLength(1_000);
  });

  it("refuses a round whose list digest or findings are not the shape it writes", () => {
    // Act
    const stored = encodeShadowCheck(ROUND);
    const badList = v.safeParse(StoredShadowCheck, { ...stored, list: "not-a-digest" });
    const badFinding = v.safeParse(StoredShadowCheck, {
      ...stored,
      findings: [{ ...FINDING, store: "pages" }],
    });

    // Assess
    expect([badList.success, badFinding.success]).toEqual([false, false]);
  });
});
