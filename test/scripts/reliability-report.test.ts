import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  END_MARKER,
  parseSuiteFigures,
  reliabilityReportCommand,
  renderSection,
  replaceSection,
  START_MARKER,
} from "../../scripts/lib/reliability-report.ts";
import { REPO_ROOT } from "../../scripts/local-stack/lambda-runner.ts";
import { runCli } from "./cli-harness.ts";

const README = `# Tool\n\nIntro.\n\n${START_MARKER}\nold figures\n${END_MARKER}\n\n## Development\n\nText.\n`;

function project(files: Readonly<Record<string, string>>, readme = README): string {
  const root = mkdtempSync(join(tmpdir(), "akm-reliability-"));
  mkdirSync(join(root, ".tmp", "reliability"), { recursive: true });
  for (const [name, text] of Object.entries(files))
    writeFileSync(join(root, ".tmp", "reliability", name), text);
  writeFileSync(join(root, "README.md"), readme);
  return root;
}

const crash = JSON.stringify({
  suite: "Crash anywhere, converge always",
  rows: [{ label: "All faults: injected / converged", value: "204 / 204" }],
});

describe("npm run reliability:report", () => {
  it("replaces only the Reliability section with a table per suite, the crash suite first", async () => {
    // Prepare
    const root = project({
      "a-other.json": JSON.stringify({ suite: "Other | suite", rows: [{ label: "x|y", value: 3 }] }),
      "crash-anywhere.json": crash,
    });

    // Act
    const run = await runCli(reliabilityReportCommand, [], root);

    // Assess
    expect(run.exitCode).toBe(0);
    const readme = readFileSync(join(root, "README.md"), "utf8");
    expect(readme.startsWith("# Tool\n\nIntro.\n\n<!-- reliability:start -->\n## Reliability")).toBe(true);
    expect(readme.endsWith(`${END_MARKER}\n\n## Development\n\nText.\n`)).toBe(true);
    expect(readme).not.toContain("old figures");
    expect(readme).toContain("| All faults: injected / converged | 204 / 204 |");
    expect(readme).toContain("| x\\|y | 3 |");
    expect(readme.indexOf("### Crash anywhere")).toBeLessThan(readme.indexOf("### Other \\| suite"));
    expect(run.stdout).toContain("2 suites, 2 figures");
  });

  it("refuses to run without figures, saying which command writes them", async () => {
    // Prepare
    const root = project({});

    // Act
    const run = await runCli(reliabilityReportCommand, [], root);

    // Assess
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain("npm run test:faults");
    expect(readFileSync(join(root, "README.md"), "utf8")).toBe(README);
  });

  it("names a malformed figures file and the README without markers, changing nothing", async () => {
    // Prepare
    const broken = project({ "crash-anywhere.json": crash, "bad.json": '{"suite": "x", "rows": [{}]}' });
    const unmarked = project({ "crash-anywhere.json": crash }, "# Tool\n");

    // Act
    const badRun = await runCli(reliabilityReportCommand, [], broken);
    const unmarkedRun = await runCli(reliabilityReportCommand, [], unmarked);

    // Assess
    expect(badRun.exitCode).toBe(2);
    expect(badRun.stderr).toContain("bad.json rows[0]");
    expect(unmarkedRun.exitCode).toBe(2);
    expect(unmarkedRun.stderr).toContain(START_MARKER);
    expect(readFileSync(join(unmarked, "README.md"), "utf8")).toBe("# Tool\n");
  });

  it("renders the same section again from the same figures (only the date may differ)", () => {
    // Prepare
    const suites = [parseSuiteFigures("crash-anywhere", crash)];

    // Act
    const once = replaceSection(README, renderSection(suites, "2026-01-01"));
    const twice = replaceSection(once, renderSection(suites, "2026-01-01"));

    // Assess
    expect(twice).toBe(once);
  });

  it("renders the prose README.md's Reliability section has above its tables, so a report never reverts it", () => {
    // Prepare
    const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
    const prose = (section: string) => section.slice(0, section.indexOf("\n### "));

    // Act
    const rendered = renderSection([parseSuiteFigures("crash-anywhere", crash)], "2026-01-01");

    // Assess
    expect(prose(readme.slice(readme.indexOf(START_MARKER)))).toBe(prose(rendered));
  });
});
