import { resolve } from "node:path";
import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../../..");
const eslint = new ESLint({ cwd: ROOT });

/** The layer rule's messages for `code` as if it were the file at `path` (nothing is written). */
async function layerErrors(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: resolve(ROOT, path) });
  return (result?.messages ?? []).filter((m) => m.ruleId === "paysync/layers").map((m) => m.message);
}

describe("the layer rule of npm run lint", () => {
  it.each([
    { case: "storage importing a feature (a back-import)", path: "packages/aws/src/store/probe.ts", code: 'export { PushService } from "../sync/push-service.js";\n', match: /below the features/ },
    { case: "one feature importing another", path: "packages/aws/src/sync/probe.ts", code: 'import type { CrisisService } from "../crisis/crisis-service.js";\nexport type X = CrisisService;\n', match: /may not import feature crisis/ },
    { case: "a feature importing the wiring", path: "packages/aws/src/crisis/probe.ts", code: 'export { wiring } from "../wiring.js";\n', match: /only handlers import wiring/ },
    { case: "the domain importing an adapter", path: "packages/core/src/probe.ts", code: 'export { config } from "@paysync/aws/base/config";\n', match: /packages\/core is the domain/ },
    { case: "an adapter importing a handler", path: "packages/aws/src/base/probe.ts", code: 'export const load = () => import("../../../../functions/crisis.js");\n', match: /never imports functions/ },
    { case: "a test importing a package by its source path", path: "test/unit/probe.test.ts", code: 'import type { Tier } from "../../packages/core/src/tiers.js";\nexport type T = Tier;\n', match: /by its package name/ },
    { case: "a type-only import() of another feature", path: "packages/aws/src/payments/probe.ts", code: 'export type X = typeof import("../sync/op-applier.js");\n', match: /may not import feature sync/ },
  ])("fails on $case", async ({ path, code, match }) => {
    // Act
    const errors = await layerErrors(path, code);

    // Assess
    expect(errors).toEqual([expect.stringMatching(match)]);
  });

  it.each([
    { case: "a feature using storage, base and the domain", path: "packages/aws/src/sync/probe.ts", code: 'import { ChangeFeed } from "../store/change-feed.js";\nimport { config } from "../base/config.js";\nimport { policyFor } from "@paysync/core/tiers";\nexport const x = [ChangeFeed, config, policyFor];\n' },
    { case: "a job running a feature's service (the documented direction)", path: "packages/aws/src/jobs/probe.ts", code: 'import type { PaymentApplier } from "../payments/payment-applier.js";\nexport type X = PaymentApplier;\n' },
    { case: "a handler importing the wiring by package name", path: "functions/probe.ts", code: 'export { wiring } from "@paysync/aws/wiring";\n' },
  ])("passes $case", async ({ path, code }) => {
    // Assess
    expect(await layerErrors(path, code)).toEqual([]);
  });
});
