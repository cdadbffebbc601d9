import { GetQueueAttributesCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { GetCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import { pseudonymousKey } from "@paysync/core/pii";
import type { SyncOpMessage } from "@paysync/core/sync/op-message";
import { eventually, useRuntime } from "../helpers/runtime.js";
import { entityKey, feedPartition } from "@paysync/aws/store/keys";

const rt = useRuntime();
const userKeyOf = (userId: string) => pseudonymousKey(rt.secrets.pseudonymSecret, userId, "u");

async function registerDevices(userId: string, deviceIds: string[]) {
  const token = await rt.token(userId);
  for (const deviceId of deviceIds) {
    const response = await rt.request("POST", "/v1/devices", { token, body: { deviceId, platform: "ios" } });
    expect(response.status).toBe(201);
  }
  return token;
}

async function opMessage(userId: string, overrides: Partial<SyncOpMessage>): Promise<SyncOpMessage> {
  const userKey = userKeyOf(userId);
  const entityType = overrides.entityType ?? "check_in";
  return {
    v: 1, userKey, deviceId: "phone", devicePriority: 0, opId: `op-${Math.random().toString(36).slice(2)}`,
    entityType, entityId: "e1", action: "upsert", baseVersion: 0, clientTime: new Date().toISOString(),
    priority: 4, payloadCipher: await rt.cipher().encrypt({ note: "slept well" }, { userKey, entityType }),
    conflictResolution: "automatic", crossDeviceSync: true, enqueuedAtMs: Date.now(), ...overrides,
  };
}

async function sendToLane(lane: "Standard" | "Realtime", message: SyncOpMessage | string, groupId: string, dedupId: string) {
  await rt.sqs.send(new SendMessageCommand({
    QueueUrl: rt.resources.queues[lane].url,
    MessageBody: typeof message === "string" ? message : JSON.stringify(message),
    MessageGroupId: groupId,
    MessageDeduplicationId: dedupId,
  }));
}

describe("the local runtime", () => {
  it("reports every dependency reachable on /health without a token", async () => {
    // Act
    const response = await rt.request("GET", "/health");

    // Assess
    expect(response.status).toBe(200);
    expect(response.json.status).toBe("ok");
    expect(Object.keys(response.json.dependencies.dynamodb)).toEqual(["Sync", "Payments", "Audit", "Connections"]);
    expect(Object.values(response.json.dependencies.sqs).every((c: any) => c.ok)).toBe(true);
    expect(response.json.dependencies.kms.ok).toBe(true);
  });

  it.each([
    ["no token", undefined],
    ["a malformed token", "not-a-jwt"],
    ["a token signed with another secret", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.3hS1Xn2x2y1qkqQe3l9D1yC9t2Yb1wEJ8s0pXx7k4mA"],
  ])("rejects a /v1 request with %s as 401", async (_case, token) => {
    // Act
    const response = await rt.request("GET", "/v1/devices", token ? { headers: { authorization: `Bearer ${token}` } } : {});

    // Assess
    expect(response.status).toBe(401);
  });

  it("applies an op sent through a FIFO lane and fans it out to the user's other devices only", async () => {
    // Prepare
    const userId = `user-${Date.now()}-lane`;
    await registerDevices(userId, ["phone", "tablet"]);
    const message = await opMessage(userId, { entityId: "checkin-1" });

    // Act
    await sendToLane("Standard", message, `${message.userKey}#0`, message.opId);

    // Assess
    const entity = await eventually(async () => (await rt.dynamo.send(new GetCommand({
      TableName: rt.resources.tables.Sync, Key: entityKey(message.userKey, "check_in", "checkin-1"),
    }))).Item);
    expect(entity.version).toBe(1);
    expect(entity.payloadCipher).toBe(message.payloadCipher);
    const feedOf = async (deviceId: string) => (await rt.dynamo.send(new QueryCommand({
      TableName: rt.resources.tables.Sync, KeyConditionExpression: "pk = :pk",
      ExpressionAttributeValues: { ":pk": feedPartition(message.userKey, deviceId) },
    }))).Items ?? [];
    expect((await feedOf("tablet")).map((c) => [c.entityId, c.version, c.originDeviceId])).toEqual([["checkin-1", 1, "phone"]]);
    expect(await feedOf("phone")).toEqual([]);
  });

  it("moves a message that always fails to the lane's DLQ without blocking other groups", async () => {
    // Prepare
    const userId = `user-${Date.now()}-poison`;
    await registerDevices(userId, ["phone-2"]);
    const good = await opMessage(userId, { entityId: "after-poison", deviceId: "phone-2" });

    // Act
    await sendToLane("Realtime", "{ not json", "poison-group", `poison-${Date.now()}`);
    await sendToLane("Realtime", good, `${good.userKey}#1`, good.opId);

    // Assess
    await eventually(async () => (await rt.dynamo.send(new GetCommand({
      TableName: rt.resources.tables.Sync, Key: entityKey(good.userKey, "check_in", "after-poison"),
    }))).Item);
    const dlqDepth = await eventually(async () => {
      const { Attributes } = await rt.sqs.send(new GetQueueAttributesCommand({
        QueueUrl: rt.resources.queues.Realtime.dlqUrl, AttributeNames: ["ApproximateNumberOfMessages"],
      }));
      const depth = Number(Attributes?.ApproximateNumberOfMessages ?? 0);
      return depth > 0 ? depth : undefined;
    }, 45_000);
    expect(dlqDepth).toBe(1);
  });
});

describe("devices", () => {
  it("caps a user at 20 devices and frees a slot when one is removed", async () => {
    // Prepare
    const token = await rt.token(`user-${Date.now()}-cap`);
    for (let i = 0; i < 20; i++) {
      expect((await rt.request("POST", "/v1/devices", { token, body: { deviceId: `cap-${i}`, platform: "android" } })).status).toBe(201);
    }

    // Act
    const refused = await rt.request("POST", "/v1/devices", { token, body: { deviceId: "cap-20", platform: "android" } });
    const reRegistered = await rt.request("POST", "/v1/devices", { token, body: { deviceId: "cap-3", platform: "web" } });
    const removed = await rt.request("DELETE", "/v1/devices/cap-0", { token });
    const accepted = await rt.request("POST", "/v1/devices", { token, body: { deviceId: "cap-20", platform: "android" } });

    // Assess
    expect(refused.status).toBe(409);
    expect(refused.json.error.details).toEqual({ limit: 20 });
    expect(reRegistered.status).toBe(200);
    expect(removed.status).toBe(204);
    expect(accepted.status).toBe(201);
    expect((await rt.request("GET", "/v1/devices", { token })).json.devices).toHaveLength(20);
  });

  it("lets two users name a device alike without either seeing the other's", async () => {
    // Prepare
    const first = await rt.token(`user-${Date.now()}-ns1`);
    const second = await rt.token(`user-${Date.now()}-ns2`);

    // Act
    const a = await rt.request("POST", "/v1/devices", { token: first, body: { deviceId: "shared-name", platform: "ios" } });
    const b = await rt.request("POST", "/v1/devices", { token: second, body: { deviceId: "shared-name", platform: "web" } });

    // Assess
    expect([a.status, b.status]).toEqual([201, 201]);
    expect((await rt.request("GET", "/v1/devices", { token: first })).json.devices.map((d: any) => d.platform)).toEqual(["ios"]);
    expect((await rt.request("GET", "/v1/devices", { token: second })).json.devices.map((d: any) => d.platform)).toEqual(["web"]);
  });
});
