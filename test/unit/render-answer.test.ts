import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { AkmError } from "../../src/errors.ts";
import { MAX_FAILED_REPOS, MAX_SUMMARY_BYTES } from "../../src/handler-contract.ts";
import { OutcomeRecorder } from "../../src/lifecycle/outcome.ts";
import { parseRepoLogLines, renderAnswer, repoLogLines } from "../../src/render-answer.ts";

const NOW = new Date("2026-11-30T10:00:00.250Z");
const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
/** Test key IDs, generated here and not shaped like real ones. */
const NEW_KEY = `TESTNEWKEY${randomBytes(5).toString("hex").toUpperCase()}`;
const OLD_KEY = `TESTOLDKEY${randomBytes(5).toString("hex").toUpperCase()}`;

/** A rotation outcome over `count` repositories, `failed` of them failed and `mismatched` mismatched. */
function bigOutcome(count: number, failed: number, mismatched = 0) {
  const outcome = new OutcomeRecorder("rotate", false);
  outcome.newAccessKeyId = NEW_KEY;
  outcome.oldAccessKeyId = OLD_KEY;
  for (let i = 0; i < count; i++) {
    const repo = `some-organization/repository-with-a-long-name-${i}`;
    if (i < mismatched)
      outcome.repo({ repo, result: "mismatched", detail: "AWS_ACCESS_KEY_ID write failed" });
    else if (i < mismatched + failed)
      outcome.repo({
        repo,
        result: "failed",
        detail: "GitHub answered 403 Must have admin rights to Repository.",
      });
    else
      outcome.repo({
        repo,
        result: "written",
        detail: `now holds ${NEW_KEY} (updated_at verified)`,
      });
  }
  return outcome;
}

describe("the runbook answer", () => {
  it("stays under 32 KB with a summary of at most 4,000 bytes at 10,000 repositories", () => {
    const outcome = bigOutcome(10_000, 600, 3);

    const answer = renderAnswer(
      outcome.finish("Failed", "Rotation Failed: 603 repositories were not updated."),
      NOW,
    );

    expect(Buffer.byteLength(JSON.stringify(answer), "utf8")).toBeLessThan(32 * 1024);
    expect(Buffer.byteLength(answer.summary, "utf8")).toBeLessThanOrEqual(MAX_SUMMARY_BYTES);
    expect(answer.repoCounts).toEqual({
      total: 10_000,
      done: 9_397,
      failed: 600,
      mismatched: 3,
      remaining: 0,
    });
    expect(answer.failedRepos).toHaveLength(MAX_FAILED_REPOS);
    expect(answer.failedRepos.slice(0, 3).map((r) => r.result)).toEqual([
      "mismatched",
      "mismatched",
      "mismatched",
    ]);
    expect(answer.summary).toMatch(
      /\.\.\. and [\d,]+ more repositories: every one is in the function's log\.$/,
    );
    expect(answer.next).toBe("failed");
  });

  it("names mismatched repositories before failed ones in the summary", () => {
    const answer = renderAnswer(bigOutcome(5, 1, 1).finish("Failed", "Rotation Failed."), NOW);

    const lines = answer.summary.split("\n").filter((line) => line.startsWith("- "));
    expect(lines[0]).toMatch(/repository-with-a-long-name-0: mismatched/);
    expect(lines[1]).toMatch(/repository-with-a-long-name-1: failed/);
  });

  it("cuts a summary whose error alone is too long on a character boundary", () => {
    const outcome = new OutcomeRecorder("rotate", false);
    const answer = renderAnswer(
      outcome.finish("Failed", "Rotation Failed.", new AkmError("é".repeat(5000), { fix: "fix it" })),
      NOW,
    );

    expect(Buffer.byteLength(answer.summary, "utf8")).toBeLessThanOrEqual(MAX_SUMMARY_BYTES);
    expect(answer.summary).toContain("é...\nFix: fix it");
    expect(answer.summary).not.toContain("\uFFFD");
  });

  it("gives every timestamp a sleep reads in aws:sleep's form, the answer's own time when there is no wait", () => {
    const outcome = new OutcomeRecorder("rotate", false);

    const answer = renderAnswer(outcome.finish("Succeeded", "Rotation Succeeded."), NOW);

    expect(answer.retireAfter).toMatch(TIMESTAMP);
    expect(answer.resumeAt).toMatch(TIMESTAMP);
    expect(answer.retireAfter).toBe("2026-11-30T10:00:01Z");
    expect(answer.resumeAt).toBe("2026-11-30T10:00:01Z");
    expect(answer.newAccessKeyId).toBe("none");
    expect(answer.oldAccessKeyId).toBe("none");
    expect(answer.progress).toBe("no repositories");
    expect(answer.next).toBe("done");
  });

  it("asks to be invoked again at the write budget's resume time while in progress", () => {
    const outcome = new OutcomeRecorder("rotate", false);
    outcome.resumeAt = new Date("2026-11-30T11:00:00.100Z");

    const answer = renderAnswer(outcome.finish("InProgress", "Rotation in progress."), NOW);

    expect(answer.next).toBe("again");
    expect(answer.resumeAt).toBe("2026-11-30T11:00:01Z");
  });

  it("never answers with an empty field that a runbook reads", () => {
    for (const status of ["Succeeded", "Failed", "InProgress"] as const) {
      const answer = renderAnswer(new OutcomeRecorder("retire", true).finish(status, "x"), NOW);
      for (const field of [
        "next",
        "summary",
        "newAccessKeyId",
        "oldAccessKeyId",
        "retireAfter",
        "resumeAt",
        "eta",
        "progress",
      ] as const) {
        expect(answer[field], `${status} ${field}`).not.toBe("");
      }
    }
  });

  it("writes every repository to the log in a form that can be read back", () => {
    const outcome = bigOutcome(3, 1).finish("Failed", "Rotation Failed.");

    const parsed = parseRepoLogLines(`START\n${repoLogLines(outcome).join("\n")}\nEND`);

    expect(parsed).toEqual(outcome.repos);
  });
});

describe("a failure with a very long error", () => {
  it("keeps the fix whole after an error cut short", () => {
    const fix =
      "Open https://github.com/orgs/acme/sso?authorization_request=AZSCKtL4U8lX1H7H1wMoXaXnwkA and authorize.";
    const problems = Array.from({ length: 3000 }, (_, i) => `Repos[${i}].Owner: must be a GitHub login`).join(
      "; ",
    );

    const answer = renderAnswer(
      new OutcomeRecorder("rotate", false).finish(
        "Failed",
        "Rotation Failed.",
        new AkmError(problems, { fix }),
      ),
      NOW,
    );

    expect(Buffer.byteLength(answer.summary, "utf8")).toBeLessThanOrEqual(MAX_SUMMARY_BYTES);
    expect(answer.summary).toContain(`Fix: ${fix}`);
    expect(answer.summary).toContain("Repos[0].Owner");
  });
});

describe("the summary's wording", () => {
  it("says the shadowing check looked at the 1 repository, not at all 1 repositories", () => {
    // Prepare
    const outcome = bigOutcome(1, 0);
    outcome.shadowing = { findings: [], checked: 1, total: 1 };

    // Act
    const answer = renderAnswer(outcome.finish("Succeeded", "Rotation Succeeded."), NOW);

    // Assess
    expect(answer.summary).toContain(
      "Copies of the key's secrets that would hide it: none (looked at the 1 repository).",
    );
  });

  it("lists Get-RepoList's entries without a progress line, since nothing is done or remaining", () => {
    // Prepare
    const outcome = new OutcomeRecorder("list-repos", false);
    outcome.repo({ repo: "octo-org/api", result: "listed", detail: "" });
    outcome.repo({ repo: "organization octo-org (Actions)", result: "listed", detail: "visibility all" });

    // Act
    const answer = renderAnswer(outcome.finish("Succeeded", "2 entries listed in s3://b/repos.json:"), NOW);

    // Assess
    expect(answer.summary).not.toContain("Progress:");
    expect(answer.summary).not.toContain("0 remaining");
    expect(answer.summary).toContain("- octo-org/api: listed");
  });
});
