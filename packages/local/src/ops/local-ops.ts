import type { OpsSummary } from "@paysync/core/ops/summary-schema";
import type { ExtraRoute } from "../gateway.js";
import { opsRoute } from "./ops-route.js";
import { fauxqsQueueAge } from "./queue-age.js";

/** Polls from several tabs within this long share one read. */
const FRESH_MS = 1_000;

/**
 * The dashboard wired to this runtime: the SDK reader of `@paysync/aws/ops/summary` on the
 * emulators (loaded on first use, once the handler environment is set), queue ages from fauxqs.
 */
export function localOpsRoute(adminToken: string, sqsEndpoint: string): ExtraRoute {
  let reader: Promise<{ read(request: { windowMinutes?: number }): Promise<OpsSummary> }> | undefined;
  let last: { at: number; window: number | undefined; summary: Promise<OpsSummary> } | undefined;
  return opsRoute({
    adminToken,
    summary: async (window) => {
      if (last && last.window === window && Date.now() - last.at < FRESH_MS) return last.summary;
      reader ??= Promise.all([import("@paysync/aws/ops/summary"), import("@paysync/aws/wiring")])
        .then(([{ OpsSummaryReader }, { wiring }]) => new OpsSummaryReader({ audit: wiring.audit(), ageSource: fauxqsQueueAge(sqsEndpoint) }));
      const summary = reader.then((r) => r.read(window === undefined ? {} : { windowMinutes: window }));
      last = { at: Date.now(), window, summary };
      summary.catch(() => { if (last?.summary === summary) last = undefined; });
      return summary;
    },
  });
}
