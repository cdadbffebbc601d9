import type { BreakReason, ChainVerdict } from "./chain.js";
import type { AuditSummary, LatencyPercentiles } from "./summary.js";

/**
 * The compliance report (SPEC.md §5): is every audit chain intact, and how fast were crisis
 * calls in the period. Built by `@paysync/aws/audit/compliance`; printed by
 * `npm run report -- compliance` and by the daily job.
 */
export interface BrokenChain {
  chain: string;
  brokenAt: number;
  reason: BreakReason | "seal_mismatch";
  /** Good entries before the break. */
  checked: number;
}

/** What a verification covered and what it found. */
export interface ChainCheck {
  days: string[];
  chains: number;
  entries: number;
  broken: BrokenChain[];
}

export interface ComplianceReport {
  generatedAt: string;
  range: { from: string | null; to: string | null };
  crisisTargetMs: number;
  /** True when every chain of the period's days verified from its first entry to its last. */
  chainIntact: boolean;
  verification: ChainCheck;
  summary: AuditSummary;
}

/** Adds one chain's verdict to a check. */
export function tally(check: ChainCheck, verdict: ChainVerdict): ChainCheck {
  check.chains += 1;
  check.entries += verdict.checked;
  if (!verdict.ok) check.broken.push({ chain: verdict.chain, brokenAt: verdict.brokenAt, reason: verdict.reason, checked: verdict.checked });
  return check;
}

export const emptyCheck = (days: string[] = []): ChainCheck => ({ days, chains: 0, entries: 0, broken: [] });

const ms = (value: number | null): string => (value === null ? "-" : `${value.toFixed(1)} ms`);

function latencyLine(label: string, p: LatencyPercentiles): string {
  return `  ${label.padEnd(24)} n=${String(p.count).padEnd(6)} p50 ${ms(p.p50)}  p90 ${ms(p.p90)}  p95 ${ms(p.p95)}  p99 ${ms(p.p99)}  max ${ms(p.max)}`;
}

/** Plain text for a terminal or a log line; no field of it is PII. */
export function formatComplianceReport(report: ComplianceReport): string {
  const { summary } = report;
  const lines = [
    `paysync compliance report — generated ${report.generatedAt}`,
    `period: ${report.range.from ?? "beginning"} → ${report.range.to ?? "now"}`,
    "",
    `audit chain: ${report.chainIntact ? "INTACT" : "BROKEN"} — ${describeCheck(report.verification)}`,
    ...report.verification.broken.map((b) => `  chain ${b.chain}: BROKEN at seq ${b.brokenAt} (${b.reason}) after ${b.checked} good entries`),
    "",
    `crisis latency (target ${report.crisisTargetMs} ms):`,
    latencyLine("all crisis calls", summary.crisisLatency),
    ...Object.entries(summary.crisisLatencyByAction).map(([action, p]) => latencyLine(action, p)),
    "",
    `SLO breaches (> ${report.crisisTargetMs} ms): ${summary.sloBreaches.length}`,
    ...summary.sloBreaches.slice(0, 50).map((b) => `  ${b.time}  ${b.action}  ${b.latencyMs} ms  ${b.outcome}  [${b.entry}]`),
    ...(summary.sloBreaches.length > 50 ? [`  … and ${summary.sloBreaches.length - 50} more`] : []),
    "",
    `entries by action (${summary.entries} in period):`,
    ...Object.entries(summary.countsByAction).map(([action, count]) => `  ${action.padEnd(32)} ${count}`),
    "",
    // Counted with the rest above; listed here because they entered the trail after the fact.
    `late entries (kept while storage was down, appended later): ${summary.late.entries}`,
    ...Object.entries(summary.late.byDay).flatMap(([day, actions]) =>
      Object.entries(actions).map(([action, count]) => `  ${day}  ${action.padEnd(32)} ${count}`)),
  ];
  return lines.join("\n");
}

function describeCheck(check: ChainCheck): string {
  const days = check.days.length === 0 ? "no days" : check.days.length === 1 ? `day ${check.days[0]}` : `days ${check.days[0]} … ${check.days.at(-1)}`;
  return `${check.entries} entries verified in ${check.chains} chains (${days})`;
}
