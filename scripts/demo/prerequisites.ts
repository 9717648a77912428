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

/** The Node binary the Lambda code runs on (the `node@24` dev dependency, as in scripts/local-stack/lambda-runner.ts). */
export function lambdaNodePath(projectRoot: string): string {
  return join(projectRoot, "node_modules", "node", "bin", "node");
}

/**
 * The demo runs the Lambda code on Node 24, the runtime's major. That binary comes from the `node@24` dev
 * dependency's install script; when it did not run (`npm ci --ignore-scripts`, or an npm that skips install
 * scripts not listed in package.json's allowScripts), say so instead of failing later with ENOENT. Exit 2.
 */
export function requireLambdaNode(projectRoot: string): void {
  if (existsSync(lambdaNodePath(projectRoot))) return;
  throw new UsageError(
    `Node 24 is not installed: ${relative(projectRoot, lambdaNodePath(projectRoot))} is missing. The demo runs the ` +
      "Lambda code on it (the nodejs24.x runtime's major). It comes from the node@24 dev dependency, whose install " +
      "script did not run (npm ci --ignore-scripts, or an npm that skips install scripts not allowed in " +
      "package.json's allowScripts).\nRun `npm rebuild node` (or `npm ci` with install scripts allowed), then " +
      "`npm run demo` again.",
  );
}

/** The moto server the demo starts (installed into .venv by scripts/setup-python.sh). */
export function motoServerPath(projectRoot: string): string {
  return join(projectRoot, ".venv", "bin", "moto_server");
}

/**
 * Installs the pinned moto server into .venv when it is missing (`scripts/setup-python.sh demo`: moto only,
 * not the test tools), saying so first (it downloads from PyPI and takes a minute, once). Its own output goes
 * straight to the terminal.
 */
export async function ensurePythonTools(projectRoot: string, out: Output): Promise<void> {
  if (existsSync(motoServerPath(projectRoot))) return;
  const script = join("scripts", "setup-python.sh");
  out.line(
    `moto (the local AWS) is not installed yet: ${relative(projectRoot, motoServerPath(projectRoot))} is missing.`,
  );
  out.line(
    `Running \`bash ${script} demo\`: it creates .venv and installs the pinned moto[server] from scripts/requirements-demo.txt (once; needs python3 and access to PyPI)...`,
  );
  const outcome = await new Promise<{ code: number | null; error?: Error }>((resolve) => {
    const child = spawn("bash", [script, "demo"], {
      cwd: projectRoot,
      stdio: ["ignore", "inherit", "inherit"],
    });
    child.once("error", (error) => resolve({ code: null, error }));
    child.once("exit", (code, signal) => resolve({ code: code ?? (signal === null ? null : 128) }));
  });
  if (outcome.code !== 0) {
    const how = outcome.error
      ? `could not start (${outcome.error.message})`
      : `failed (exit ${outcome.code})`;
    throw new DemoFailure(
      `bash ${script} demo ${how}. Fix what it printed (it needs python3 with the venv module; on Debian/Ubuntu: apt install python3-venv), then run \`npm run demo\` again.`,
    );
  }
  if (!existsSync(motoServerPath(projectRoot))) {
    throw new DemoFailure(
      `bash ${script} demo succeeded but ${relative(projectRoot, motoServerPath(projectRoot))} is still missing; check scripts/requirements-demo.txt lists moto[server].`,
    );
  }
  out.line("Python tools installed.");
}
