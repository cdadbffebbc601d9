import { defineConfig } from "vitest/config";

// Three suites with their own settings: unit tests are pure and parallel; integration and
// e2e tests share real emulators started once per run; infra synthesizes the SST stacks.
// In the repository, @paysync/client resolves to its TypeScript source (its published exports are dist/).
const sourceConditions = { resolve: { conditions: ["paysync-source"] }, ssr: { resolve: { conditions: ["paysync-source"] } } };

export default defineConfig({
  test: {
    projects: [
      {
        ...sourceConditions,
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
        },
      },
      {
        ...sourceConditions,
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts", "test/e2e/**/*.test.ts"],
          globalSetup: ["test/helpers/global-setup.ts"],
          // Handlers called in-process log here; the suite-wide PII check reads the copy.
          setupFiles: ["test/helpers/capture-logs.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        ...sourceConditions,
        test: {
          name: "infra",
          include: ["test/infra/**/*.test.ts"],
          // One synthesis (memoized in test/infra/synth.ts) serves every infra file.
          isolate: false,
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
