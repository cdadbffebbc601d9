/**
 * The daily SLO report (SPEC.md §2 targets, §6), pure: apply-latency percentiles per
 * priority against the priority's target, and the crisis calls with every one slower than
 * the crisis target. Built in pages: each page of audit entries becomes a small
 * {@link SloTally}; tallies merge; the merged tally becomes the report.
 *
 * Samples: see {@link applyLatencySample} (queued applies for 1–8, synchronous crisis writes
 * for 9–10). The crisis section covers every crisis call, reads included — the calls the
 * compliance report reads (`isCrisisCall`) — and lists each one over the crisis target.
 *
 * Objective: a priority meets its target when its p95 is within it (the operators' summary
 * judges the same way) — counted exactly, as "at most 5 % of samples (nearest rank) over the
 * target", not read from the sketch.
 *
 * @example
 * const tally = tallyEntries(emptyTally(), entries, { crisisTargetMs: 200 });
 * const report = buildSloReport("2025-03-09", tally, { crisisTargetMs: 200, generatedAt: new Date() });
 * console.log(formatSloReport(report));
 */
import type { AuditEntry } from "../audit/chain.js";
import { isCrisisCall, type LatencyPercentiles, type SloBreach } from "../audit/summary.js";
import { PRIORITY_LEVELS, type Priority } from "../sync/entities.js";
import { addSample, emptySketch, mergeSketches, sketchPercentiles, type LatencySketch } from "./latency-sketch.js";

/** The percentile each priority's target applies to. */
export const SLO_PERCENTILE = 95;
/** Crisis breaches listed in a report (all are counted); the earliest first. */
export const MAX_LISTED_BREACHES = 100;

const PRIORITIES = [10, 9, 8, 7, 6, 5, 4, 3, 2, 1] as const satisfies readonly Priority[];

interface PriorityTally {
  sketch: LatencySketch;
  /** Samples slower than the priority's target (exact). */
  overTarget: number;
}

export interface SloTally {
  priorities: Record<string, PriorityTally>;
  crisis: {
    all: LatencySketch;
    byAction: Record<string, LatencySketch>;
    breachCount: number;
    /** The earliest {@link MAX_LISTED_BREACHES}. */
    breaches: SloBreach[];
  };
}

export const emptyTally = (): SloTally => ({
  priorities: {},
  crisis: { all: emptySketch(), byAction: {}, breachCount: 0, breaches: [] },
});

const targetOf = (priority: number): number | null => PRIORITY_LEVELS[priority as Priority]?.targetLatencyMs ?? null;
const isPriority = (value: unknown): value is Priority => Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 10;

function addToPriority(tally: SloTally, priority: Priority, latencyMs: number): void {
  const row = (tally.priorities[String(priority)] ??= { sketch: emptySketch(), overTarget: 0 });
  addSample(row.sketch, latencyMs);
  const target = targetOf(priority);
  if (target !== null && latencyMs > target) row.overTarget += 1;
}

const byTime = (a: SloBreach, b: SloBreach) => a.time.localeCompare(b.time) || a.entry.localeCompare(b.entry);

/**
 * The apply-latency sample an entry carries, if any: a queued apply (`sync.apply`) at its
 * priority, or a synchronous crisis write (every crisis call but the `crisis.resources` read)
 * at its priority (10 unless it says 9). A `duplicate` is a redelivery, not an apply anyone
 * waited for. The same selection as the operators' summary (`@paysync/core/ops/summary`).
 */
export function applyLatencySample(entry: AuditEntry): { priority: Priority; latencyMs: number } | undefined {
  if (typeof entry.latencyMs !== "number" || entry.outcome === "duplicate") return undefined;
  if (entry.action === "sync.apply") return isPriority(entry.priority) ? { priority: entry.priority, latencyMs: entry.latencyMs } : undefined;
  if (isCrisisCall(entry) && entry.action !== "crisis.resources") {
    return { priority: entry.priority === 9 ? 9 : 10, latencyMs: entry.latencyMs };
  }
  return undefined;
}

/** Adds a page of audit entries to `tally` (in place) and returns it. */
export function tallyEntries(tally: SloTally, entries: Iterable<AuditEntry>, options: { crisisTargetMs: number }): SloTally {
  for (const entry of entries) {
    const sample = applyLatencySample(entry);
    if (sample) addToPriority(tally, sample.priority, sample.latencyMs);
    if (!isCrisisCall(entry)) continue;
    const { crisis } = tally;
    addSample(crisis.all, entry.latencyMs);
    addSample((crisis.byAction[entry.action] ??= emptySketch()), entry.latencyMs);
    if (entry.latencyMs > options.crisisTargetMs) {
      crisis.breachCount += 1;
      crisis.breaches.push({ time: entry.time, action: entry.action, latencyMs: entry.latencyMs, outcome: entry.outcome, entry: `${entry.chain}/${entry.seq}` });
    }
  }
  tally.crisis.breaches = tally.crisis.breaches.sort(byTime).slice(0, MAX_LISTED_BREACHES);
  return tally;
}

export function mergeTallies(a: SloTally, b: SloTally): SloTally {
  const priorities: Record<string, PriorityTally> = { ...a.priorities };
  for (const [key, row] of Object.entries(b.priorities)) {
    const mine = priorities[key];
    priorities[key] = mine === undefined ? row : { sketch: mergeSketches(mine.sketch, row.sketch), overTarget: mine.overTarget + row.overTarget };
  }
  const byAction: Record<string, LatencySketch> = { ...a.crisis.byAction };
  for (const [action, sketch] of Object.entries(b.crisis.byAction)) {
    const mine = byAction[action];
    byAction[action] = mine === undefined ? sketch : mergeSketches(mine, sketch);
  }
  return {
    priorities,
    crisis: {
      all: mergeSketches(a.crisis.all, b.crisis.all),
      byAction,
      breachCount: a.crisis.breachCount + b.crisis.breachCount,
      breaches: [...a.crisis.breaches, ...b.crisis.breaches].sort(byTime).slice(0, MAX_LISTED_BREACHES),
    },
  };
}

export interface PrioritySlo extends LatencyPercentiles {
  priority: Priority;
  name: string;
  /** SPEC target; `null`: best effort (priority 1). */
  targetMs: number | null;
  /** Samples slower than the target. */
  overTarget: number;
  /** The p95 (SLO_PERCENTILE) within the target; `null` without samples or without a target. */
  met: boolean | null;
}

export interface SloReport {
  day: string;
  generatedAt: string;
  objective: string;
  /** Highest priority first. */
  priorities: PrioritySlo[];
  crisis: {
    targetMs: number;
    calls: LatencyPercentiles;
    byAction: Record<string, LatencyPercentiles>;
    breachCount: number;
    breaches: SloBreach[];
  };
  /** Priorities whose objective was missed, highest first. */
  missed: Priority[];
}

const round = (value: number | null): number | null => (value === null ? null : Math.round(value * 10) / 10);
const rounded = (p: LatencyPercentiles): LatencyPercentiles => ({
  count: p.count, p50: round(p.p50), p90: round(p.p90), p95: round(p.p95), p99: round(p.p99), max: round(p.max),
});

/** Whether the nearest-rank p-th percentile of `count` samples is within target, given how many exceed it. */
export function percentileWithinTarget(count: number, overTarget: number, p = SLO_PERCENTILE): boolean {
  return overTarget <= count - Math.ceil((p / 100) * count);
}

export function buildSloReport(day: string, tally: SloTally, options: { crisisTargetMs: number; generatedAt: Date }): SloReport {
  const priorities = PRIORITIES.map((priority): PrioritySlo => {
    const row = tally.priorities[String(priority)] ?? { sketch: emptySketch(), overTarget: 0 };
    const level = PRIORITY_LEVELS[priority];
    const count = row.sketch.count;
    return {
      priority, name: level.name, targetMs: level.targetLatencyMs,
      ...rounded(sketchPercentiles(row.sketch)),
      overTarget: row.overTarget,
      met: count === 0 || level.targetLatencyMs === null ? null : percentileWithinTarget(count, row.overTarget),
    };
  });
  return {
    day,
    generatedAt: options.generatedAt.toISOString(),
    objective: `p${SLO_PERCENTILE} apply latency within the priority's target`,
    priorities,
    crisis: {
      targetMs: options.crisisTargetMs,
      calls: rounded(sketchPercentiles(tally.crisis.all)),
      byAction: Object.fromEntries(Object.entries(tally.crisis.byAction).sort(([a], [b]) => a.localeCompare(b)).map(([action, s]) => [action, rounded(sketchPercentiles(s))])),
      breachCount: tally.crisis.breachCount,
      breaches: tally.crisis.breaches,
    },
    missed: priorities.filter((p) => p.met === false).map((p) => p.priority),
  };
}

const ms = (value: number | null): string => (value === null ? "-" : `${value.toFixed(1)} ms`);
const verdict = (met: boolean | null): string => (met === null ? "—" : met ? "MET" : "MISSED");

/** Plain text for a terminal or a log line; no field of it is PII. */
export function formatSloReport(report: SloReport): string {
  return [
    `paysync SLO report for ${report.day} (UTC) — generated ${report.generatedAt}`,
    `objective: ${report.objective}; missed: ${report.missed.length === 0 ? "none" : report.missed.map((p) => `p${p}`).join(", ")}`,
    "",
    ...report.priorities.map((p) =>
      `  ${String(p.priority).padStart(2)} ${p.name.padEnd(19)} target ${p.targetMs === null ? "none".padEnd(9) : `${p.targetMs} ms`.padEnd(9)} n=${String(p.count).padEnd(7)} p50 ${ms(p.p50)}  p95 ${ms(p.p95)}  p99 ${ms(p.p99)}  max ${ms(p.max)}  over ${p.overTarget}  ${verdict(p.met)}`),
    "",
    `crisis calls (target ${report.crisis.targetMs} ms): n=${report.crisis.calls.count} p50 ${ms(report.crisis.calls.p50)}  p99 ${ms(report.crisis.calls.p99)}  max ${ms(report.crisis.calls.max)}`,
    `crisis SLO breaches: ${report.crisis.breachCount}`,
    ...report.crisis.breaches.map((b) => `  ${b.time}  ${b.action}  ${b.latencyMs} ms  ${b.outcome}  [${b.entry}]`),
    ...(report.crisis.breachCount > report.crisis.breaches.length ? [`  … and ${report.crisis.breachCount - report.crisis.breaches.length} more`] : []),
  ].join("\n");
}
