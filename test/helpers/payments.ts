import { randomBytes } from "node:crypto";
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { GetCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import Stripe from "stripe";
import { expect } from "vitest";
import { pseudonymousKey } from "@paysync/core/pii";
import type { StripeEventObject } from "./stripe-factories.js";
import type { useRuntime } from "./runtime.js";
import { customerLinkKey, feedPartition, parkedPartition, paymentStateKey, stripeEventKey, type TableKey } from "@paysync/aws/store/keys";

type Runtime = ReturnType<typeof useRuntime>;

/** Ids unique across test files and runs (the factories' own counter restarts in every file). */
export function uid(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}${randomBytes(4).toString("hex")}`;
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

export interface SignOptions {
  /** Sign with another secret (a forgery). */
  secret?: string;
  /** Signature timestamp, epoch seconds (a stale one is a replay). */
  timestamp?: number;
  /** Replace the header altogether; `null` sends none. */
  header?: string | null;
}

/**
 * Stripe as the tests see it: signs events with the runtime's webhook secret through the
 * `stripe` package's test helper, posts them through the gateway, and reads what the payment
 * flow stored, raw, from the emulators.
 */
export function paymentsHarness(rt: Runtime) {
  const userKeyOf = (userId: string) => pseudonymousKey(rt.secrets.pseudonymSecret, userId, "u");
  const customerKeyOf = (customerId: string) => pseudonymousKey(rt.secrets.pseudonymSecret, customerId, "c");
  const get = async ({ pk, sk }: TableKey) =>
    (await rt.dynamo.send(new GetCommand({ TableName: rt.resources.tables.Payments, Key: { pk, sk }, ConsistentRead: true }))).Item;
  const query = async (table: string, pk: string) =>
    (await rt.dynamo.send(new QueryCommand({
      TableName: table, KeyConditionExpression: "pk = :pk", ExpressionAttributeValues: { ":pk": pk }, ConsistentRead: true,
    }))).Items ?? [];

  async function post(event: StripeEventObject | string, options: SignOptions = {}) {
    const payload = typeof event === "string" ? event : JSON.stringify(event, null, 2);
    const header = options.header !== undefined
      ? options.header
      : Stripe.webhooks.generateTestHeaderString({
          payload,
          secret: options.secret ?? rt.secrets.stripeWebhookSecret,
          ...(options.timestamp !== undefined ? { timestamp: options.timestamp } : {}),
        });
    return rt.request("POST", "/webhooks/stripe", {
      body: payload,
      headers: header === null ? {} : { "stripe-signature": header },
    });
  }

  /** Posts events one after another, each expected to be acknowledged. */
  async function deliver(...events: StripeEventObject[]) {
    for (const event of events) {
      const response = await post(event);
      expect(response.status, response.text).toBe(200);
    }
  }

  /** The Webhooks lane is empty and nothing is in flight: every message sent so far was processed. */
  async function laneDrained(timeoutMs = 20_000) {
    const depth = async () => {
      const { Attributes } = await rt.sqs.send(new GetQueueAttributesCommand({
        QueueUrl: rt.resources.queues.Webhooks.url,
        AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
      }));
      return Number(Attributes?.ApproximateNumberOfMessages ?? 0) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
    };
    const deadline = Date.now() + timeoutMs;
    let quiet = 0;
    while (quiet < 2) {
      if (Date.now() > deadline) throw new Error("the Webhooks lane did not drain");
      quiet = (await depth()) === 0 ? quiet + 1 : 0;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async function entitlements(userId: string) {
    const response = await rt.request("GET", "/v1/me/entitlements", { token: await rt.token(userId) });
    expect(response.status, response.text).toBe(200);
    return response.json;
  }

  async function registerDevices(userId: string, deviceIds: string[]) {
    const token = await rt.token(userId);
    for (const deviceId of deviceIds) {
      const response = await rt.request("POST", "/v1/devices", { token, body: { deviceId, platform: "ios" } });
      expect(response.status, response.text).toBe(201);
    }
  }

  /** A device's feed entries, payloads decrypted. */
  async function feedOf(userId: string, deviceId: string) {
    const userKey = userKeyOf(userId);
    const items = await query(rt.resources.tables.Sync, feedPartition(userKey, deviceId));
    const cipher = rt.cipher();
    return Promise.all(items.map(async (item) => ({
      entityType: item.entityType as string,
      entityId: item.entityId as string,
      version: item.version as number,
      priority: item.priority as number,
      originDeviceId: item.originDeviceId as string,
      payload: item.payloadCipher ? await cipher.decrypt(item.payloadCipher as string, { userKey, entityType: item.entityType as string }) : null,
    })));
  }

  return {
    post,
    deliver,
    laneDrained,
    entitlements,
    registerDevices,
    feedOf,
    userKeyOf,
    customerKeyOf,
    storedState: (userId: string) => get(paymentStateKey(userKeyOf(userId))),
    eventRecord: (eventId: string) => get(stripeEventKey(eventId)),
    customerLink: (customerId: string) => get(customerLinkKey(customerKeyOf(customerId))),
    parked: (customerId: string) => query(rt.resources.tables.Payments, parkedPartition(customerKeyOf(customerId))),
  };
}
