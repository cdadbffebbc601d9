/**
 * The compliance report (SPEC.md §5), for the CLI (`npm run report -- compliance`) and the
 * daily report job: every chain of the period's days verified from its first entry, and the
 * period's entries summarised (crisis latency percentiles, SLO breaches, counts by action).
 *
 * @example
 * const report = await buildComplianceReport(audit, { from: new Date("2025-01-01"), to: new Date("2025-01-02") });
 * console.log(formatComplianceReport(report));
 */
import { verifyChain, type AuditEntry } from "@paysync/core/audit/chain";
import { emptyCheck, tally, type ComplianceReport } from "@paysync/core/audit/report";
import { summariseAudit } from "@paysync/core/audit/summary";
import { CRISIS_CAPACITY } from "../resources.js";
import type { AuditLog } from "../store/audit-log.js";

export async function buildComplianceReport(audit: AuditLog, range: { from?: Date; to?: Date; now?: Date } = {}): Promise<ComplianceReport> {
  const from = range.from?.toISOString();
  const to = range.to?.toISOString();
  const days = await audit.days({ fromDay: from?.slice(0, 10), toDay: to?.slice(0, 10) });
  const check = emptyCheck(days);
  const inRange: AuditEntry[] = [];
  for (const day of days) {
    for (const chain of await audit.chainsOn(day)) {
      const entries: AuditEntry[] = [];
      for await (const entry of audit.chain(chain)) entries.push(entry);
      tally(check, verifyChain(chain, entries));
      for (const entry of entries) {
        if ((from === undefined || entry.time >= from) && (to === undefined || entry.time < to)) inRange.push(entry);
      }
    }
  }
  return {
    generatedAt: (range.now ?? new Date()).toISOString(),
    range: { from: from ?? null, to: to ?? null },
    crisisTargetMs: CRISIS_CAPACITY.latencyTargetMs,
    chainIntact: check.broken.length === 0,
    verification: check,
    summary: summariseAudit(inRange, { crisisTargetMs: CRISIS_CAPACITY.latencyTargetMs }),
  };
}
