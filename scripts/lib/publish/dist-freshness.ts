import { spawn } from "node:child_process";
import { join } from "node:path";
import { UsageError } from "../cli/errors.ts";

/**
 * Refuses a dist/ that is not what the sources produce: runs `scripts/build.mjs --check` (the build in
 * memory, compared byte for byte) and turns its complaint into a UsageError. A link to a stale template
 * would launch code nobody reviewed in this state of the sources.
 */
export async function requireFreshDist(projectRoot: string): Promise<void> {
  const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = spawn(process.execPath, [join(projectRoot, "scripts", "build.mjs"), "--check"], {
      cwd: projectRoot,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let text = "";
    child.stdout.on("data", (chunk: Buffer) => {
      text += chunk.toString("utf8");
    });
    child.stderr.on("data", (chunk: Buffer) => {
      text += chunk.toString("utf8");
    });
    child.once("error", (error) => resolve({ code: null, output: error.message }));
    child.once("close", (exitCode) => resolve({ code: exitCode, output: text }));
  });
  if (code === 0) return;
  throw new UsageError(
    `dist/ is not what the sources produce, so the link would launch a stale template:\n${output.trim()}\n` +
      "Run `npm run build` (and commit dist/ with the sources), then run this again.",
  );
}
