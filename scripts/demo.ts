/**
 * `npm run demo` (the demo itself is scripts/lib/demo.ts). This file runs twice: as npm starts it, it starts
 * itself again in a child process, marked by CHILD in the environment, and passes Ctrl-C (SIGINT), SIGTERM and
 * SIGHUP on to it; the child runs the demo.
 *
 * Why a child: npm starts this file under the tsx CLI, which SIGKILLs its child when that child does not
 * acknowledge a relayed signal within 30 ms. The demo's event loop is busy for longer at times (the GitHub
 * emulator compiles OpenAPI schemas), and a demo killed that way could not stop the moto server it started.
 * The first process stays idle, so it always acknowledges at once; the demo, loaded with tsx as a plain import
 * (no signal relay), then gets the signal, stops every server it started and exits 130.
 */
import { spawn } from "node:child_process";
import { constants } from "node:os";
import { fileURLToPath } from "node:url";

/** Set in the child's environment only: that process runs the demo. */
const CHILD = "AWS_GITHUB_AKM_DEMO_CHILD";

if (process.env[CHILD] === "1") {
  delete process.env[CHILD];
  // Loaded here only: the relay never needs the local stack.
  const { main } = await import("./lib/shared/cli.ts");
  const { createDemoCommand } = await import("./lib/demo.ts");
  await main(createDemoCommand());
} else {
  const demo = spawn(
    process.execPath,
    ["--import", import.meta.resolve("tsx"), fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    { stdio: "inherit", env: { ...process.env, [CHILD]: "1" } },
  );
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    // From a terminal the demo gets Ctrl-C itself too; it acts on the first signal and ignores repeats.
    process.on(signal, () => demo.kill(signal));
  }
  demo.once("error", (error) => {
    process.stderr.write(`demo: could not start ${process.execPath}: ${error.message}\n`);
    process.exit(1);
  });
  demo.once("exit", (code, signal) => {
    process.exit(code ?? 128 + (signal === null ? 0 : constants.signals[signal]));
  });
}
