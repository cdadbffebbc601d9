/**
 * Every crisis call's duration (issue 5): a `CrisisLatency` metric (ms), a `CrisisSloBreach`
 * count when it took longer than the 200 ms target, and an audit entry per call
 * (`crisis.<route>`, with `latencyMs`) from which the compliance report reads percentiles;
 * a breach adds a `crisis.slo_breach` entry. Recording never fails the call it measures.
 *
 * @example
 * const started = performance.now();
 * // … answer the request …
 * await telemetry.record({ route: "activate", userKey, outcome: "ok", latencyMs: performance.now() - started });
 */
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import type { CrisisOps } from "@paysync/core/crisis/ops";
import type { AuditSink } from "@paysync/core/ports";
import { errorName, logger, metrics } from "../base/observability.js";
import { CRISIS_CAPACITY } from "../resources.js";

/** The crisis routes, and `op` for crisis-class ops applied from a sync push. */
export type CrisisRoute = "resources" | "activate" | "resolve" | "safety_plan" | "contacts" | "region" | "op";

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

export class CrisisTelemetry {
  constructor(private readonly audit: AuditSink) {}

  async record(call: CrisisCall): Promise<void> {
    const latencyMs = Math.round(call.latencyMs * 10) / 10;
    const breach = isCrisisSloBreach(latencyMs);
    try {
      // Its own metric set: the route dimension must not stick to the handler's other metrics.
      const routeMetrics = metrics.singleMetric();
      routeMetrics.addDimensions({ route: call.route });
      routeMetrics.addMetric("CrisisLatency", MetricUnit.Milliseconds, latencyMs);
      if (breach) {
        const breachMetric = metrics.singleMetric();
        breachMetric.addDimensions({ route: call.route });
        breachMetric.addMetric("CrisisSloBreach", MetricUnit.Count, 1);
      }
    } catch (error) {
      logger.warn("crisis metric not published", { errorName: errorName(error) });
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
      await this.audit.append({ ...entry, action: `crisis.${call.route}`, outcome: call.outcome });
      if (breach) {
        logger.warn("crisis SLO breach", { route: call.route, latencyMs });
        await this.audit.append({ ...entry, action: "crisis.slo_breach", outcome: call.outcome });
      }
    } catch (error) {
      logger.error("crisis audit entry not written", { route: call.route, errorName: errorName(error) });
    }
  }
}

/** Crisis ops as the sync push hands them over, each call measured like a crisis route (`op`). */
export function measuredCrisisOps(crisis: CrisisOps, telemetry: CrisisTelemetry): CrisisOps {
  return {
    async applyCrisisOp(input, now) {
      const started = performance.now();
      let outcome = "internal_error";
      try {
        const result = await crisis.applyCrisisOp(input, now);
        outcome = "ok";
        return result;
      } catch (error) {
        outcome = (error as { code?: string }).code ?? "internal_error";
        throw error;
      } finally {
        await telemetry.record({ route: "op", userKey: input.userKey, entityType: input.entityType, priority: input.priority, outcome, latencyMs: performance.now() - started });
      }
    },
  };
}
