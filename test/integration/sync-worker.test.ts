import type { Context, SQSBatchResponse, SQSRecord } from "aws-lambda";
import { beforeAll, describe, expect, it } from "vitest";
import type { OpApplier } from "@paysync/aws/sync/op-applier";
import type { SyncOpMessage } from "@paysync/core/sync/op-message";
import type { UsageLimits } from "@paysync/aws/store/usage-limits";
import { policyFor } from "@paysync/core/tiers";
import { useRuntime } from "../helpers/runtime.js";
import { syncClient } from "../helpers/sync.js";

const rt = useRuntime();
const sync = syncClient(rt);

let createSyncWorker: typeof import("../../functions/workers/sync-worker.js").createSyncWorker;
let applier: OpApplier;
let limits: UsageLimits;
let telemetry: import("@paysync/aws/sync/sync-telemetry").SyncTelemetry;

beforeAll(async () => {
  // The worker handler runs in this process, against the same emulators, so faults can be injected.
  Object.assign(process.env, rt.handlerEnv());
  ({ createSyncWorker } = await import("../../functions/workers/sync-worker.js"));
  const { wiring } = await import("@paysync/aws/wiring");
  applier = wiring.opApplier();
  limits = wiring.limits();
  telemetry = wiring.syncTelemetry();
});

const context = { functionName: "sync-worker-test", getRemainingTimeInMillis: () => 30_000 } as unknown as Context;

function record(message: SyncOpMessage, groupId: string, receiveCount = 1): SQSRecord {
  return {
    messageId: `m-${message.opId}`, receiptHandle: `r-${message.opId}`, body: JSON.stringify(message),
    attributes: {
      ApproximateReceiveCount: String(receiveCount), SentTimestamp: String(Date.now()), SenderId: "test",
      ApproximateFirstReceiveTimestamp: String(Date.now()), MessageGroupId: groupId, MessageDeduplicationId: message.opId,
    },
    messageAttributes: {}, md5OfBody: "", eventSource: "aws:sqs", eventSourceARN: "arn:aws:sqs:us-east-1:000000000000:standard.fifo", awsRegion: "us-east-1",
  };
}

type Fault = "before_commit" | "after_commit";

/** The real applier, failing once per faulty op: before its transaction, or after it committed (a crash before the ack). */
function faultyApplier(faults: Map<string, Fault>) {
  return {
    async apply(op: SyncOpMessage) {
      const fault = faults.get(op.opId);
      faults.delete(op.opId);
      if (fault === "before_commit") throw new Error("injected fault before commit");
      const result = await applier.apply(op);
      if (fault === "after_commit") throw new Error("injected crash after commit");
      return result;
    },
  };
}

describe("a sync worker failing mid-batch", () => {
  it("retries the failed message groups without applying anything twice or out of order", async () => {
    // Prepare
    const { token, userKey, devices } = await sync.user("worker-fault", ["phone", "tablet"], "basic");
    const message = (opId: string, entityId: string, baseVersion = 0): SyncOpMessage => ({
      v: 1, userKey, deviceId: devices.phone!, devicePriority: 0, opId, entityType: "check_in", entityId, action: "upsert",
      baseVersion, clientTime: new Date().toISOString(), priority: 4, payloadCipher: null, conflictResolution: "automatic",
      crossDeviceSync: true, enqueuedAtMs: Date.now(), pendingSlot: true,
    });
    const suffix = Date.now().toString(36);
    const ops = {
      a1: message(`a1-${suffix}`, "A"), b1: message(`b1-${suffix}`, "B"), b2: message(`b2-${suffix}`, "B", 1), c1: message(`c1-${suffix}`, "C"),
    };
    for (const op of Object.values(ops)) op.payloadCipher = await rt.cipher().encrypt({ opId: op.opId }, { userKey, entityType: "check_in" });
    await limits.reservePending(userKey, Object.values(ops).map((o) => o.opId), policyFor("basic"), new Date());
    const worker = createSyncWorker(faultyApplier(new Map<string, Fault>([[ops.b1.opId, "after_commit"], [ops.c1.opId, "before_commit"]])), telemetry);
    const batch = [record(ops.a1, `${userKey}#0`), record(ops.b1, `${userKey}#1`), record(ops.b2, `${userKey}#1`), record(ops.c1, `${userKey}#2`)];

    // Act
    const first = (await worker({ Records: batch }, context)) as SQSBatchResponse;
    const failedIds = new Set(first.batchItemFailures.map((f) => f.itemIdentifier));
    const redelivered = batch.filter((r) => failedIds.has(r.messageId)).map((r) => ({ ...r, attributes: { ...r.attributes, ApproximateReceiveCount: "2" } }));
    const second = (await worker({ Records: redelivered }, context)) as SQSBatchResponse;
    const records = await sync.applied(userKey, Object.values(ops).map((o) => o.opId));
    const tabletSees = await sync.pullAll(token, devices.tablet!);

    // Assess
    expect([...failedIds]).toEqual([ops.b1, ops.b2, ops.c1].map((o) => `m-${o.opId}`));
    expect(second.batchItemFailures).toEqual([]);
    // Message groups apply concurrently: order holds within a group (B: b1 then b2), not across groups.
    const seen = tabletSees.map((c) => [c.payload.opId, c.entityId, c.version]);
    expect([...seen].sort((x, y) => String(x[1]).localeCompare(String(y[1])) || Number(x[2]) - Number(y[2]))).toEqual([
      [ops.a1.opId, "A", 1], [ops.b1.opId, "B", 1], [ops.b2.opId, "B", 2], [ops.c1.opId, "C", 1],
    ]);
    expect(seen.filter((c) => c[1] === "B").map((c) => c[0])).toEqual([ops.b1.opId, ops.b2.opId]);
    expect([...records.values()].map((r) => r.outcome)).toEqual(["applied", "applied", "applied", "applied"]);
    expect(await sync.pendingCount(userKey)).toBe(0);
  });
});
