/**
 * Every crisis call's duration (issue 5): a `CrisisLatency` metric (ms), a `CrisisSloBreach`
 * count when it took longer than the 200 ms target, and an audit entry per call
 * (`crisis.<route>`, with `latencyMs`) from which the compliance report reads percentiles;
 * a breach adds a `crisis.slo_breach` entry. Recording never fails the call it measures.
 *
 * @example
 * const started = performance.now();
 * // … answer the request …
 * await recordCrisisCall({ route: "activate", userKey, outcome: "ok", latencyMs: performance.now() - started });
 */
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { appendAudit } from "../audit/audit-log.js";
import { logger, metrics } from "../observability.js";
import { CRISIS_CAPACITY } from "../resources.js";

/** The crisis routes, and `op` for crisis-class ops applied from a sync push. */
export type CrisisRoute = "resources" | "activate" | "resolve" | "safety_plan" | "contacts" | "op";

export interface CrisisCall {
  route: CrisisRoute;
  /** Pseudonymous; absent when the caller could not be identified. */
  userKey?: string;
  entityType?: string;
  priority?: number;
  /** `ok`, or the error code the caller received. */
  outcome: string;
  latencyMs: number;
}

export function isCrisisSloBreach(latencyMs: number): boolean {
  return latencyMs > CRISIS_CAPACITY.latencyTargetMs;
}

export async function recordCrisisCall(call: CrisisCall): Promise<void> {
  const latencyMs = Math.round(call.latencyMs * 10) / 10;
  const breach = isCrisisSloBreach(latencyMs);
  try {
    metrics.addDimensions({ route: call.route });
    metrics.addMetric("CrisisLatency", MetricUnit.Milliseconds, latencyMs);
    if (breach) metrics.addMetric("CrisisSloBreach", MetricUnit.Count, 1);
    metrics.publishStoredMetrics();
  } catch (error) {
    logger.warn("crisis metric not published", { errorName: error instanceof Error ? error.name : typeof error });
  }
  const entry = {
    actor: "device" as const,
    ...(call.userKey === undefined ? {} : { userKey: call.userKey }),
    ...(call.entityType === undefined ? {} : { entityType: call.entityType }),
    priority: call.priority ?? 10,
    latencyMs,
  };
  try {
    // One after the other: both extend the same hash chain.
    await appendAudit({ ...entry, action: `crisis.${call.route}`, outcome: call.outcome });
    if (breach) {
      logger.warn("crisis SLO breach", { route: call.route, latencyMs });
      await appendAudit({ ...entry, action: "crisis.slo_breach", outcome: call.outcome });
    }
  } catch (error) {
    logger.error("crisis audit entry not written", { route: call.route, errorName: error instanceof Error ? error.name : typeof error });
  }
}
