import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { isObject, loadTemplate, ROOT, TEMPLATE_PATH } from "./dist.ts";

const { template } = loadTemplate();
const VENV_BIN = join(ROOT, ".venv", "bin");

/** Runs a tool from .venv; fails with the fix when the virtualenv is missing. */
function runTool(tool: string, args: string[]) {
  const bin = join(VENV_BIN, tool);
  if (!existsSync(bin))
    throw new Error(`${bin} is missing: run \`npm run setup:python\` (scripts/setup-python.sh).`);
  // checkov's JSON report quotes each resource's code, the Lambda bundle included: allow a large buffer.
  const result = spawnSync(bin, args, {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 120_000,
    maxBuffer: 256 * 1024 * 1024,
  });
  if (result.error) throw result.error;
  return result;
}

interface CheckovResult {
  check_id: string;
  resource: string;
  check_name: string;
  check_result: { result: string; suppress_comment?: string };
}

describe("cfn-lint", () => {
  it("finds nothing: no error, warning or informational finding", () => {
    // The template path first: --include-checks takes every following word as a check ID.
    const result = runTool("cfn-lint", [TEMPLATE_PATH, "--format", "parseable", "--include-checks", "I"]);
    expect(result.stdout + result.stderr).toBe("");
    expect(result.status).toBe(0);
  });

  it("is not silenced anywhere in the template", () => {
    const silenced = Object.entries(template.Resources).filter(([, r]) => isObject(r.Metadata?.["cfn-lint"]));
    expect(silenced.map(([id]) => id)).toEqual([]);
    expect(template.Metadata["cfn-lint"]).toBeUndefined();
  });
});

interface CheckovReport {
  results: {
    failed_checks: CheckovResult[];
    skipped_checks?: CheckovResult[];
    passed_checks: CheckovResult[];
  };
  summary: { failed: number; parsing_errors: number };
}

describe("checkov", () => {
  let report: CheckovReport;
  beforeAll(() => {
    // --skip-download: no network (checkov otherwise fetches guidelines from Prisma Cloud).
    const args = [
      "--file",
      TEMPLATE_PATH,
      "--framework",
      "cloudformation",
      "--output",
      "json",
      "--skip-download",
    ];
    report = JSON.parse(runTool("checkov", args).stdout) as CheckovReport;
  });

  it("fails no check", () => {
    const failed = report.results.failed_checks.map((c) => `${c.check_id} ${c.resource}: ${c.check_name}`);
    expect(failed).toEqual([]);
    expect(report.summary.parsing_errors).toBe(0);
  });

  it("skips a check only with a written reason", () => {
    for (const skipped of report.results.skipped_checks ?? []) {
      expect(skipped.check_result.suppress_comment, `${skipped.check_id} on ${skipped.resource}`).toMatch(
        /.{40,}/,
      );
    }
  });

  it("declares no skip that checkov does not need", () => {
    const used = new Set(
      (report.results.skipped_checks ?? []).map((c) => `${c.resource.split(".")[1]} ${c.check_id}`),
    );
    const declared: string[] = [];
    for (const [id, r] of Object.entries(template.Resources)) {
      const checkov = r.Metadata?.checkov;
      const skips = isObject(checkov) && Array.isArray(checkov.skip) ? checkov.skip : [];
      for (const skip of skips) if (isObject(skip)) declared.push(`${id} ${String(skip.id)}`);
    }
    expect(declared.sort()).toEqual([...used].sort());
  });
});
