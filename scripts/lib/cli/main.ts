import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "./command.ts";
import { runCommand } from "./run-command.ts";

/** The repository root, found from this file's place in scripts/lib/cli/. */
export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/** Entry point of a script: runs the command on process.argv and sets the process exit code. */
export async function main(command: Command): Promise<void> {
  // `npm run diff | head` closes the pipe early: stop quietly instead of crashing on EPIPE.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
  process.exitCode = await runCommand(command, process.argv.slice(2), {
    projectRoot: PROJECT_ROOT,
    // npm runs scripts from the package root and keeps the caller's directory in INIT_CWD.
    cwd: process.env.INIT_CWD ?? process.cwd(),
    stdout: (line) => process.stdout.write(`${line}\n`),
    stderr: (line) => process.stderr.write(`${line}\n`),
  });
}
