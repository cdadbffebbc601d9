import { SendMessageBatchCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import Stripe from "stripe";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { lambdaContext } from "@paysync/local/handlers";
import { DEVICE_CHOSEN, PII, recordPii } from "../helpers/pii-fixtures.js";
import { eventually, scanAll, useRuntime } from "../helpers/runtime.js";
import { checkoutCompletedEvent } from "../helpers/stripe-factories.js";
import { makeOp, syncClient } from "../helpers/sync.js";

/**
 * Cross-cutting privacy checks (SPEC.md §5): what the handlers put on the queues and in the
 * tables, looked at raw. Markers stand for therapeutic text; PII values come from the shared
 * fixtures, so the suite-wide check looks for them too.
 */
const rt = useRuntime();
const sync = syncClient(rt);
const MARKER = "MARKER-privacy-note";
type Handler = (event: APIGatewayProxyEventV2WithJWTAuthorizer, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;
let push: Handler;
let webhook: Handler;

beforeAll(async () => {
  Object.assign(process.env, rt.handlerEnv());
  push = (await import("../../functions/http/sync-push.js")).handler as unknown as Handler;
  webhook = (await import("../../functions/http/stripe-webhook.js")).handler as unknown as Handler;
});
afterEach(() => vi.restoreAllMocks());

/** Every message the handlers in this process send, as SQS receives it; sending still happens. */
function captureQueue() {
  const sent: Array<{ group?: string; dedup?: string; attributes?: unknown; body?: string }> = [];
  const send = SQSClient.prototype.send;
  vi.spyOn(SQSClient.prototype, "send").mockImplementation(function (this: SQSClient, command: any, ...rest: any[]) {
    if (command instanceof SendMessageCommand) {
      const i = command.input;
      sent.push({ group: i.MessageGroupId, dedup: i.MessageDeduplicationId, attributes: i.MessageAttributes, body: i.MessageBody });
    }
    if (command instanceof SendMessageBatchCommand) {
      for (const e of command.input.Entries ?? []) sent.push({ group: e.MessageGroupId, dedup: e.MessageDeduplicationId, attributes: e.MessageAttributes, body: e.MessageBody });
    }
    return Reflect.apply(send, this, [command, ...rest]);
  } as typeof send);
  return sent;
}

function httpEvent(routeKey: string, body: string, headers: Record<string, string>, sub?: string): APIGatewayProxyEventV2WithJWTAuthorizer {
  const [method, path] = routeKey.split(" ") as [string, string];
  return {
    version: "2.0", routeKey, rawPath: path, rawQueryString: "", headers: { "content-type": "application/json", ...headers }, body, isBase64Encoded: false,
    requestContext: {
      accountId: "000000000000", apiId: "local", domainName: "localhost", domainPrefix: "local",
      http: { method, path, protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "test" },
      requestId: `req-${Date.now()}`, routeKey, stage: "$default", time: "", timeEpoch: Date.now(),
      authorizer: { principalId: "", integrationLatency: 0, jwt: { claims: sub ? { sub } : {}, scopes: [] } },
    },
  };
}

const secretsIn = (text: string | undefined, values: string[]) => values.filter((v) => (text ?? "").includes(v));

describe("queued messages", () => {
  it.each(["premium", "free"] as const)("a %s user's queued op has the user key as its group and no plaintext in its body", async (tier) => {
    // Prepare
    const user = await sync.user(`privacy-${tier}`, ["phone", "tablet"], tier);
    const op = makeOp({ entityType: "mood_entry", payload: { note: `${MARKER} ${PII.email}`, contact: PII.contactName } });
    const sent = captureQueue();

    // Act
    const response = await push(httpEvent("POST /v1/sync/push", JSON.stringify({ ops: [op] }), { "x-device-id": user.devices.phone! }, user.userId), lambdaContext("SyncPush"));

    // Assess
    expect(response.statusCode).toBe(200);
    expect(sent.length).toBeGreaterThanOrEqual(1);
    for (const message of sent) {
      expect(message.group).toMatch(new RegExp(`^${user.userKey}#\\d+$`));
      expect(secretsIn(JSON.stringify([message.group, message.dedup, message.attributes]), [user.userId, PII.email])).toEqual([]);
      expect(secretsIn(message.body, [MARKER, PII.email, PII.contactName, user.userId])).toEqual([]);
    }
  });

  it("a Stripe event is queued under the customer key, without the customer id, email or user id", async () => {
    // Prepare
    const customer = `cus_Priv${Date.now().toString(36)}`;
    const userId = `privacy-payer-${Date.now().toString(36)}`;
    recordPii(userId);
    const event = checkoutCompletedEvent({ customer, clientReferenceId: userId, created: Math.floor(Date.now() / 1000), id: `evt_priv_${Date.now()}` });
    (event.data.object as Record<string, unknown>).customer_details = { email: PII.email, name: PII.secondContactName, phone: PII.phone };
    const payload = JSON.stringify(event);
    const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret: rt.secrets.stripeWebhookSecret });
    const sent = captureQueue();

    // Act
    const response = await webhook(httpEvent("POST /webhooks/stripe", payload, { "stripe-signature": signature }), lambdaContext("StripeWebhook"));

    // Assess
    expect(response.statusCode).toBe(200);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.group).toMatch(/^c_[0-9a-f]{32}$/);
    expect(secretsIn(JSON.stringify(sent[0]), [customer, userId, PII.email, PII.secondContactName, PII.phone])).toEqual([]);
  });
});

describe("stored items, read raw", () => {
  it("entities, history, feeds, crisis data and handoff snapshots hold ciphertext only", async () => {
    // Prepare
    const user = await sync.user("privacy-store", ["phone", "tablet"], "premium");
    const note = makeOp({ entityType: "mood_entry", payload: { note: `${MARKER} ${PII.email}` } });
    const headers = { "x-device-id": user.devices.phone! };

    // Act
    await rt.request("POST", "/v1/sync/push", { token: user.token, body: { ops: [note] }, headers });
    await rt.request("PUT", "/v1/crisis/contacts", { token: user.token, body: { contacts: [{ name: PII.contactName, phone: PII.phone }] }, headers });
    await rt.request("PUT", "/v1/crisis/safety-plan", { token: user.token, body: { reasonsForLiving: [MARKER] }, headers });
    const handoff = await rt.request("POST", "/v1/sessions/s-privacy/handoff", {
      token: user.token, body: { fromDeviceId: user.devices.phone, toDeviceId: user.devices.tablet, snapshot: { step: 3, text: MARKER } },
    });
    const items = await eventually(async () => {
      const Items = await scanAll(rt.dynamo, { TableName: rt.resources.tables.Sync, ConsistentRead: true, FilterExpression: "contains(pk, :u)", ExpressionAttributeValues: { ":u": user.userKey } });
      return Items.some((i) => JSON.stringify(i).includes(note.entityId)) ? Items : undefined;
    }, 30_000);

    // Assess
    expect(handoff.status).toBe(200);
    const raw = JSON.stringify(items);
    expect(secretsIn(raw, [MARKER, PII.email, PII.contactName, PII.phone, user.userId])).toEqual([]);
    expect(items.length).toBeGreaterThanOrEqual(5);
    expect(raw).not.toMatch(/"(note|reasonsForLiving|contacts|snapshot|text)":/);
  });

  it("the audit trail of these calls names the user by key only", async () => {
    // Act
    const Items = await scanAll(rt.dynamo, { TableName: rt.resources.tables.Audit, ConsistentRead: true });

    // Assess
    const raw = JSON.stringify(Items);
    expect(raw).toMatch(/"userKey":"u_[0-9a-f]{32}"/);
    expect(secretsIn(raw, [MARKER, PII.email, PII.contactName, PII.phone])).toEqual([]);
    expect(raw).not.toMatch(/privacy-(premium|free|store|payer)-/);
  });
});

describe("ids a device chooses", () => {
  it("a device and an entity named after their owner appear in no table key, only inside items", async () => {
    // Prepare
    const user = await sync.user("privacy-names", ["tablet"], "premium");
    const registered = await rt.request("POST", "/v1/devices", { token: user.token, body: { deviceId: DEVICE_CHOSEN.deviceId, platform: "ios" } });
    const journal = makeOp({ entityType: "mood_entry", entityId: DEVICE_CHOSEN.entityId, payload: { note: MARKER } });
    const session = makeOp({ entityType: "therapeutic_session", entityId: DEVICE_CHOSEN.entityId, payload: { step: 1 } });

    // Act
    const pushed = await sync.push(user.token, DEVICE_CHOSEN.deviceId, [journal, session]);
    await sync.applied(user.userKey, [journal.opId, session.opId]);
    const pulled = await sync.pullAll(user.token, user.devices.tablet!);
    const items = await scanAll(rt.dynamo, { TableName: rt.resources.tables.Sync, ConsistentRead: true, FilterExpression: "contains(pk, :u)", ExpressionAttributeValues: { ":u": user.userKey } });

    // Assess
    expect(registered.status).toBe(201);
    expect(pushed.status).toBe(200);
    expect(pulled.map((c) => c.entityId)).toContain(DEVICE_CHOSEN.entityId);
    const keys = items.map((i) => `${String(i.pk)} ${String(i.sk)}`).join("\n");
    expect(secretsIn(keys, [DEVICE_CHOSEN.deviceId, DEVICE_CHOSEN.entityId, "janedoe"])).toEqual([]);
    // The ids are still there, inside the items: the device gets its own id and entity back.
    expect(items.some((i) => i.deviceId === DEVICE_CHOSEN.deviceId)).toBe(true);
    expect(items.some((i) => i.entityId === DEVICE_CHOSEN.entityId)).toBe(true);
    expect(keys).toMatch(/FEED#u_[0-9a-f]{32}#d_[0-9a-f]{32}/);
  });
});
