import { randomBytes } from "node:crypto";
import { DeleteCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { EMPTY_HEAD, sealEntry, type AuditEntry, type ChainHead } from "@paysync/core/audit/chain";
import { useRuntime } from "../helpers/runtime.js";
import { auditDayChainKey, auditDayKey, auditEntryKey, paymentStateKey } from "@paysync/aws/store/keys";

const rt = useRuntime();
const audit = rt.resources.tables.Audit;
type AuditWindowModule = typeof import("@paysync/aws/ops/audit-window");
type SummaryModule = typeof import("@paysync/aws/ops/summary");
let windows: AuditWindowModule;
let summaries: SummaryModule;
let auditLog: import("@paysync/aws/store/audit-log").AuditLog;

beforeAll(async () => {
  Object.assign(process.env, rt.handlerEnv());
  windows = await import("@paysync/aws/ops/audit-window");
  summaries = await import("@paysync/aws/ops/summary");
  auditLog = (await import("@paysync/aws/wiring")).wiring.audit();
});

/** Keys written by a test, removed after it so no other suite sees them. */
const written: Array<{ table: string; key: { pk: string; sk: string } }> = [];
afterEach(async () => {
  for (const { table, key } of written.splice(0)) await rt.dynamo.send(new DeleteCommand({ TableName: table, Key: key }));
});

async function put(table: string, item: Record<string, unknown> & { pk: string; sk: string }) {
  await rt.dynamo.send(new PutCommand({ TableName: table, Item: item }));
  written.push({ table, key: { pk: item.pk, sk: item.sk } });
}

/** A chain of today, laid out as `appendAudit` writes it, with `count` entries. */
async function todaysChain(count: number) {
  const day = new Date().toISOString().slice(0, 10);
  const chain = `${day}.ops${randomBytes(6).toString("hex")}`;
  // The day's registration is shared with real chains: written (idempotently), never removed.
  await rt.dynamo.send(new PutCommand({ TableName: audit, Item: auditDayKey(day) }));
  await put(audit, { ...auditDayChainKey(day, chain) });
  let head: ChainHead = EMPTY_HEAD;
  const entries: AuditEntry[] = [];
  const append = async () => {
    const entry = sealEntry({ time: new Date().toISOString(), actor: "system", action: "ops_it.sample", outcome: "ok" }, { chain, head });
    await put(audit, { ...auditEntryKey(chain, entry.seq), ...entry });
    head = { seq: entry.seq, hash: entry.hash };
    entries.push(entry);
    return entry;
  };
  for (let i = 0; i < count; i++) await append();
  return { chain, entries, append };
}

describe("the ops summary reads", () => {
  it("verify today's chains incrementally and name the entry where one was tampered with", async () => {
    // Prepare
    const { chain, entries, append } = await todaysChain(3);
    const window = new windows.AuditWindow(auditLog);
    const from = new Date(Date.now() - 60_000);
    const first = await window.read(from, new Date(Date.now() + 1_000));
    await append();

    // Act
    const second = await window.read(from, new Date(Date.now() + 1_000));
    const target = entries[1]!;
    await rt.dynamo.send(new PutCommand({ TableName: audit, Item: { ...auditEntryKey(chain, target.seq), ...target, outcome: "denied" } }));
    const fresh = await new windows.AuditWindow(auditLog).read(from, new Date(Date.now() + 1_000));

    // Assess
    const ours = (entries_: AuditEntry[]) => entries_.filter((e) => e.chain === chain).length;
    expect(first.status.broken.filter((b) => b.chain === chain)).toEqual([]);
    expect(ours(first.entries)).toBe(3);
    expect(ours(second.entries)).toBe(4);
    expect(fresh.status.intact).toBe(false);
    expect(fresh.status.broken).toContainEqual({ chain, brokenAt: 2, reason: "content_changed" });
  });

  it("count a user in grace whose period ends within a day", async () => {
    // Prepare
    const reader = new summaries.OpsSummaryReader({ audit: auditLog });
    const before = (await reader.read({ windowMinutes: 5 })).users;
    const userKey = `u_${randomBytes(16).toString("hex")}`;
    await put(rt.resources.tables.Payments, { ...paymentStateKey(userKey), tier: "grace_period", status: "past_due", graceEndsAt: Date.now() + 3_600_000 });

    // Act
    const after = (await reader.read({ windowMinutes: 5 })).users;

    // Assess
    expect(after.withPaymentState).toBe(before.withPaymentState + 1);
    expect(after.byTier.grace_period).toBe(before.byTier.grace_period + 1);
    expect(after.graceEndingWithin24h).toBe(before.graceEndingWithin24h + 1);
  });

  it("read every lane and its dead-letter queue", async () => {
    // Act
    const { lanes, window } = await new summaries.OpsSummaryReader({ audit: auditLog }).read({ windowMinutes: 100_000 });

    // Assess
    expect(window.minutes).toBe(24 * 60);
    expect(lanes.map((l) => l.lane)).toEqual(["Realtime", "Standard", "Background", "Webhooks", "Audit"]);
    for (const lane of lanes) expect(lane.dlq).toMatchObject({ visible: expect.any(Number), inFlight: expect.any(Number) });
  });
});
