import { defineConfig } from "vitest/config";

/**
 * `npm run test:faults`: the reliability suites with their full fault matrices (AKM_FAULT_MATRIX=full).
 * Each suite writes its figures to .tmp/reliability/; the script then renders them into README.md.
 */
export default defineConfig({
  test: {
    include: ["test/reliability/**/*.test.ts"],
    globalSetup: ["test/support/global-setup.ts", "test/reliability/faults-setup.ts"],
    env: { AKM_FAULT_MATRIX: "full" },
    // Budgets for a loaded 2-core machine, at least vitest.config.ts's (the full matrices run longer per test).
    testTimeout: 30 * 60_000,
    hookTimeout: 15 * 60_000,
    teardownTimeout: 60_000,
    fileParallelism: true,
    maxWorkers: 2,
  },
});
