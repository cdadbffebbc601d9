import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { beforeAll, describe, expect, it } from "vitest";
import { buildComplianceReport } from "@paysync/aws/audit/compliance";
import { CrisisTelemetry } from "@paysync/aws/crisis/crisis-telemetry";
import { AuditLog, type AuditEntry } from "@paysync/aws/store/audit-log";
import { AuditQueue } from "@paysync/aws/store/audit-queue";
import { verifyChain } from "@paysync/core/audit/chain";
import { formatComplianceReport } from "@paysync/core/audit/report";
import { keepEntry } from "@paysync/core/audit/kept";
import { pseudonymousKey } from "@paysync/core/pii";
import { freePort } from "@paysync/local/free-port";
import { localClientConfig } from "@paysync/local/provision";
import { eventually, useRuntime } from "../helpers/runtime.js";

const rt = useRuntime();
let log: AuditLog;

beforeAll(async () => {
  Object.assign(process.env, rt.handlerEnv());
  log = (await import("@paysync/aws/wiring")).wiring.audit();
});

let seq = 0;
const userKeyOf = (label: string) => pseudonymousKey(rt.secrets.pseudonymSecret, `audit-outage-${Date.now()}-${++seq}-${label}`, "u");
/** An action code no other test writes, so counts of it are this test's alone. */
const actionOf = (label: string) => `outage.${label}.${Date.now().toString(36)}${++seq}`;

/** Clients on a loopback port nobody listens on: every call fails like an unreachable service. */
async function deadEndpoint(): Promise<string> {
  return `http://127.0.0.1:${await freePort()}`;
}

/** The audit log of a container whose Audit table is down; its keeper is the runtime's real `Audit` queue unless `sqs` says otherwise. */
async function logWithTableDown(sqs: SQSClient = rt.sqs): Promise<AuditLog> {
  const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient(localClientConfig(await deadEndpoint())), { marshallOptions: { removeUndefinedValues: true } });
  return new AuditLog(rt.resources.tables.Audit, { client: () => dynamo, keeper: new AuditQueue(() => rt.resources.queues.Audit.url, () => sqs) });
}

const entriesOf = async (userKey: string, since: Date): Promise<AuditEntry[]> =>
  (await log.entries({ from: since })).filter((e) => e.userKey === userKey).sort((a, b) => a.time.localeCompare(b.time) || a.seq - b.seq);

async function chainEntries(chain: string): Promise<AuditEntry[]> {
  const entries: AuditEntry[] = [];
  for await (const entry of log.chain(chain)) entries.push(entry);
  return entries;
}

describe("audit entries written while the Audit table is down", () => {
  it("are kept, then appended once each by the drain, in the order they happened, marked late; the chain verifies and the report counts them", async () => {
    // Prepare
    const since = new Date();
    const userKey = userKeyOf("crisis");
    const action = actionOf("push");
    const down = await logWithTableDown();
    const telemetry = new CrisisTelemetry(down);

    // Act: crisis calls and other entries while the table is down; none of them fails its caller.
    for (let i = 1; i <= 4; i++) await telemetry.record({ route: "activate", userKey, outcome: "ok", latencyMs: i });
    await down.append({ actor: "device", action, userKey, outcome: "ok" });
    await down.append({ actor: "device", action, userKey, outcome: "ok", count: 2 });

    // Assess: only the queue had them; the runtime's drain appends them to the (working) table.
    const appended = await eventually(async () => {
      const found = await entriesOf(userKey, since);
      return found.length >= 6 ? found : undefined;
    });
    expect(appended.map((e) => [e.action, e.latencyMs ?? e.count ?? null])).toEqual([
      ["crisis.activate", 1], ["crisis.activate", 2], ["crisis.activate", 3], ["crisis.activate", 4], [action, null], [action, 2],
    ]);
    for (const entry of appended) {
      expect(entry.late).toBe(true);
      expect(entry.keptId).toMatch(/^[0-9a-f]{32}$/);
      expect(entry.occurredAt! <= entry.time).toBe(true);
    }
    const occurred = appended.map((e) => e.occurredAt!);
    expect(occurred).toEqual([...occurred].sort());
    expect(new Set(appended.map((e) => e.keptId)).size).toBe(6);

    for (const chain of new Set(appended.map((e) => e.chain))) {
      expect(verifyChain(chain, await chainEntries(chain))).toMatchObject({ ok: true });
    }

    const report = await buildComplianceReport(log, { from: since });
    const day = occurred[0]!.slice(0, 10);
    expect(report.summary.late.byDay[day]?.[action]).toBe(2);
    expect(report.summary.late.byDay[day]?.["crisis.activate"]).toBeGreaterThanOrEqual(4);
    expect(report.verification.broken.filter((b) => appended.some((e) => e.chain === b.chain))).toEqual([]);
    expect(formatComplianceReport(report)).toMatch(new RegExp(`${day}\\s+${action.replace(/\./g, "\\.")}\\s+2`));
  });

  it("a kept entry delivered twice is appended once; one whose failed write had landed after all is not appended again", async () => {
    // Prepare
    const since = new Date();
    const userKey = userKeyOf("twice");
    const kept = keepEntry({ actor: "job", action: actionOf("twice"), userKey, outcome: "ok" }, new Date().toISOString());
    await log.append({ actor: "job", action: actionOf("landed"), userKey, outcome: "ok" });
    const [landed] = await entriesOf(userKey, since);
    const landedKept = keepEntry({ actor: "job", action: landed!.action, userKey, outcome: "ok" }, landed!.time, landed);

    // Act
    const outcomes = [await log.appendKept(kept), await log.appendKept(kept), await log.appendKept(landedKept)];

    // Assess
    expect(outcomes).toEqual(["appended", "duplicate", "written_before"]);
    const entries = await entriesOf(userKey, since);
    expect(entries.filter((e) => e.keptId === kept.id)).toHaveLength(1);
    expect(entries.filter((e) => e.action === landed!.action)).toHaveLength(1);
  });

  it("while the drain cannot append either, the entry waits and is appended once the table is back", async () => {
    // Prepare
    const userKey = userKeyOf("drain-down");
    const kept = keepEntry({ actor: "device", action: actionOf("drain"), userKey, outcome: "ok" }, new Date().toISOString());
    const drainDown = await logWithTableDown();

    // Act / Assess
    await expect(drainDown.appendKept(kept)).rejects.toThrow();
    expect((await entriesOf(userKey, new Date(Date.now() - 60_000))).length).toBe(0);
    expect(await log.appendKept(kept)).toBe("appended");
  });

  it("when the queue is down too, a crisis call still completes and a plain append throws, as before (the one remaining gap)", async () => {
    // Prepare
    const since = new Date();
    const userKey = userKeyOf("both-down");
    const down = await logWithTableDown(new SQSClient(localClientConfig(await deadEndpoint())));

    // Act / Assess
    await expect(new CrisisTelemetry(down).record({ route: "activate", userKey, outcome: "ok", latencyMs: 5 })).resolves.toBeUndefined();
    await expect(down.append({ actor: "device", action: "sync.push", userKey, outcome: "ok" })).rejects.toThrow();
    expect(await entriesOf(userKey, since)).toEqual([]);
  });
});
