import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { promisify } from "node:util";
import { DeleteCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { beforeAll, describe, expect, it } from "vitest";
import { EMPTY_HEAD, sealEntry, type AuditEntry } from "@paysync/core/audit/chain";
import { pseudonymousKey } from "@paysync/core/pii";
import { auditDay, type AuditLog } from "@paysync/aws/store/audit-log";
import { auditDayChainKey, auditDayKey, auditEntryKey } from "@paysync/aws/store/keys";
import { useRuntime } from "../helpers/runtime.js";

const rt = useRuntime();
const audit = rt.resources.tables.Audit;
type Verification = typeof import("@paysync/aws/audit/verification");
type Compliance = typeof import("@paysync/aws/audit/compliance");
let log: AuditLog;
let verification: Verification;
let compliance: Compliance;

beforeAll(async () => {
  Object.assign(process.env, rt.handlerEnv());
  log = (await import("@paysync/aws/wiring")).wiring.audit();
  verification = await import("@paysync/aws/audit/verification");
  compliance = await import("@paysync/aws/audit/compliance");
});

let pastDays = 0;

/** A closed day's chain written straight to the table, as `appendAudit` lays it out; each call gets a day of its own. */
async function pastDayChain(length: number): Promise<{ day: string; chain: string; entries: AuditEntry[] }> {
  const day = new Date(Date.UTC(2001, 0, 1) + ++pastDays * 86_400_000).toISOString().slice(0, 10);
  const chain = `${day}.${randomBytes(8).toString("hex")}`;
  await rt.dynamo.send(new PutCommand({ TableName: audit, Item: auditDayKey(day) }));
  await rt.dynamo.send(new PutCommand({ TableName: audit, Item: auditDayChainKey(day, chain) }));
  const entries: AuditEntry[] = [];
  let head = EMPTY_HEAD;
  for (let i = 0; i < length; i++) {
    const entry = sealEntry({ time: `${day}T10:00:0${i}.000Z`, actor: "job", action: "audit_it.closed_day", outcome: "ok" }, { chain, head });
    await rt.dynamo.send(new PutCommand({ TableName: audit, Item: { ...auditEntryKey(chain, entry.seq), ...entry } }));
    entries.push(entry);
    head = { seq: entry.seq, hash: entry.hash };
  }
  return { day, chain, entries };
}

const entryKey = auditEntryKey;
const put = (chain: string, entry: AuditEntry) =>
  rt.dynamo.send(new PutCommand({ TableName: audit, Item: { ...entryKey(chain, entry.seq), ...entry } }));

describe("the audit trail", () => {
  it("chains every appended entry to the one before, in a chain registered for the day", async () => {
    // Prepare
    const action = `audit_it.${randomBytes(4).toString("hex")}`;
    const userKey = pseudonymousKey(rt.secrets.pseudonymSecret, "audit-user", "u");

    // Act
    for (let i = 0; i < 5; i++) await log.append({ actor: "system", action, userKey, outcome: "ok", latencyMs: i });

    // Assess
    const mine = (await log.entries({ from: new Date(Date.now() - 60_000) })).filter((e) => e.action === action);
    expect(mine).toHaveLength(5);
    const chain = mine[0]!.chain;
    expect(await log.chainsOn(auditDay(mine[0]!.time))).toContain(chain);
    expect(mine.every((e, i) => e.chain === chain && (i === 0 || e.prevHash === mine[i - 1]!.hash))).toBe(true);
  });

  it("refuses an entry carrying a raw user id instead of a pseudonymous key, and stores nothing", async () => {
    // Act
    const attempt = log.append({ actor: "device", action: "audit_it.raw", userKey: "user-123", outcome: "ok" });

    // Assess
    await expect(attempt).rejects.toThrow();
    const raw = (await log.entries({ from: new Date(Date.now() - 60_000) })).filter((e) => e.action === "audit_it.raw");
    expect(raw).toEqual([]);
  });

  it.each<[string, (chain: string, entry: AuditEntry) => Promise<unknown>, string]>([
    ["an edited outcome", (chain, entry) => put(chain, { ...entry, outcome: "denied" }), "content_changed"],
    ["an edited latency", (chain, entry) => put(chain, { ...entry, latencyMs: 1 }), "content_changed"],
    ["a deleted entry", (chain, entry) => rt.dynamo.send(new DeleteCommand({ TableName: audit, Key: entryKey(chain, entry.seq) })), "entry_missing"],
  ])("%s in DynamoDB is found at that entry by the full verification and the compliance report", async (_name, tamper, reason) => {
    // Prepare
    const { day, chain, entries } = await pastDayChain(6);
    const target = entries[2]!;

    // Act
    await tamper(chain, target);
    const verified = await verification.verifyAuditTrail(log, { full: true });
    const report = await compliance.buildComplianceReport(log, { from: new Date(`${day}T00:00:00Z`), to: new Date(`${day}T23:59:59Z`) });
    await put(chain, { ...target });

    // Assess
    const expected = { chain, brokenAt: 3, reason };
    expect(verified.intact).toBe(false);
    expect(verified.broken).toContainEqual(expect.objectContaining(expected));
    expect(report.chainIntact).toBe(false);
    expect(report.verification.broken).toEqual([expect.objectContaining(expected)]);
  });

  it("seals a day that is over, and a later rewrite or truncation of that day breaks its seal", async () => {
    // Prepare
    const { day, chain, entries } = await pastDayChain(4);
    const first = await verification.verifyAuditTrail(log);
    const last = entries[3]!;

    // Act: rewrite the last entry with a valid hash (undetectable by the chain alone), then drop it
    const rewritten = sealEntry({ ...last, outcome: "denied" }, { chain, head: { seq: 3, hash: entries[2]!.hash } });
    await put(chain, rewritten);
    const afterRewrite = await verification.verifyAuditTrail(log);
    await rt.dynamo.send(new DeleteCommand({ TableName: audit, Key: entryKey(chain, 4) }));
    const afterTruncation = await verification.verifyAuditTrail(log);
    await put(chain, { ...last });
    const restored = await verification.verifyAuditTrail(log);

    // Assess
    expect(first.sealedNow).toContain(day);
    expect(afterRewrite.broken).toContainEqual(expect.objectContaining({ chain, brokenAt: 4, reason: "seal_mismatch" }));
    expect(afterTruncation.broken).toContainEqual(expect.objectContaining({ chain, brokenAt: 4, reason: "seal_mismatch" }));
    expect(restored.broken.filter((b) => b.chain === chain)).toEqual([]);
  });

  it("a crisis call's entry carries its latency and the report counts it", async () => {
    // Prepare
    const from = new Date(Date.now() - 1_000);
    const token = await rt.token(`audit-crisis-${Date.now()}`);

    // Act
    const response = await rt.request("GET", "/v1/crisis/resources", { token });
    const report = await compliance.buildComplianceReport(log, { from });

    // Assess
    expect(response.status).toBe(200);
    expect(report.summary.countsByAction["crisis.resources"]).toBeGreaterThanOrEqual(1);
    expect(report.summary.crisisLatency.count).toBeGreaterThanOrEqual(1);
    expect(report.summary.crisisLatency.p99).toBeGreaterThan(0);
  });

  it("`npm run report -- compliance` prints the verification, percentiles, breaches and counts", async () => {
    // Act
    const { stdout } = await promisify(execFile)(join(process.cwd(), "node_modules/.bin/tsx"), ["packages/local/src/report-cli.ts", "compliance", "--from", new Date(Date.now() - 3_600_000).toISOString()], {
      env: { ...process.env, PAYSYNC_DATA_DIR: rt.dataDir, NODE_NO_WARNINGS: "1" },
    });

    // Assess
    expect(stdout).toMatch(/audit chain: INTACT — \d+ entries verified in \d+ chains/);
    expect(stdout).toMatch(/all crisis calls\s+n=\d+\s+p50 [\d.]+ ms/);
    expect(stdout).toContain("SLO breaches (> 200 ms):");
    expect(stdout).toMatch(/crisis\.resources\s+\d+/);
  });

  it.each([["a bad time", ["compliance", "--from", "yesterday"]], ["an unknown report", ["usage"]]])("the report CLI refuses %s with usage and exit code 2", async (_name, args) => {
    // Act
    const run = promisify(execFile)(join(process.cwd(), "node_modules/.bin/tsx"), ["packages/local/src/report-cli.ts", ...args], {
      env: { ...process.env, PAYSYNC_DATA_DIR: rt.dataDir, NODE_NO_WARNINGS: "1" },
    });

    // Assess
    await expect(run).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining("usage: npm run report -- compliance") });
  });
});
