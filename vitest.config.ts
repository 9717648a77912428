import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/support/global-setup.ts"],
    // The JSON report lets .ci/run print a plain "N passed, N failed" closing line.
    reporters: ["default", ["json", { outputFile: ".tmp/vitest-results.json" }]],
    // Budgets, not expectations: an e2e test runs the Lambda in Node processes (a stack reuses a warm one, as Lambda
    // does, after its first invocation) and talks to moto and the emulator for real, which takes a minute on an idle
    // machine and several times that on a loaded 2-core one (load 20: some files exceeded 2 minutes). Nothing a test asserts depends on how fast it runs (the stack's
    // clock moves instead of waiting), so the only cost of a generous budget is how long a hung test takes to fail.
    testTimeout: 15 * 60_000,
    hookTimeout: 15 * 60_000,
    // Stopping moto (test/support/global-setup.ts) takes seconds, more on a loaded machine.
    teardownTimeout: 60_000,
    // Integration suites share one moto server; each suite isolates itself by unique resource names.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
