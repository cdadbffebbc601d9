/**
 * What the sync engine reports: an `ApplyLatency` metric (ms, enqueue → applied, dimension
 * `priority`), an `ApplySloBreach` count when an op took longer than its priority's target
 * (SPEC.md §2), and audit entries — `sync.apply` per applied op with `priority` and
 * `latencyMs` (the samples the SLO report reads), `sync.push`, `sync.handoff`,
 * `sync.conflict_resolve`. Recording never fails the work it measures.
 *
 * @example
 * await recordApply({ userKey, entityType: "mood_entry", priority: 6, outcome: "applied", latencyMs: 84 });
 */
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { asPriority, PRIORITY_LEVELS } from "@paysync/core/sync";
import { appendAudit } from "../audit/audit-log.js";
import { logger, metrics } from "../observability.js";

export interface ApplySample {
  userKey: string;
  entityType: string;
  priority: number;
  /** `applied`, `duplicate`, `conflict`, `lost_lww`. */
  outcome: string;
  latencyMs: number;
}

export function isApplySloBreach(priority: number, latencyMs: number): boolean {
  const target = PRIORITY_LEVELS[asPriority(priority)].targetLatencyMs;
  return target !== null && latencyMs > target;
}

export async function recordApply(sample: ApplySample): Promise<void> {
  const latencyMs = Math.max(0, Math.round(sample.latencyMs * 10) / 10);
  try {
    metrics.addDimensions({ priority: String(sample.priority) });
    metrics.addMetric("ApplyLatency", MetricUnit.Milliseconds, latencyMs);
    if (isApplySloBreach(sample.priority, latencyMs)) metrics.addMetric("ApplySloBreach", MetricUnit.Count, 1);
    metrics.publishStoredMetrics();
  } catch (error) {
    logger.warn("apply metric not published", { errorName: error instanceof Error ? error.name : typeof error });
  }
  await auditSync("sync.apply", {
    userKey: sample.userKey, entityType: sample.entityType, priority: sample.priority, outcome: sample.outcome, latencyMs,
  });
}

export interface SyncAuditFields {
  userKey?: string;
  entityType?: string;
  priority?: number;
  outcome: string;
  latencyMs?: number;
}

/** One audit entry of a device-initiated sync action; a failure is logged (by the audit log too), never thrown. */
export async function auditSync(action: `sync.${string}`, fields: SyncAuditFields): Promise<void> {
  try {
    await appendAudit({ actor: "device", action, ...fields });
  } catch (error) {
    logger.error("sync audit entry not written", { action, errorName: error instanceof Error ? error.name : typeof error });
  }
}
