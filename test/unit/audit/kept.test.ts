import { describe, expect, it } from "vitest";
import { EMPTY_HEAD, sealEntry, verifyChain, type AuditEntry, type AuditRecord } from "@paysync/core/audit/chain";
import { keepEntry, keptEntrySchema, lateFields } from "@paysync/core/audit/kept";
import { formatComplianceReport } from "@paysync/core/audit/report";
import { summariseAudit } from "@paysync/core/audit/summary";

const USER_KEY = `u_${"b2".repeat(16)}`;
const record: AuditRecord = { actor: "device", action: "crisis.activate", userKey: USER_KEY, priority: 10, outcome: "ok", latencyMs: 12.5 };

/** A chain of `kinds` appended at one-second steps; `late` entries happened an hour earlier, on the day before. */
function chainOf(kinds: Array<{ action: string; late?: boolean }>): AuditEntry[] {
  let head = EMPTY_HEAD;
  return kinds.map(({ action, late }, i) => {
    const time = `2025-03-02T00:00:${String(i).padStart(2, "0")}.000Z`;
    const fields = late ? lateFields(keepEntry({ ...record, action }, `2025-03-01T23:00:${String(i).padStart(2, "0")}.000Z`), time) : { time };
    const entry = sealEntry({ ...record, action, ...fields }, { chain: "2025-03-02.d1", head });
    head = { seq: entry.seq, hash: entry.hash };
    return entry;
  });
}

describe("an audit entry kept during an outage", () => {
  it("carries its record, when it happened and a fresh random id; the last write tried is kept to find it later", () => {
    // Prepare
    const attempted = sealEntry({ ...record, time: "2025-03-01T23:00:00.000Z" }, { chain: "2025-03-01.aa", head: EMPTY_HEAD });

    // Act
    const first = keepEntry(record, "2025-03-01T23:00:00.000Z", attempted);
    const second = keepEntry(record, "2025-03-01T23:00:00.000Z");

    // Assess
    expect(first).toMatchObject({ occurredAt: "2025-03-01T23:00:00.000Z", record, attempted: { chain: "2025-03-01.aa", seq: 1, hash: attempted.hash } });
    expect(first.id).toMatch(/^[0-9a-f]{32}$/);
    expect(second.id).not.toBe(first.id);
    expect(second.attempted).toBeUndefined();
  });

  it.each<[string, unknown]>([
    ["free text in a field", { ...keepEntry(record, "2025-03-01T23:00:00.000Z"), record: { ...record, outcome: "jane@example.com said hi" } }],
    ["a raw user id", { ...keepEntry(record, "2025-03-01T23:00:00.000Z"), record: { ...record, userKey: "user-123" } }],
    ["an unknown field", { ...keepEntry(record, "2025-03-01T23:00:00.000Z"), payload: "x" }],
    ["an id that is not 128 bits of hex", { ...keepEntry(record, "2025-03-01T23:00:00.000Z"), id: "abc" }],
    ["a time that is not ISO", { ...keepEntry(record, "2025-03-01T23:00:00.000Z"), occurredAt: "yesterday" }],
  ])("refuses %s", (_name, message) => {
    expect(keptEntrySchema.safeParse(message).success).toBe(false);
  });

  it("appended late, it is hashed with its mark and original time: the chain verifies, and removing the mark breaks it", () => {
    // Prepare
    const entries = chainOf([{ action: "sync.push" }, { action: "crisis.activate", late: true }, { action: "sync.push" }]);

    // Act
    const intact = verifyChain("2025-03-02.d1", entries);
    const unmarked = verifyChain("2025-03-02.d1", entries.map((e) => (e.seq === 2 ? { ...e, late: undefined } : e)));
    const redated = verifyChain("2025-03-02.d1", entries.map((e) => (e.seq === 2 ? { ...e, occurredAt: "2025-03-01T22:00:00.000Z" } : e)));

    // Assess
    expect(intact.ok).toBe(true);
    expect(entries[1]).toMatchObject({ late: true, occurredAt: "2025-03-01T23:00:01.000Z", time: "2025-03-02T00:00:01.000Z", seq: 2 });
    expect(unmarked).toMatchObject({ ok: false, brokenAt: 2, reason: "content_changed" });
    expect(redated).toMatchObject({ ok: false, brokenAt: 2, reason: "content_changed" });
  });
});

describe("the compliance summary of late entries", () => {
  it("counts late entries by the day they happened and action, and the report says so", () => {
    // Prepare
    const entries = chainOf([
      { action: "crisis.activate", late: true }, { action: "crisis.activate", late: true }, { action: "sync.push", late: true },
      { action: "crisis.activate" }, { action: "sync.push" },
    ]);

    // Act
    const summary = summariseAudit(entries, { crisisTargetMs: 200 });
    const text = formatComplianceReport({
      generatedAt: "2025-03-03T00:00:00.000Z", range: { from: null, to: null }, crisisTargetMs: 200, chainIntact: true,
      verification: { days: ["2025-03-02"], chains: 1, entries: 5, broken: [] }, summary,
    });

    // Assess
    expect(summary.late).toEqual({ entries: 3, byDay: { "2025-03-01": { "crisis.activate": 2, "sync.push": 1 } } });
    expect(summary.countsByAction).toEqual({ "crisis.activate": 3, "sync.push": 2 });
    expect(text).toContain("late entries (kept while storage was down, appended later): 3");
    expect(text).toMatch(/2025-03-01\s+crisis\.activate\s+2/);
    expect(text).toMatch(/2025-03-01\s+sync\.push\s+1/);
  });

  it("a period without an outage has no late entries, and the report says none", () => {
    // Act
    const summary = summariseAudit(chainOf([{ action: "sync.push" }]), { crisisTargetMs: 200 });

    // Assess
    expect(summary.late).toEqual({ entries: 0, byDay: {} });
  });
});
