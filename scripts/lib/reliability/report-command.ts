import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import type { Command } from "../cli/command.ts";
import { UsageError } from "../cli/errors.ts";
import { ExitCode, exitCodeHelp } from "../cli/exit-code.ts";
import { parseOptions } from "../cli/parse-options.ts";
import { parseSuiteFigures, renderSection, replaceSection, type SuiteFigures } from "./render-reliability.ts";

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
