import { describe, expect, it } from "vitest";
import {
  auditRecordSchema, canonicalize, EMPTY_HEAD, entryHash, GENESIS_HASH, sealEntry, verifyChain,
  type AuditEntry, type AuditRecord,
} from "@paysync/core/audit/chain";

const USER_KEY = `u_${"a1".repeat(16)}`;

function buildChain(length: number, chain = "3"): AuditEntry[] {
  const entries: AuditEntry[] = [];
  let head = EMPTY_HEAD;
  for (let i = 0; i < length; i++) {
    const record: AuditRecord & { time: string } = {
      time: new Date(Date.UTC(2025, 0, 1, 0, 0, i)).toISOString(),
      actor: i % 2 ? "device" : "job",
      action: i % 2 ? "crisis.activate" : "sync.push",
      userKey: USER_KEY,
      entityType: "crisis_state",
      priority: 10,
      outcome: "ok",
      latencyMs: 10 + i / 10,
    };
    const entry = sealEntry(record, { chain, head });
    entries.push(entry);
    head = { seq: entry.seq, hash: entry.hash };
  }
  return entries;
}

describe("the audit hash chain", () => {
  it("an untouched chain verifies and ends at its last entry", () => {
    // Prepare
    const entries = buildChain(20);

    // Act
    const verdict = verifyChain("3", entries);

    // Assess
    expect(verdict).toEqual({ ok: true, chain: "3", checked: 20, head: { seq: 20, hash: entries[19]!.hash } });
    expect(entries[0]!.prevHash).toBe(GENESIS_HASH);
  });

  it("each entry's hash is sha256 of its canonical form followed by the previous hash", () => {
    // Prepare
    const [first, second] = buildChain(2);

    // Assess
    expect(second!.prevHash).toBe(first!.hash);
    expect(second!.hash).toBe(entryHash(second!));
    expect(canonicalize(first!)).toMatch(/^\{"action":"sync.push","actor":"job","chain":"3",/);
  });

  it("the canonical form does not depend on key order or absent fields", () => {
    // Prepare
    const entry = buildChain(1)[0]!;
    const shuffled = Object.fromEntries(Object.entries(entry).reverse()) as AuditEntry;

    // Assess
    expect(canonicalize(shuffled)).toBe(canonicalize(entry));
    expect(canonicalize({ ...entry, entityType: undefined })).not.toContain("entityType");
  });

  type Tamper = (entries: AuditEntry[]) => AuditEntry[];
  const at = (seq: number, change: (entry: AuditEntry) => AuditEntry): Tamper =>
    (entries) => entries.map((entry) => (entry.seq === seq ? change(entry) : entry));

  it.each<[string, Tamper, number, string]>([
    ["an edited outcome", at(7, (e) => ({ ...e, outcome: "failed" })), 7, "content_changed"],
    ["an edited latency", at(7, (e) => ({ ...e, latencyMs: 1 })), 7, "content_changed"],
    ["an edited time", at(1, (e) => ({ ...e, time: "2020-01-01T00:00:00.000Z" })), 1, "content_changed"],
    ["an added field", at(12, (e) => ({ ...e, entityType: "safety_plan" })), 12, "content_changed"],
    ["a removed user key", at(20, ({ userKey: _k, ...e }) => e), 20, "content_changed"],
    ["an edit with its hash recomputed", at(7, (e) => { const x = { ...e, outcome: "failed" }; return { ...x, hash: entryHash(x) }; }), 8, "link_broken"],
    ["a removed entry", (entries) => entries.filter((e) => e.seq !== 9), 9, "entry_missing"],
    ["two swapped entries", (entries) => [...entries.slice(0, 4), entries[5]!, entries[4]!, ...entries.slice(6)], 5, "entry_missing"],
    ["an entry moved from another chain", at(3, (e) => ({ ...e, chain: "4" })), 3, "wrong_chain"],
  ])("%s is detected at that entry", (_name, tamper, brokenAt, reason) => {
    // Prepare
    const entries = tamper(buildChain(20));

    // Act
    const verdict = verifyChain("3", entries);

    // Assess
    expect(verdict).toMatchObject({ ok: false, brokenAt, reason });
  });

  it("verification can resume from a verified head (an anchor)", () => {
    // Prepare
    const entries = buildChain(10);
    const anchor = { seq: 6, hash: entries[5]!.hash };

    // Act
    const resumed = verifyChain("3", entries.slice(6), anchor);
    const wrongAnchor = verifyChain("3", entries.slice(6), { seq: 6, hash: GENESIS_HASH });

    // Assess
    expect(resumed).toMatchObject({ ok: true, checked: 4, head: { seq: 10 } });
    expect(wrongAnchor).toMatchObject({ ok: false, brokenAt: 7, reason: "link_broken" });
  });

  it.each<[string, Record<string, unknown>]>([
    ["a raw user id as user key", { userKey: "user-123" }],
    ["an email as outcome", { outcome: "jane@example.com" }],
    ["free text as action", { action: "called Jane Doe" }],
    ["a phone number as outcome", { outcome: "+1 555 0100" }],
    ["an unknown field", { email: "jane@example.com" }],
    ["an unknown actor", { actor: "admin" }],
    ["a priority out of range", { priority: 11 }],
  ])("an entry with %s is refused, so no PII can enter the trail", (_name, change) => {
    // Prepare
    const entry = { actor: "device", action: "sync.push", outcome: "ok", ...change };

    // Assess
    expect(auditRecordSchema.safeParse(entry).success).toBe(false);
  });
});
