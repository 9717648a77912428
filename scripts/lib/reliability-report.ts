/**
 * `npm run reliability:report`: renders the reliability suites' figures (`.tmp/reliability/<suite>.json`,
 * written by the tests under test/reliability/) as README.md's Reliability section, between the markers below.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { type Command, ExitCode, exitCodeHelp, parseOptions, UsageError } from "./shared/cli.ts";

const HELP = `Usage: npm run reliability:report [-- --figures DIR] [-- --readme FILE]

Renders the figures of the reliability suites (each test under test/reliability/ writes
<suite>.json there) into the Reliability section of README.md, between
<!-- reliability:start --> and <!-- reliability:end -->. npm run test:faults runs it at the end.

Options:
  --figures DIR   where the suites wrote their figures (default: .tmp/reliability)
  --readme FILE   the README to update (default: README.md)
  --help          show this text

${exitCodeHelp({ runbookFailed: false })}`;

export const reliabilityReportCommand: Command = {
  name: "reliability:report",
  help: HELP,
  async run(argv, context) {
    const options = parseOptions(argv, { figures: { type: "string" }, readme: { type: "string" } });
    const figuresDir = resolve(
      context.cwd,
      options.figures ?? join(context.projectRoot, ".tmp", "reliability"),
    );
    const readmePath = resolve(context.cwd, options.readme ?? join(context.projectRoot, "README.md"));
    const suites = readFigures(figuresDir, context.projectRoot);
    if (!existsSync(readmePath)) throw new UsageError(`${readmePath} does not exist.`);
    let updated: string;
    try {
      updated = replaceSection(
        readFileSync(readmePath, "utf8"),
        renderSection(suites, new Date().toISOString().slice(0, 10)),
      );
    } catch (error) {
      throw new UsageError(
        `${relative(context.cwd, readmePath) || readmePath}: ${(error as Error).message}.`,
      );
    }
    writeFileSync(readmePath, updated);
    const rows = suites.reduce((n, suite) => n + suite.rows.length, 0);
    context.stdout(
      `Updated the Reliability section of ${relative(context.cwd, readmePath) || readmePath}: ${suites.length} suites, ${rows} figures.`,
    );
    return ExitCode.Success;
  },
};

function readFigures(dir: string, projectRoot: string): SuiteFigures[] {
  const where = relative(projectRoot, dir) || dir;
  const files = existsSync(dir) ? readdirSync(dir).filter((name) => name.endsWith(".json")) : [];
  if (files.length === 0) {
    throw new UsageError(
      `No figures in ${where}: run npm run test:faults first (it writes them, then runs this).`,
    );
  }
  return files.sort().map((name) => {
    try {
      return parseSuiteFigures(name.slice(0, -".json".length), readFileSync(join(dir, name), "utf8"));
    } catch (error) {
      throw new UsageError(`${where}/${(error as Error).message}.`);
    }
  });
}

/** README.md's Reliability section lies between these two lines. */
export const START_MARKER = "<!-- reliability:start -->";
export const END_MARKER = "<!-- reliability:end -->";

export interface FigureRow {
  readonly label: string;
  readonly value: string;
}

/** One suite's figures file: `{ "suite": "...", "rows": [{ "label": "...", "value": "..." }] }`. */
export interface SuiteFigures {
  /** The file name without `.json`: orders the suites and names them in errors. */
  readonly file: string;
  readonly suite: string;
  readonly rows: readonly FigureRow[];
}

/** Suites shown first, in this order; the others follow alphabetically by file name. */
const ORDER = ["crash-anywhere", "concurrency"];

/** Parses one figures file; the message of a thrown Error says what is wrong with it. */
export function parseSuiteFigures(file: string, text: string): SuiteFigures {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${file}.json is not valid JSON`);
  }
  if (!isRecord(json) || typeof json.suite !== "string" || !Array.isArray(json.rows)) {
    throw new Error(
      `${file}.json must be { "suite": string, "rows": [{ "label": string, "value": string }] }`,
    );
  }
  const rows = json.rows.map((row, index) => {
    if (!isRecord(row) || typeof row.label !== "string" || !["string", "number"].includes(typeof row.value)) {
      throw new Error(`${file}.json rows[${index}] must be { "label": string, "value": string }`);
    }
    return { label: row.label, value: String(row.value) };
  });
  return { file, suite: json.suite, rows };
}

function sortSuites(suites: readonly SuiteFigures[]): SuiteFigures[] {
  const rank = (file: string) => {
    const index = ORDER.indexOf(file);
    return index === -1 ? ORDER.length : index;
  };
  return [...suites].sort((a, b) => rank(a.file) - rank(b.file) || a.file.localeCompare(b.file));
}

/** The section between the markers (markers included). */
export function renderSection(suites: readonly SuiteFigures[], generatedOn: string): string {
  const lines = [
    START_MARKER,
    "## Reliability",
    "",
    "Evidence that no fault leaves CI without a working key. `npm run test:faults` runs the reliability suites",
    "against the same moto server, GitHub emulator and template-extracted Lambda code (Node 24) as every other",
    "test. The crash matrix goes through every AWS and GitHub call of a rotation: each call is answered HTTP 500",
    "(every retry too), and each call that changes something is also the last one before the process is killed,",
    "and has its connection dropped after it took effect (a kill after a read leaves the same state as the kill",
    "after the call before it). Rotate is then re-run until it succeeds. R1 (what every reader of every listed",
    "target reads — a repository's or environment's jobs, each repository an organization secret is visible to,",
    "each repository a topic or custom property selects, Dependabot, Codespaces — names an Active key) and the",
    "two-key limit are checked after every call. Besides rotations of repositories' Actions secrets, the matrix runs",
    "a first rotation over mixed targets (a repository, an environment, an organization secret with selected",
    "repositories, a repository's Dependabot secrets, the key ID as a variable); a first rotation as a GitHub App",
    "(the App's identity, its installation, minting installation tokens, and minting again when GitHub refuses one",
    "that expired mid-run) over repositories selected by topic and by custom property, an environment, and",
    "Codespaces secrets of a repository and of the organization, with the shadowing check's reads (environments,",
    "secret names per scope, the organization's repositories); and a first rotation the shadowing check refuses (a",
    "listed repository's environment holds its own copy of the key, and the check reads the workflow files, a",
    "reusable one of another repository included, to name the jobs): no fault there may let a key be created or a",
    "secret written before the user deletes the copy, and Rotate then converges. `npm test` runs a sample.",
    "",
  ];
  for (const suite of sortSuites(suites)) {
    lines.push(`### ${cell(suite.suite)}`, "", "| Figure | Value |", "|---|---|");
    for (const row of suite.rows) lines.push(`| ${cell(row.label)} | ${cell(row.value)} |`);
    lines.push("");
  }
  lines.push(
    `<sub>Generated on ${generatedOn} by \`npm run reliability:report\` from the figures the tests of`,
    "`npm run test:faults` wrote to `.tmp/reliability/`; not edited by hand.</sub>",
    END_MARKER,
  );
  return lines.join("\n");
}

/** README text with its Reliability section replaced; throws when the markers are missing or out of order. */
export function replaceSection(readme: string, section: string): string {
  const start = readme.indexOf(START_MARKER);
  const end = readme.indexOf(END_MARKER);
  if (start === -1 || end === -1 || end < start) {
    throw new Error(`it has no ${START_MARKER} … ${END_MARKER} markers (in this order)`);
  }
  return readme.slice(0, start) + section + readme.slice(end + END_MARKER.length);
}

/** A Markdown table cell: pipes escaped, line breaks flattened. */
function cell(text: string): string {
  return text.replaceAll("|", "\\|").replace(/\s*\n\s*/g, " ");
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
