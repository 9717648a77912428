import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isObject, loadTemplate, ROOT, TEMPLATE_PATH } from "./dist.ts";
import { BOUNDARY_VALUES, FORM_VALUES_THAT_MUST_FAIL, type FormValues } from "./form-values.ts";

const { template } = loadTemplate();
const VENV_BIN = join(ROOT, ".venv", "bin");
/** How long one cfn-lint or checkov run may take (vitest's test and hook budgets are as long: vitest.config.ts). */
const TOOL_BUDGET_MS = 15 * 60_000;

/** Runs a tool from .venv; fails with the fix when the virtualenv is missing. */
function runTool(tool: string, args: string[]) {
  const bin = join(VENV_BIN, tool);
  if (!existsSync(bin))
    throw new Error(`${bin} is missing: run \`npm run setup:python\` (scripts/setup-python.sh).`);
  // checkov's JSON report quotes each resource's code, the Lambda bundle included: allow a large buffer.
  const result = spawnSync(bin, args, {
    cwd: ROOT,
    encoding: "utf8",
    // A budget, not an expectation: cfn-lint and checkov take well under a minute on an idle machine and several
    // on a loaded 2-core one (at load 20, 2 minutes were not enough). It only bounds how long a hung tool blocks.
    timeout: TOOL_BUDGET_MS,
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
  it("finds nothing but the size note: no error, warning or other informational finding", () => {
    // The template path first: --include-checks takes every following word as a check ID.
    const result = runTool("cfn-lint", [TEMPLATE_PATH, "--format", "parseable", "--include-checks", "I"]);
    // I1002 only says the file passed 90 % of CloudFormation's 1,000,000-byte template limit (the readable Lambda
    // bundle is inlined); the limit itself is E1002, an error, and the next test keeps a margin below it.
    const findings = (result.stdout + result.stderr).split("\n").filter((line) => line !== "");
    expect(findings.filter((line) => !/:I1002:/.test(line))).toEqual([]);
    expect(result.status === 0 || findings.every((line) => /:I1002:/.test(line))).toBe(true);
  });

  it("stays below CloudFormation's template size limit with room for a release's growth", () => {
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html: 1 MB for a
    // template in S3 (cfn-lint's E1002 counts 1,000,000 bytes). 950,000 leaves about 5 % for the next changes.
    expect(statSync(TEMPLATE_PATH).size).toBeLessThan(950_000);
  });

  it("is not silenced anywhere in the template", () => {
    const silenced = Object.entries(template.Resources).filter(([, r]) => isObject(r.Metadata?.["cfn-lint"]));
    expect(silenced.map(([id]) => id)).toEqual([]);
    expect(template.Metadata["cfn-lint"]).toBeUndefined();
  });
});

/**
 * The template with each given value as its parameter's default, as JSON (cfn-lint reads both). cfn-lint
 * resolves Ref, Fn::Sub, Fn::Join and Fn::Split with parameter defaults and checks the resulting names and
 * schedule against each resource type's schema (its W1031 "... when 'Fn::Sub' is resolved"), so a variant
 * is a dry run of deploying the stack with those values.
 */
function withDefaults(values: FormValues, dropPatterns = false): string {
  const variant = structuredClone(template);
  for (const [name, value] of Object.entries(values)) {
    const parameter = variant.Parameters[name];
    if (!parameter) throw new Error(`the template has no parameter ${name}`);
    parameter.Default = value;
    if (dropPatterns) delete parameter.AllowedPattern;
  }
  // The inline Lambda code has nothing to do with the values, and a short stand-in keeps cfn-lint quick.
  for (const resource of Object.values(variant.Resources)) {
    const code = resource.Properties.Code;
    if (resource.Type === "AWS::Lambda::Function" && isObject(code))
      code.ZipFile = "exports.handler = async () => ({});";
  }
  return JSON.stringify(variant);
}

describe("cfn-lint on the form's boundary values", () => {
  const dir = mkdtempSync(join(tmpdir(), "akm-form-values-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Lints one file per case in a single cfn-lint run; returns its findings by case name. */
  function lintCases(cases: readonly { name: string; text: string }[]): Map<string, string[]> {
    const files = cases.map((entry, index) => {
      const file = join(dir, `case-${index}.json`);
      writeFileSync(file, entry.text);
      return { file, name: entry.name };
    });
    const result = runTool("cfn-lint", [...files.map((f) => f.file), "--format", "parseable"]);
    const findings = new Map(files.map((f) => [f.name, [] as string[]]));
    for (const line of result.stdout.split("\n").filter((l) => l !== "")) {
      const owner = files.find((f) => line.startsWith(`${f.file}:`));
      findings.get(owner?.name ?? "(unknown)")?.push(line.slice((owner?.file.length ?? 0) + 1));
    }
    return findings;
  }

  it("finds nothing in a stack made with any of them: every accepted value deploys", () => {
    // Prepare
    const cases = BOUNDARY_VALUES.map((values) => ({
      name: JSON.stringify(values),
      text: withDefaults(values),
    }));

    // Act
    const findings = lintCases(cases);

    // Assess
    expect(Object.fromEntries(findings)).toEqual(Object.fromEntries(cases.map((c) => [c.name, []])));
  });

  it("does flag the values the form refuses, once the form's pattern is taken away", () => {
    // Prepare: the values that would fail late (a runbook name with a space, rate(2.5 hours)), patterns removed.
    const cases = FORM_VALUES_THAT_MUST_FAIL.map((values) => ({
      name: JSON.stringify(values),
      text: withDefaults(values, true),
    }));

    // Act
    const findings = lintCases(cases);

    // Assess
    for (const entry of cases) expect(findings.get(entry.name), entry.name).not.toEqual([]);
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
