/**
 * Realtime pokes, the enforced pull interval and protocol versions, on the local runtime: the
 * WebSocket route and its management API run the same handlers and SDK client as in AWS.
 */
import { PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { connectionIdKey, connectionKey, connectionsPartition } from "@paysync/aws/store/keys";
import { eventually, useRuntime } from "../helpers/runtime.js";
import { FEED_START, makeOp, syncClient } from "../helpers/sync.js";

const rt = useRuntime();
const sync = syncClient(rt);
const open: WebSocket[] = [];

afterAll(() => {
  for (const socket of open) socket.terminate();
});

interface Socket {
  socket: WebSocket;
  pokes: unknown[];
}

/** Opens the realtime socket; resolves with it once open, or rejects with the refusal's status. */
function connect(token: string, deviceId: string): Promise<Socket> {
  const url = `${rt.baseUrl.replace(/^http/, "ws")}/v1/realtime?token=${encodeURIComponent(token)}&deviceId=${encodeURIComponent(deviceId)}`;
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    const pokes: unknown[] = [];
    socket.on("message", (data) => pokes.push(JSON.parse(String(data))));
    socket.once("open", () => {
      open.push(socket);
      resolve({ socket, pokes });
    });
    socket.once("unexpected-response", (_request, response) => reject(Object.assign(new Error("refused"), { status: response.statusCode })));
    socket.once("error", (error) => reject(error));
  });
}

const refusal = (attempt: Promise<Socket>) => attempt.then(() => "opened", (error: { status?: number }) => error.status ?? "error");

const connectionsOf = async (userKey: string) => (await rt.dynamo.send(new QueryCommand({
  TableName: rt.resources.tables.Connections, ConsistentRead: true,
  KeyConditionExpression: "pk = :pk", ExpressionAttributeValues: { ":pk": connectionsPartition(userKey) },
}))).Items ?? [];

describe("the realtime socket", () => {
  it("pokes a premium device when another device pushes; it pulls and sees the change", async () => {
    // Prepare
    const { token, userKey, devices } = await sync.user("poke", ["phone", "tablet"], "premium");
    const bootstrap = await sync.pull(token, devices.tablet!);
    const tablet = await connect(token, devices.tablet!);
    const op = makeOp({ entityType: "premium_content" });

    // Act
    await sync.push(token, devices.phone!, [op]);
    const poke = await eventually(async () => tablet.pokes[0], 20_000, 20);
    const pulled = await sync.pull(token, devices.tablet!, { cursor: bootstrap.json.cursor });

    // Assess
    expect(poke).toEqual({ type: "poke", priority: 7 });
    expect(pulled.status, pulled.text).toBe(200);
    expect(pulled.json.changes.map((c: any) => c.entityId)).toEqual([op.entityId]);
    expect(await connectionsOf(userKey)).toHaveLength(1);
  });

  it("refuses another user's device id exactly like a missing one, and a bad token with 401", async () => {
    // Prepare
    const mine = await sync.user("ws-mine", ["phone"]);
    const theirs = await sync.user("ws-theirs", ["phone"]);

    // Act
    const foreign = await refusal(connect(mine.token, theirs.devices.phone!));
    const missing = await refusal(connect(mine.token, "no-such-device"));
    const badToken = await refusal(connect(`${mine.token}x`, mine.devices.phone!));

    // Assess
    expect([foreign, missing, badToken]).toEqual([403, 403, 401]);
    expect(await connectionsOf(theirs.userKey)).toEqual([]);
    expect(await connectionsOf(mine.userKey)).toEqual([]);
  });

  it("pokes every other device of a free user when one activates crisis mode", async () => {
    // Prepare
    const { token, devices } = await sync.user("ws-crisis", ["phone", "tablet", "laptop"], "free");
    const [phone, tablet, laptop] = await Promise.all([connect(token, devices.phone!), connect(token, devices.tablet!), connect(token, devices.laptop!)]);

    // Act
    const response = await rt.request("POST", "/v1/crisis/activate", { token, body: { deviceId: devices.phone, level: "high", source: "button" } });
    const [tabletPoke, laptopPoke] = await Promise.all([tablet, laptop].map((s) => eventually(async () => s.pokes[0], 10_000, 20)));

    // Assess
    expect(response.status).toBe(200);
    expect([tabletPoke, laptopPoke]).toEqual([{ type: "poke", priority: 10 }, { type: "poke", priority: 10 }]);
    expect(phone.pokes).toEqual([]);
  });

  it("forgets a connection when the socket closes, and a stale one when a poke finds it gone", async () => {
    // Prepare
    const { token, userKey, devices } = await sync.user("ws-gone", ["phone", "tablet"], "free");
    const tablet = await connect(token, devices.tablet!);
    const stale = { userKey, deviceId: devices.tablet!, connectionId: "c2FpZC1nb29kYnll", connectedAtMs: Date.now(), expiresAt: Math.floor(Date.now() / 1000) + 3600 };
    await rt.dynamo.send(new PutCommand({ TableName: rt.resources.tables.Connections, Item: { ...connectionKey(userKey, devices.tablet!, stale.connectionId), ...stale } }));
    await rt.dynamo.send(new PutCommand({ TableName: rt.resources.tables.Connections, Item: { ...connectionIdKey(stale.connectionId), ...stale } }));

    // Act
    tablet.socket.close();
    await eventually(async () => ((await connectionsOf(userKey)).length === 1 ? true : undefined), 10_000, 20);
    await rt.request("POST", "/v1/crisis/activate", { token, body: { deviceId: devices.phone, level: "moderate", source: "button" } });

    // Assess
    await eventually(async () => ((await connectionsOf(userKey)).length === 0 ? true : undefined), 10_000, 20);
  });
});

describe("the pull interval", () => {
  it("answers 429 pull_interval with Retry-After before the tier's interval, and serves what cannot wait", async () => {
    // Prepare
    const { token, devices } = await sync.user("interval", ["phone", "tablet"], "basic");
    const first = await sync.pull(token, devices.tablet!, { cursor: FEED_START });

    // Act
    const early = await sync.pull(token, devices.tablet!, { cursor: first.json.cursor });
    await rt.request("PUT", "/v1/crisis/contacts", { token, headers: { "x-device-id": devices.phone! }, body: { contacts: [{ name: "Sam", phone: "+15555550100", relationship: "friend" }] } });
    const urgent = await sync.pull(token, devices.tablet!, { cursor: first.json.cursor });

    // Assess
    expect(first.status).toBe(200);
    expect(early.status).toBe(429);
    expect(early.json.error).toMatchObject({ code: "limit_exceeded", details: { limit: "pull_interval" } });
    expect(Number(early.headers.get("retry-after"))).toBeGreaterThan(10);
    expect(urgent.status, urgent.text).toBe(200);
    expect(urgent.json.changes.map((c: any) => [c.entityType, c.priority])).toEqual([["emergency_contacts", 10]]);
  });

  it("never throttles a bootstrap's pages or the page after one that said hasMore", async () => {
    // Prepare
    const { token, userKey, devices } = await sync.user("interval-pages", ["phone", "tablet", "laptop"], "basic");
    const ops = Array.from({ length: 5 }, () => makeOp());
    await sync.push(token, devices.phone!, ops);
    await sync.applied(userKey, ops.map((o) => o.opId));

    // Act
    const snapshot = await sync.pullFrom(token, devices.tablet!, undefined, 2);
    const feed = await sync.pullFrom(token, devices.laptop!, FEED_START, 1);

    // Assess
    expect(snapshot).toHaveLength(5);
    expect(snapshot.every((c) => c.snapshot === true)).toBe(true);
    expect(feed.map((c) => c.entityId).sort()).toEqual(ops.map((o) => o.entityId).sort());
  });
});

describe("protocol versions", () => {
  it.each([
    { header: "2", status: 426 },
    { header: "0", status: 426 },
    { header: "1", status: 200 },
    { header: undefined, status: 200 },
  ])("a device route answers $status to X-Paysync-Protocol $header", async ({ header, status }) => {
    // Prepare
    const token = await rt.token(`protocol-${Date.now()}-${Math.random().toString(36).slice(2, 6)}`);

    // Act
    const response = await rt.request("GET", "/v1/devices", { token, headers: header === undefined ? {} : { "x-paysync-protocol": header } });

    // Assess
    expect(response.status).toBe(status);
    if (status === 426) expect(response.json.error).toMatchObject({ code: "protocol_unsupported", details: { supported: { min: 1, max: 1 } } });
  });

  it("never refuses a version on the crisis routes, and /health states the range", async () => {
    // Prepare
    const token = await rt.token(`protocol-crisis-${Date.now()}`);

    // Act
    const crisis = await rt.request("GET", "/v1/crisis/resources", { token, headers: { "x-paysync-protocol": "99" } });
    const health = await rt.request("GET", "/health");

    // Assess
    expect(crisis.status).toBe(200);
    expect(health.json.protocol).toEqual({ min: 1, max: 1 });
  });
});
