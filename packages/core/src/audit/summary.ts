import type { AuditEntry } from "./chain.js";

/**
 * What the compliance report says about a set of audit entries, pure: crisis latency
 * percentiles, crisis SLO breaches, counts by action, and the entries appended late (kept
 * while storage was down) by the day they happened and action.
 *
 * @example
 * const summary = summariseAudit(entries, { crisisTargetMs: 200 });
 * summary.crisisLatency.p99; // ms
 */

export interface LatencyPercentiles {
  count: number;
  p50: number | null;
  p90: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

export interface SloBreach {
  time: string;
  action: string;
  latencyMs: number;
  outcome: string;
  /** Where the entry is, to look it up: `chain/seq`. */
  entry: string;
}

/** Entries that were kept during an outage and appended late (`late: true`). */
export interface LateEntries {
  entries: number;
  /** Day they happened (`occurredAt`) → action → count. */
  byDay: Record<string, Record<string, number>>;
}

export interface AuditSummary {
  entries: number;
  late: LateEntries;
  countsByAction: Record<string, number>;
  crisisLatency: LatencyPercentiles;
  crisisLatencyByAction: Record<string, LatencyPercentiles>;
  sloBreaches: SloBreach[];
}

/** Entries written *about* a breach repeat the call's latency; they are not calls. */
const NOT_A_CALL = new Set(["crisis.slo_breach"]);

export function isCrisisCall(entry: Pick<AuditEntry, "action" | "latencyMs">): entry is Pick<AuditEntry, "action"> & { latencyMs: number } {
  return entry.action.startsWith("crisis.") && !NOT_A_CALL.has(entry.action) && typeof entry.latencyMs === "number";
}

/** Nearest-rank percentile of sorted values (`null` when there are none). */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

export function percentiles(values: readonly number[]): LatencyPercentiles {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.length === 0 ? null : sorted[sorted.length - 1]!,
  };
}

export function summariseAudit(entries: readonly AuditEntry[], options: { crisisTargetMs: number }): AuditSummary {
  const countsByAction: Record<string, number> = {};
  const latencies: number[] = [];
  const byAction = new Map<string, number[]>();
  const sloBreaches: SloBreach[] = [];
  const late: LateEntries = { entries: 0, byDay: {} };
  for (const entry of entries) {
    countsByAction[entry.action] = (countsByAction[entry.action] ?? 0) + 1;
    if (entry.late === true) {
      const day = (entry.occurredAt ?? entry.time).slice(0, 10);
      const actions = (late.byDay[day] ??= {});
      actions[entry.action] = (actions[entry.action] ?? 0) + 1;
      late.entries += 1;
    }
    if (!isCrisisCall(entry)) continue;
    latencies.push(entry.latencyMs);
    const values = byAction.get(entry.action) ?? [];
    values.push(entry.latencyMs);
    byAction.set(entry.action, values);
    if (entry.latencyMs > options.crisisTargetMs) {
      sloBreaches.push({ time: entry.time, action: entry.action, latencyMs: entry.latencyMs, outcome: entry.outcome, entry: `${entry.chain}/${entry.seq}` });
    }
  }
  sloBreaches.sort((a, b) => a.time.localeCompare(b.time));
  return {
    entries: entries.length,
    late: { entries: late.entries, byDay: sortedDays(late.byDay) },
    countsByAction: Object.fromEntries(Object.entries(countsByAction).sort(([a], [b]) => a.localeCompare(b))),
    crisisLatency: percentiles(latencies),
    crisisLatencyByAction: Object.fromEntries([...byAction].sort(([a], [b]) => a.localeCompare(b)).map(([action, values]) => [action, percentiles(values)])),
    sloBreaches,
  };
}

function sortedDays(byDay: Record<string, Record<string, number>>): Record<string, Record<string, number>> {
  return Object.fromEntries(Object.entries(byDay).sort(([a], [b]) => a.localeCompare(b))
    .map(([day, actions]) => [day, Object.fromEntries(Object.entries(actions).sort(([a], [b]) => a.localeCompare(b)))]));
}
