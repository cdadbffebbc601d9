import { GetQueueAttributesCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { beforeAll, describe, expect, it } from "vitest";
import { pseudonymousKey } from "@paysync/core/pii";
import type { SyncOpMessage } from "@paysync/core/sync/op-message";
import { eventually, useRuntime } from "../helpers/runtime.js";
import { entityKey } from "@paysync/aws/store/keys";

const rt = useRuntime();
let handler: typeof import("../../functions/jobs/dlq-redrive.js").handler;
let MAX_REDRIVES: number;
let REDRIVE_ATTRIBUTE: string;

beforeAll(async () => {
  Object.assign(process.env, rt.handlerEnv());
  ({ handler } = await import("../../functions/jobs/dlq-redrive.js"));
  ({ MAX_REDRIVES, REDRIVE_ATTRIBUTE } = await import("@paysync/aws/jobs/dlq-redrive"));
});

const context = { getRemainingTimeInMillis: () => 900_000 } as any;
const scheduled = (time: string) => ({ time }) as any;

async function deadLetter(userId: string, entityId: string, redrives: number) {
  const userKey = pseudonymousKey(rt.secrets.pseudonymSecret, userId, "u");
  const message: SyncOpMessage = {
    v: 1, userKey, deviceId: `${entityId}-dev`, devicePriority: 0, opId: `op-${entityId}`, entityType: "check_in", entityId,
    action: "upsert", baseVersion: 0, clientTime: new Date().toISOString(), priority: 4,
    payloadCipher: await rt.cipher().encrypt({ mood: "ok" }, { userKey, entityType: "check_in" }),
    conflictResolution: "automatic", crossDeviceSync: true, enqueuedAtMs: Date.now(),
  };
  await rt.sqs.send(new SendMessageCommand({
    QueueUrl: rt.resources.queues.Standard.dlqUrl, MessageBody: JSON.stringify(message),
    MessageGroupId: `${userKey}#0`, MessageDeduplicationId: `dead-${entityId}`,
    MessageAttributes: redrives > 0 ? { [REDRIVE_ATTRIBUTE]: { DataType: "Number", StringValue: String(redrives) } } : {},
  }));
  return { userKey, message };
}

const entity = (userKey: string, entityId: string) =>
  rt.dynamo.send(new GetCommand({ TableName: rt.resources.tables.Sync, Key: entityKey(userKey, "check_in", entityId) }));

describe("DLQ redrive job", () => {
  it("sends a dead-lettered op back to its lane, where it applies once, and keeps one redriven too often", async () => {
    // Prepare
    const stamp = Date.now();
    const revived = await deadLetter(`redrive-a-${stamp}`, `revive-${stamp}`, 0);
    const exhausted = await deadLetter(`redrive-b-${stamp}`, `exhausted-${stamp}`, MAX_REDRIVES);

    // Act
    const first = await handler(scheduled(new Date(stamp).toISOString()), context);
    const repeat = await handler(scheduled(new Date(stamp).toISOString()), context);

    // Assess
    expect(first.status).toBe("completed");
    expect(repeat).toEqual({ status: "already_completed" });
    const applied = await eventually(async () => (await entity(revived.userKey, revived.message.entityId)).Item);
    expect(applied.version).toBe(1);
    expect((await entity(exhausted.userKey, exhausted.message.entityId)).Item).toBeUndefined();
    const { Attributes } = await rt.sqs.send(new GetQueueAttributesCommand({
      QueueUrl: rt.resources.queues.Standard.dlqUrl, AttributeNames: ["ApproximateNumberOfMessagesNotVisible"],
    }));
    expect(Number(Attributes?.ApproximateNumberOfMessagesNotVisible)).toBeGreaterThanOrEqual(1);
  });
});
