/**
 * The reliability suites' figures: each suite writes `.tmp/reliability/<suite>.json` as
 * `{ "suite": "<title>", "rows": [{ "label": "...", "value": "..." }] }`, and `npm run reliability:report`
 * (scripts/reliability-report.ts) renders every such file into README.md's Reliability section.
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../../scripts/local-stack/lambda-runner.ts";

export const FIGURES_DIR = join(REPO_ROOT, ".tmp", "reliability");

export interface FigureRow {
  readonly label: string;
  readonly value: string;
}

export interface SuiteFigures {
  readonly suite: string;
  readonly rows: readonly FigureRow[];
}

/** Writes a suite's figures (atomically: the report may read while another suite writes). */
export function writeFigures(file: string, rows: readonly FigureRow[], suite = file): void {
  mkdirSync(FIGURES_DIR, { recursive: true });
  const path = join(FIGURES_DIR, `${file}.json`);
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify({ suite, rows } satisfies SuiteFigures, null, 2)}\n`);
  renameSync(temporary, path);
}

/** Prints figures as a plain table on the test output. */
export function printTable(title: string, rows: readonly FigureRow[]): void {
  const width = Math.max(...rows.map((row) => row.label.length));
  const lines = rows.map((row) => `  ${row.label.padEnd(width)}  ${row.value}`);
  console.log(`${title}\n${lines.join("\n")}`);
}
