/**
 * What the sync engine reports: an `ApplyLatency` metric (ms, enqueue → applied, dimension
 * `priority`), an `ApplySloBreach` count when an op took longer than its priority's target
 * (SPEC.md §2), and audit entries — `sync.apply` per applied op with `priority` and
 * `latencyMs` (the samples the SLO report reads), `sync.push`, `sync.handoff`,
 * `sync.conflict_resolve`. Recording never fails the work it measures.
 *
 * @example
 * await telemetry.recordApply({ userKey, entityType: "mood_entry", priority: 6, outcome: "applied", latencyMs: 84 });
 */
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import type { AuditSink } from "@paysync/core/ports";
import { asPriority, PRIORITY_LEVELS } from "@paysync/core/sync";
import { errorName, logger, metrics } from "../base/observability.js";

export interface ApplySample {
  userKey: string;
  entityType: string;
  priority: number;
  /** `applied`, `duplicate`, `conflict`, `lost_lww`. */
  outcome: string;
  latencyMs: number;
}

export interface SyncAuditFields {
  userKey?: string;
  entityType?: string;
  priority?: number;
  outcome: string;
  latencyMs?: number;
}

export function isApplySloBreach(priority: number, latencyMs: number): boolean {
  const target = PRIORITY_LEVELS[asPriority(priority)].targetLatencyMs;
  return target !== null && latencyMs > target;
}

export class SyncTelemetry {
  constructor(private readonly sink: AuditSink) {}

  async recordApply(sample: ApplySample): Promise<void> {
    const latencyMs = Math.max(0, Math.round(sample.latencyMs * 10) / 10);
    try {
      // Its own metric set: a batch applies ops of several priorities.
      const perPriority = metrics.singleMetric();
      perPriority.addDimensions({ priority: String(sample.priority) });
      perPriority.addMetric("ApplyLatency", MetricUnit.Milliseconds, latencyMs);
      if (isApplySloBreach(sample.priority, latencyMs)) {
        const breach = metrics.singleMetric();
        breach.addDimensions({ priority: String(sample.priority) });
        breach.addMetric("ApplySloBreach", MetricUnit.Count, 1);
      }
    } catch (error) {
      logger.warn("apply metric not published", { errorName: errorName(error) });
    }
    await this.audit("sync.apply", {
      userKey: sample.userKey, entityType: sample.entityType, priority: sample.priority, outcome: sample.outcome, latencyMs,
    });
  }

  /** One audit entry of a device-initiated sync action; a failure is logged (by the audit log too), never thrown. */
  async audit(action: `sync.${string}`, fields: SyncAuditFields): Promise<void> {
    try {
      await this.sink.append({ actor: "device", action, ...fields });
    } catch (error) {
      logger.error("sync audit entry not written", { action, errorName: errorName(error) });
    }
  }
}
