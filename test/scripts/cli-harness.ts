import { join } from "node:path";
import { vi } from "vitest";
import { type Command, PROJECT_ROOT, runCommand } from "../../scripts/lib/shared/cli.ts";
import { MOTO_CREDENTIALS } from "../../scripts/local-stack/aws-fixtures.ts";

/** What a command printed and how it exited, when run in-process as the CLI runs it. */
export interface CliRun {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command like its script does, against `projectRoot` (the repository by default). */
export async function runCli(
  command: Command,
  argv: readonly string[],
  projectRoot = PROJECT_ROOT,
): Promise<CliRun> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const exitCode = await runCommand(command, argv, {
    projectRoot,
    cwd: projectRoot,
    stdout: (line) => stdout.push(line),
    stderr: (line) => stderr.push(line),
  });
  return { exitCode, stdout: stdout.join("\n"), stderr: stderr.join("\n") };
}

/**
 * Points the scripts' AWS SDK clients at moto through the SDK's standard environment variables, as a
 * user would with AWS_ENDPOINT_URL. Restored by `vi.unstubAllEnvs()`.
 */
export function stubMotoEnvironment(endpoint: string): void {
  vi.stubEnv("AWS_ENDPOINT_URL", endpoint);
  vi.stubEnv("AWS_ACCESS_KEY_ID", MOTO_CREDENTIALS.accessKeyId);
  vi.stubEnv("AWS_SECRET_ACCESS_KEY", MOTO_CREDENTIALS.secretAccessKey);
  vi.stubEnv("AWS_SESSION_TOKEN", undefined);
  vi.stubEnv("AWS_PROFILE", undefined);
}

export const DIST_TEMPLATE_PATH = join(PROJECT_ROOT, "dist", "aws-github-akm.template.yaml");
export const ORIGINAL_STACK_FIXTURE = join(PROJECT_ROOT, "test", "fixtures", "original-stack.template.yaml");

/** The error a synchronous action throws; fails the test if it throws nothing. */
export function errorThrownBy(action: () => unknown): Error {
  try {
    action();
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`expected an Error, got ${String(error)}`);
  }
  throw new Error("expected the action to throw");
}
