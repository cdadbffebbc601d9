import { describe, expect, it } from "vitest";
import { EMPTY_HEAD, sealEntry, type AuditEntry, type AuditRecord } from "@paysync/core/audit/chain";
import { formatComplianceReport, type ComplianceReport } from "@paysync/core/audit/report";
import { percentile, summariseAudit } from "@paysync/core/audit/summary";

function entries(records: Array<Partial<AuditRecord>>): AuditEntry[] {
  let head = EMPTY_HEAD;
  return records.map((record, i) => {
    const entry = sealEntry({ actor: "device", action: "sync.push", outcome: "ok", time: `2025-01-01T00:00:${String(i).padStart(2, "0")}.000Z`, ...record }, { chain: "c", head });
    head = { seq: entry.seq, hash: entry.hash };
    return entry;
  });
}

describe("the compliance summary", () => {
  it.each<[number, number | null]>([[50, 50], [90, 90], [99, 99], [100, 100], [1, 1]])("the nearest-rank p%i of 1…100 is %s", (p, expected) => {
    // Prepare
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);

    // Assess
    expect(percentile(sorted, p)).toBe(expected);
  });

  it("no values give no percentile rather than zero", () => {
    expect(percentile([], 99)).toBeNull();
  });

  it("crisis calls give percentiles per route and overall; breach entries are not counted as calls", () => {
    // Prepare
    const audit = entries([
      { action: "crisis.activate", latencyMs: 40 },
      { action: "crisis.activate", latencyMs: 250, outcome: "ok" },
      { action: "crisis.slo_breach", latencyMs: 250 },
      { action: "crisis.resources", latencyMs: 10 },
      { action: "sync.apply", latencyMs: 900 },
      { action: "crisis.resolve" },
    ]);

    // Act
    const summary = summariseAudit(audit, { crisisTargetMs: 200 });

    // Assess
    expect(summary.crisisLatency).toEqual({ count: 3, p50: 40, p90: 250, p95: 250, p99: 250, max: 250 });
    expect(Object.keys(summary.crisisLatencyByAction)).toEqual(["crisis.activate", "crisis.resources"]);
    expect(summary.sloBreaches).toEqual([{ time: audit[1]!.time, action: "crisis.activate", latencyMs: 250, outcome: "ok", entry: "c/2" }]);
    expect(summary.countsByAction).toEqual({ "crisis.activate": 2, "crisis.resolve": 1, "crisis.resources": 1, "crisis.slo_breach": 1, "sync.apply": 1 });
  });

  it("a report with a broken chain says where, in plain text", () => {
    // Prepare
    const report: ComplianceReport = {
      generatedAt: "2025-01-02T00:00:00.000Z",
      range: { from: "2025-01-01T00:00:00.000Z", to: null },
      crisisTargetMs: 200,
      chainIntact: false,
      verification: { days: ["2025-01-01"], chains: 3, entries: 41, broken: [{ chain: "2025-01-01.ab12", brokenAt: 7, reason: "content_changed", checked: 6 }] },
      summary: summariseAudit(entries([{ action: "crisis.activate", latencyMs: 12 }]), { crisisTargetMs: 200 }),
    };

    // Act
    const text = formatComplianceReport(report);

    // Assess
    expect(text).toContain("audit chain: BROKEN — 41 entries verified in 3 chains (day 2025-01-01)");
    expect(text).toContain("chain 2025-01-01.ab12: BROKEN at seq 7 (content_changed)");
    expect(text).toMatch(/crisis\.activate\s+n=1\s+p50 12\.0 ms/);
    expect(text).toContain("SLO breaches (> 200 ms): 0");
  });
});
