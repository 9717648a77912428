import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/support/global-setup.ts"],
    // The JSON report lets .ci/run print a plain "N passed, N failed" closing line.
    reporters: ["default", ["json", { outputFile: ".tmp/vitest-results.json" }]],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // Integration suites share one moto server; each suite isolates itself by unique resource names.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
