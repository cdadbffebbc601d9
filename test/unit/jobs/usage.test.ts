import { describe, expect, it } from "vitest";
import type { AuditEntry } from "@paysync/core/audit/chain";
import { addOps, byteUsageOf, countOpsByUser, opOf, totalOps } from "@paysync/core/jobs/usage";

const A = `u_${"aa".repeat(16)}`;
const B = `u_${"bb".repeat(16)}`;
const entry = (fields: Partial<AuditEntry>) => ({ actor: "device", outcome: "applied", time: "2025-03-09T12:00:00.000Z", chain: "c", seq: 1, prevHash: "", hash: "", ...fields }) as AuditEntry;

describe("what counts as an op of a user", () => {
  it.each([
    { case: "an applied op", e: { action: "sync.apply", userKey: A, priority: 6 }, expected: { userKey: A, priority: 6 } },
    { case: "an op that conflicted", e: { action: "sync.apply", userKey: A, priority: 4, outcome: "conflict" }, expected: { userKey: A, priority: 4 } },
    { case: "an op that lost to a later write", e: { action: "sync.apply", userKey: A, priority: 4, outcome: "lost_lww" }, expected: { userKey: A, priority: 4 } },
    { case: "a crisis op answered synchronously", e: { action: "crisis.op", userKey: A, priority: 10, outcome: "ok" }, expected: { userKey: A, priority: 10 } },
    { case: "not a redelivered duplicate", e: { action: "sync.apply", userKey: A, priority: 6, outcome: "duplicate" }, expected: undefined },
    { case: "not a crisis op that failed", e: { action: "crisis.op", userKey: A, priority: 10, outcome: "internal_error" }, expected: undefined },
    { case: "not a push (its ops are counted when applied)", e: { action: "sync.push", userKey: A, outcome: "ok" }, expected: undefined },
    { case: "not an entry without a user", e: { action: "sync.apply", priority: 6 }, expected: undefined },
  ])("$case", ({ e, expected }) => {
    // Assess
    expect(opOf(entry(e))).toEqual(expected);
  });
});

describe("daily usage", () => {
  it("counts ops per user by priority", () => {
    // Prepare
    const entries = [
      entry({ action: "sync.apply", userKey: A, priority: 6 }), entry({ action: "sync.apply", userKey: A, priority: 6 }),
      entry({ action: "sync.apply", userKey: A, priority: 3 }), entry({ action: "crisis.op", userKey: B, priority: 9, outcome: "ok" }),
      entry({ action: "sync.apply", userKey: B, priority: 6, outcome: "duplicate" }),
    ];

    // Act
    const counts = countOpsByUser(entries);

    // Assess
    expect(Object.fromEntries(counts)).toEqual({ [A]: { 6: 2, 3: 1 }, [B]: { 9: 1 } });
    expect(totalOps(addOps(addOps({}, counts.get(A)!), counts.get(B)!))).toBe(4);
  });

  it.each([
    { case: "a full counter", item: { bytes: 30, pushBytes: 10, pullBytes: 20 }, expected: { bytes: 30, pushBytes: 10, pullBytes: 20 } },
    { case: "a pull-only day", item: { bytes: 5, pullBytes: 5 }, expected: { bytes: 5, pushBytes: 0, pullBytes: 5 } },
    { case: "a refund below zero reads as nothing", item: { bytes: -3, pushBytes: -3 }, expected: { bytes: 0, pushBytes: 0, pullBytes: 0 } },
  ])("reads the bytes of $case", ({ item, expected }) => {
    // Assess
    expect(byteUsageOf(item)).toEqual(expected);
  });
});
