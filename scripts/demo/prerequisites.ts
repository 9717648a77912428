import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join, relative } from "node:path";
import { CliError, UsageError } from "../lib/cli/errors.ts";
import { ExitCode } from "../lib/cli/exit-code.ts";
import type { Output } from "./output.ts";

/** The demo could not complete: its message says what failed and, where known, what to do. Exit 1. */
export class DemoFailure extends CliError {
  readonly exitCode = ExitCode.Failure;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "DemoFailure";
  }
}

/** The demo runs the template users deploy; without it there is nothing to run. Exit 2 (`npm run build`). */
export function requireRenderedTemplate(projectRoot: string, templatePath: string): void {
  if (existsSync(templatePath)) return;
  throw new UsageError(
    `${relative(projectRoot, templatePath)} does not exist: the demo runs the runbooks and Lambda code of the rendered template.\nRun \`npm run build\` first, then \`npm run demo\` again.`,
  );
}

/** The moto server the demo starts (installed into .venv by scripts/setup-python.sh). */
export function motoServerPath(projectRoot: string): string {
  return join(projectRoot, ".venv", "bin", "moto_server");
}

/**
 * Installs the pinned Python tools into .venv when moto is missing, saying so first (it downloads from PyPI
 * and takes a minute or two, once). Its own output goes straight to the terminal.
 */
export async function ensurePythonTools(projectRoot: string, out: Output): Promise<void> {
  if (existsSync(motoServerPath(projectRoot))) return;
  const script = join("scripts", "setup-python.sh");
  out.line(
    `moto (the local AWS) is not installed yet: ${relative(projectRoot, motoServerPath(projectRoot))} is missing.`,
  );
  out.line(
    `Running \`bash ${script}\`: it creates .venv and installs the pinned moto[server], cfn-lint and checkov from scripts/requirements-dev.txt (once; needs python3 and access to PyPI)...`,
  );
  const outcome = await new Promise<{ code: number | null; error?: Error }>((resolve) => {
    const child = spawn("bash", [script], { cwd: projectRoot, stdio: ["ignore", "inherit", "inherit"] });
    child.once("error", (error) => resolve({ code: null, error }));
    child.once("exit", (code, signal) => resolve({ code: code ?? (signal === null ? null : 128) }));
  });
  if (outcome.code !== 0) {
    const how = outcome.error
      ? `could not start (${outcome.error.message})`
      : `failed (exit ${outcome.code})`;
    throw new DemoFailure(
      `bash ${script} ${how}. Fix what it printed (it needs python3 with the venv module; on Debian/Ubuntu: apt install python3-venv), then run \`npm run demo\` again.`,
    );
  }
  if (!existsSync(motoServerPath(projectRoot))) {
    throw new DemoFailure(
      `bash ${script} succeeded but ${relative(projectRoot, motoServerPath(projectRoot))} is still missing; check scripts/requirements-dev.txt lists moto[server].`,
    );
  }
  out.line("Python tools installed.");
}
