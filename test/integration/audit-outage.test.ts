import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreateQueueCommand, DeleteMessageCommand, ReceiveMessageCommand, SQSClient, type Message } from "@aws-sdk/client-sqs";
import type { Context, SQSBatchResponse, SQSRecord } from "aws-lambda";
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
let createAuditDrain: typeof import("../../functions/workers/audit-drain.js").createAuditDrain;

beforeAll(async () => {
  Object.assign(process.env, rt.handlerEnv());
  log = (await import("@paysync/aws/wiring")).wiring.audit();
  ({ createAuditDrain } = await import("../../functions/workers/audit-drain.js"));
});

const context = { functionName: "audit-drain-test", getRemainingTimeInMillis: () => 30_000 } as unknown as Context;

/** A received message as Lambda's SQS event source hands it to the drain. */
function toRecord(message: Message): SQSRecord {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId!, receiptHandle: message.ReceiptHandle!, body: message.Body!,
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? "1", SentTimestamp: attributes.SentTimestamp ?? "0", SenderId: "test",
      ApproximateFirstReceiveTimestamp: "0", MessageGroupId: attributes.MessageGroupId!, MessageDeduplicationId: attributes.MessageDeduplicationId!,
    },
    messageAttributes: {}, md5OfBody: "", eventSource: "aws:sqs", eventSourceARN: "arn:aws:sqs:us-east-1:000000000000:audit-test.fifo", awsRegion: "us-east-1",
  };
}

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

  it("wait in the queue, a group per chain and deduplicated by entry id; the drain fails them while the table is down, then appends each once", async () => {
    // Prepare: a queue of the test's own, so nothing drains it behind the test's back.
    const { QueueUrl } = await rt.sqs.send(new CreateQueueCommand({ QueueName: `audit-outage-${Date.now()}.fifo`, Attributes: { FifoQueue: "true" } }));
    const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient(localClientConfig(await deadEndpoint())));
    const down = new AuditLog(rt.resources.tables.Audit, { client: () => dynamo, keeper: new AuditQueue(() => QueueUrl!, () => rt.sqs) });
    const since = new Date();
    const userKey = userKeyOf("queued");
    const actions = [actionOf("q1"), actionOf("q2"), actionOf("q3")];

    // Act
    for (const action of actions) await down.append({ actor: "device", action, userKey, outcome: "ok" });
    // A FIFO group hands out its next message only once the one before is done: take them one by one.
    const Messages: Message[] = [];
    for (let receives = 0; Messages.length < actions.length && receives < 20; receives++) {
      const received = (await rt.sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageSystemAttributeNames: ["All"] }))).Messages ?? [];
      for (const message of received) await rt.sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: message.ReceiptHandle }));
      Messages.push(...received);
    }
    const records = Messages.map(toRecord);
    const whileDown = (await createAuditDrain(down)({ Records: records }, context).catch((error: unknown) => error)) as unknown;
    const first = (await createAuditDrain(log)({ Records: records }, context)) as SQSBatchResponse;
    const again = (await createAuditDrain(log)({ Records: records }, context)) as SQSBatchResponse;

    // Assess
    const bodies = Messages.map((m) => JSON.parse(m.Body!) as { id: string; record: { action: string } });
    expect(bodies.map((b) => b.record.action)).toEqual(actions);
    expect(new Set(Messages.map((m) => m.Attributes!.MessageGroupId)).size).toBe(1);
    expect(Messages.map((m) => m.Attributes!.MessageDeduplicationId)).toEqual(bodies.map((b) => b.id));
    expect(Messages[0]!.Attributes!.MessageGroupId).toMatch(/^\d{4}-\d{2}-\d{2}\.[0-9a-f]{16}$/);
    expect(whileDown).toBeInstanceOf(Error); // every record failed: the whole batch returns to the queue
    expect(first.batchItemFailures).toEqual([]);
    expect(again.batchItemFailures).toEqual([]);
    const entries = await entriesOf(userKey, since);
    expect(entries.map((e) => [e.action, e.late])).toEqual(actions.map((a) => [a, true]));
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
