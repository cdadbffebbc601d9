/**
 * The operators' summary, pure: queue depth per lane, crisis latency histogram and breaches,
 * apply latency per priority against its target, users by tier, Stripe webhooks by type and
 * outcome, audit-chain status — from numbers read elsewhere (`@paysync/aws/ops/summary`).
 * The audit entries are the same samples the EMF metrics carry in AWS (`CrisisLatency`,
 * `ApplyLatency`, `WebhookApplyLatency`), so the dashboard and CloudWatch agree.
 *
 * @example
 * const summary = buildOpsSummary({ now, windowMinutes: 60, lanes, entries, payments, audit, crisisTargetMs: 200 });
 * summary.apply.find((row) => row.priority === 7)?.status; // "ok"
 */
import { isCrisisCall, percentiles, type LatencyPercentiles } from "../audit/summary.js";
import type { AuditEntry } from "../audit/chain.js";
import { PRIORITY_LEVELS, asPriority } from "../sync/entities.js";
import { TIERS, type Tier } from "../tiers.js";
import type {
  ApplyRow, AuditStatus, CrisisSummary, LaneSummary, LatencyStats, OpsSummary, QueueStat, UsersSummary, WebhooksSummary,
} from "./summary-schema.js";

export interface LaneInput {
  lane: string;
  queue: QueueStat;
  dlq: QueueStat;
  depthAlarmThreshold: number;
  dlqAlarmThreshold: number;
}

export interface PaymentRow {
  tier: string;
  /** Epoch ms. */
  graceEndsAt?: number | null;
}

export interface OpsInput {
  now: Date;
  windowMinutes: number;
  lanes: readonly LaneInput[];
  /** Audit entries of the window. */
  entries: readonly AuditEntry[];
  payments: { rows: readonly PaymentRow[]; truncated: boolean };
  audit: AuditStatus;
  crisisTargetMs: number;
}

/** Crisis latency buckets (ms); the target (200) is a bucket edge, so breaches are the buckets past it. */
export const CRISIS_BUCKETS_MS = [0, 25, 50, 100, 150, 200, 500] as const;
const RECENT = 10;

const stats = (p: LatencyPercentiles): LatencyStats => ({ count: p.count, p50: p.p50, p95: p.p95, p99: p.p99, max: p.max });

export function laneSummary(input: LaneInput): LaneSummary {
  const depth = input.queue.visible + input.queue.delayed;
  const status = input.dlq.visible >= input.dlqAlarmThreshold ? "dead_letters" : depth >= input.depthAlarmThreshold ? "backlog" : "ok";
  return { ...input, status };
}

export function crisisHistogram(latencies: readonly number[]): CrisisSummary["histogram"] {
  return CRISIS_BUCKETS_MS.map((fromMs, i) => {
    const toMs = CRISIS_BUCKETS_MS[i + 1] ?? null;
    const label = toMs === null ? `≥${fromMs} ms` : fromMs === 0 ? `<${toMs} ms` : `${fromMs}–${toMs} ms`;
    return { label, fromMs, toMs, count: latencies.filter((v) => v >= fromMs && (toMs === null || v < toMs)).length };
  });
}

export function crisisSummary(entries: readonly AuditEntry[], targetMs: number): CrisisSummary {
  const calls = entries.filter((entry): entry is AuditEntry & { latencyMs: number } => isCrisisCall(entry));
  const latencies = calls.map((entry) => entry.latencyMs);
  const breaching = calls
    .filter((entry) => entry.latencyMs > targetMs)
    .sort((a, b) => b.time.localeCompare(a.time));
  return {
    targetMs,
    calls: calls.length,
    activations: calls.filter((entry) => entry.action === "crisis.activate" && entry.outcome === "ok").length,
    resolves: calls.filter((entry) => entry.action === "crisis.resolve" && entry.outcome === "ok").length,
    latency: stats(percentiles(latencies)),
    histogram: crisisHistogram(latencies),
    breaches: breaching.length,
    recentBreaches: breaching.slice(0, RECENT).map((entry) => ({
      time: entry.time, action: entry.action, latencyMs: entry.latencyMs, outcome: entry.outcome, entry: `${entry.chain}/${entry.seq}`,
    })),
  };
}

/**
 * Latency samples per priority: queued applies (`sync.apply`, enqueue → applied) for 1–8 and
 * the synchronous crisis writes (every crisis call but the `resources` read) for 9–10.
 */
function applySamples(entries: readonly AuditEntry[]): Map<number, number[]> {
  const samples = new Map<number, number[]>();
  for (const entry of entries) {
    if (typeof entry.latencyMs !== "number" || entry.outcome === "duplicate") continue;
    const queued = entry.action === "sync.apply" && entry.priority !== undefined;
    const crisisWrite = isCrisisCall(entry) && entry.action !== "crisis.resources";
    if (!queued && !crisisWrite) continue;
    const priority = entry.priority ?? 10;
    samples.set(priority, [...(samples.get(priority) ?? []), entry.latencyMs]);
  }
  return samples;
}

export function applySummary(entries: readonly AuditEntry[]): ApplyRow[] {
  const samples = applySamples(entries);
  return Object.values(PRIORITY_LEVELS)
    .sort((a, b) => b.priority - a.priority)
    .map((level) => {
      const values = samples.get(level.priority) ?? [];
      const latency = stats(percentiles(values));
      const target = PRIORITY_LEVELS[asPriority(level.priority)].targetLatencyMs;
      const breaches = target === null ? 0 : values.filter((v) => v > target).length;
      const status = latency.count === 0 ? "idle" : target !== null && (latency.p95 ?? 0) > target ? "breach" : "ok";
      return { priority: level.priority, name: level.name, targetMs: target, latency, breaches, status };
    });
}

const isTier = (value: string): value is Tier => (TIERS as readonly string[]).includes(value);

export function usersSummary(payments: OpsInput["payments"], now: Date): UsersSummary {
  const byTier = Object.fromEntries(TIERS.map((tier) => [tier, 0])) as Record<Tier, number>;
  let inGrace = 0;
  let endingSoon = 0;
  for (const row of payments.rows) {
    if (!isTier(row.tier)) continue;
    byTier[row.tier] += 1;
    if (row.tier !== "grace_period") continue;
    inGrace += 1;
    if (typeof row.graceEndsAt === "number" && row.graceEndsAt - now.getTime() <= 24 * 3_600_000) endingSoon += 1;
  }
  return { withPaymentState: payments.rows.length, byTier, inGrace, graceEndingWithin24h: endingSoon, truncated: payments.truncated };
}

/** `stripe.webhook` entries are the intake's answers; `stripe.<event type>` the worker's applies. */
export function webhooksSummary(entries: readonly AuditEntry[]): WebhooksSummary {
  const intake: Record<string, number> = {};
  const byType = new Map<string, Record<string, number>>();
  const applied: AuditEntry[] = [];
  for (const entry of entries) {
    if (entry.actor !== "stripe" || !entry.action.startsWith("stripe.")) continue;
    if (entry.action === "stripe.webhook") {
      intake[entry.outcome] = (intake[entry.outcome] ?? 0) + 1;
      continue;
    }
    const type = entry.action.slice("stripe.".length);
    const outcomes = byType.get(type) ?? {};
    outcomes[entry.outcome] = (outcomes[entry.outcome] ?? 0) + 1;
    byType.set(type, outcomes);
    applied.push(entry);
  }
  applied.sort((a, b) => b.time.localeCompare(a.time));
  return {
    processed: applied.length,
    byType: [...byType]
      .map(([type, outcomes]) => ({ type, count: Object.values(outcomes).reduce((a, b) => a + b, 0), outcomes }))
      .sort((a, b) => b.count - a.count || a.type.localeCompare(b.type)),
    intake,
    recent: applied.slice(0, RECENT).map((entry) => ({
      time: entry.time, type: entry.action.slice("stripe.".length), outcome: entry.outcome, latencyMs: entry.latencyMs ?? null,
    })),
  };
}

export function buildOpsSummary(input: OpsInput): OpsSummary {
  const from = new Date(input.now.getTime() - input.windowMinutes * 60_000);
  return {
    generatedAt: input.now.toISOString(),
    window: { from: from.toISOString(), to: input.now.toISOString(), minutes: input.windowMinutes },
    lanes: input.lanes.map(laneSummary),
    crisis: crisisSummary(input.entries, input.crisisTargetMs),
    apply: applySummary(input.entries),
    users: usersSummary(input.payments, input.now),
    webhooks: webhooksSummary(input.entries),
    audit: input.audit,
  };
}
