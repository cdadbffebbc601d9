import { describe, expect, it } from "vitest";
import type { AuditEntry } from "@paysync/core/audit/chain";
import {
  MAX_LISTED_BREACHES, applyLatencySample, buildSloReport, emptyTally, formatSloReport, mergeTallies, percentileWithinTarget, tallyEntries,
} from "@paysync/core/jobs/slo";

const GENERATED = new Date("2025-03-10T00:20:00.000Z");
const CRISIS = { crisisTargetMs: 200 };
let seq = 0;

function entry(fields: Partial<AuditEntry> & Pick<AuditEntry, "action">): AuditEntry {
  seq += 1;
  return {
    actor: "device", outcome: "applied", time: `2025-03-09T12:00:${String(seq % 60).padStart(2, "0")}.000Z`,
    chain: "2025-03-09.c1", seq, prevHash: "0", hash: "0", ...fields,
  } as AuditEntry;
}
const applies = (priority: number, latencies: number[], outcome = "applied") =>
  latencies.map((latencyMs) => entry({ action: "sync.apply", priority, latencyMs, outcome }));
const report = (entries: AuditEntry[]) => buildSloReport("2025-03-09", tallyEntries(emptyTally(), entries, CRISIS), { ...CRISIS, generatedAt: GENERATED });
/** Percentiles come from a sketch: within 1 % of the exact value (plus the report's 0.1 ms rounding). */
const withinOnePercent = (actual: number | null, exact: number) => actual !== null && Math.abs(actual - exact) <= exact * 0.01 + 0.05;
const row = (r: ReturnType<typeof report>, priority: number) => r.priorities.find((p) => p.priority === priority)!;

describe("which entries are apply-latency samples", () => {
  it.each([
    { case: "a queued apply, at its priority", e: { action: "sync.apply", priority: 6, latencyMs: 80 }, expected: { priority: 6, latencyMs: 80 } },
    { case: "a conflict is still an apply the user waited for", e: { action: "sync.apply", priority: 4, latencyMs: 9, outcome: "conflict" }, expected: { priority: 4, latencyMs: 9 } },
    { case: "a redelivered duplicate is not", e: { action: "sync.apply", priority: 6, latencyMs: 80, outcome: "duplicate" }, expected: undefined },
    { case: "a crisis write counts at priority 10", e: { action: "crisis.safety_plan", priority: 10, latencyMs: 40, outcome: "ok" }, expected: { priority: 10, latencyMs: 40 } },
    { case: "a crisis assessment op counts at priority 9", e: { action: "crisis.op", priority: 9, latencyMs: 40, outcome: "ok" }, expected: { priority: 9, latencyMs: 40 } },
    { case: "the crisis resources read is not an apply", e: { action: "crisis.resources", priority: 10, latencyMs: 5, outcome: "ok" }, expected: undefined },
    { case: "an entry about a breach is not a call", e: { action: "crisis.slo_breach", priority: 10, latencyMs: 500, outcome: "ok" }, expected: undefined },
    { case: "a push answer is not an apply", e: { action: "sync.push", latencyMs: 30, outcome: "ok" }, expected: undefined },
  ])("$case", ({ e, expected }) => {
    // Assess
    expect(applyLatencySample(entry(e))).toEqual(expected);
  });
});

describe("the daily SLO report", () => {
  it("reports each priority's percentiles against its SPEC target, highest priority first", () => {
    // Prepare
    const fast = Array.from({ length: 100 }, (_, i) => 100 + i); // p50 149, p95 194, max 199

    // Act
    const r = report(applies(7, fast));

    // Assess
    expect(r.priorities.map((p) => p.priority)).toEqual([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect(row(r, 7)).toMatchObject({ name: "premium_realtime", targetMs: 500, count: 100, max: 199, overTarget: 0, met: true });
    expect(withinOnePercent(row(r, 7).p50, 149)).toBe(true);
    expect(withinOnePercent(row(r, 7).p95, 194)).toBe(true);
    expect(row(r, 6)).toMatchObject({ count: 0, p50: null, met: null });
    expect(r.missed).toEqual([]);
  });

  it.each([
    { case: "5 of 100 over the target still meets a p95 objective", over: 5, met: true },
    { case: "6 of 100 over the target misses it", over: 6, met: false },
  ])("$case", ({ over, met }) => {
    // Prepare
    const latencies = [...Array.from({ length: 100 - over }, () => 300), ...Array.from({ length: over }, () => 1_500)];

    // Act
    const r = report(applies(6, latencies));

    // Assess
    expect(row(r, 6)).toMatchObject({ targetMs: 1_000, overTarget: over, met });
    expect(r.missed).toEqual(met ? [] : [6]);
  });

  it.each([
    [100, 5, true], [100, 6, false], [19, 0, true], [20, 1, true], [21, 1, true], [1, 1, false], [1, 0, true],
  ])("of %i samples with %i over the target, the nearest-rank p95 is within it: %s", (count, over, expected) => {
    // Assess
    expect(percentileWithinTarget(count, over)).toBe(expected);
  });

  it("priority 1 has no target, so it is never missed", () => {
    // Act
    const r = report(applies(1, [600_000, 900_000]));

    // Assess
    expect(row(r, 1)).toMatchObject({ targetMs: null, count: 2, overTarget: 0, met: null });
  });

  it("lists every crisis call over 200 ms, earliest first, and counts crisis writes at 9–10", () => {
    // Prepare
    const entries = [
      entry({ action: "crisis.activate", priority: 10, latencyMs: 250, outcome: "ok", time: "2025-03-09T10:00:00.000Z" }),
      entry({ action: "crisis.resources", priority: 10, latencyMs: 420, outcome: "ok", time: "2025-03-09T09:00:00.000Z" }),
      entry({ action: "crisis.slo_breach", priority: 10, latencyMs: 250, outcome: "ok" }),
      entry({ action: "crisis.op", priority: 9, latencyMs: 30, outcome: "ok" }),
      entry({ action: "crisis.contacts", priority: 10, latencyMs: 199.9, outcome: "ok" }),
    ];

    // Act
    const r = report(entries);

    // Assess
    expect(r.crisis.calls.count).toBe(4);
    expect(r.crisis.breachCount).toBe(2);
    expect(r.crisis.breaches.map((b) => [b.action, b.latencyMs])).toEqual([["crisis.resources", 420], ["crisis.activate", 250]]);
    expect(Object.keys(r.crisis.byAction)).toEqual(["crisis.activate", "crisis.contacts", "crisis.op", "crisis.resources"]);
    expect(row(r, 10)).toMatchObject({ count: 2, overTarget: 1, met: false });
    expect(row(r, 9)).toMatchObject({ count: 1, overTarget: 0, met: true });
    expect(r.missed).toEqual([10]);
  });

  it("a report built from page tallies merged equals one built from all entries at once", () => {
    // Prepare
    const entries = [
      ...applies(8, [120, 480, 510, 90]), ...applies(4, [4_000, 6_000]),
      ...Array.from({ length: 150 }, (_, i) => entry({ action: "crisis.activate", priority: 10, latencyMs: 150 + i, outcome: "ok", time: `2025-03-09T${String(10 + (i % 10)).padStart(2, "0")}:00:${String(i % 60).padStart(2, "0")}.000Z` })),
    ];
    const pages = [entries.slice(0, 50), entries.slice(50, 51), entries.slice(51)];

    // Act
    const merged = pages.map((page) => tallyEntries(emptyTally(), page, CRISIS)).reduce(mergeTallies, emptyTally());
    const whole = tallyEntries(emptyTally(), entries, CRISIS);

    // Assess
    expect(buildSloReport("2025-03-09", merged, { ...CRISIS, generatedAt: GENERATED })).toEqual(buildSloReport("2025-03-09", whole, { ...CRISIS, generatedAt: GENERATED }));
    expect(merged.crisis.breachCount).toBe(99);
    expect(merged.crisis.breaches).toHaveLength(Math.min(99, MAX_LISTED_BREACHES));
  });

  it("prints a summary naming each priority's verdict and the crisis breaches, without user keys", () => {
    // Prepare
    const userKey = `u_${"cd".repeat(16)}`;
    const r = report([...applies(6, [2_000]).map((e) => ({ ...e, userKey })), entry({ action: "crisis.activate", priority: 10, latencyMs: 320, outcome: "ok", userKey })]);

    // Act
    const text = formatSloReport(r);

    // Assess
    expect(text).toContain("SLO report for 2025-03-09");
    expect(text).toMatch(/ 6 assessment_data .*MISSED/);
    expect(text).toContain("crisis SLO breaches: 1");
    expect(text).not.toContain(userKey);
  });
});
