import { BatchGetCommand, GetCommand, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { expect } from "vitest";
import { pseudonymousKey } from "@paysync/core/pii";
import { encodeCursor } from "@paysync/core/sync/cursor";
import type { Tier } from "@paysync/core/tiers";
import { eventually, type useRuntime } from "./runtime.js";
import { entityKey, feedPartition, opIdOfRecord, opRecordKey, paymentStateKey, pendingCountKey, type TableKey } from "@paysync/aws/store/keys";

type Runtime = ReturnType<typeof useRuntime>;

/** A feed cursor before the first change: the device's whole feed, without a bootstrap. */
export const FEED_START = encodeCursor(0);

export interface WireOp {
  opId: string;
  entityType: string;
  entityId: string;
  action: "upsert" | "delete";
  baseVersion: number;
  payload?: unknown;
  clientTime: string;
}

let counter = 0;
const unique = (label: string) => `${label}-${Date.now().toString(36)}-${(++counter).toString(36)}-${Math.random().toString(36).slice(2, 6)}`;

/** An op with a fresh opId; the payload carries the opId so feeds can be matched to ops. */
export function makeOp(overrides: Partial<WireOp> = {}): WireOp {
  const opId = overrides.opId ?? unique("op");
  return {
    opId, entityType: "check_in", entityId: unique("e"), action: "upsert", baseVersion: 0,
    payload: { opId, note: "slept well" }, clientTime: new Date().toISOString(), ...overrides,
  };
}

/** Sync-test helpers over the running local service: users, devices, tiers, push, pull, raw state. */
export function syncClient(rt: Runtime) {
  const userKeyOf = (userId: string) => pseudonymousKey(rt.secrets.pseudonymSecret, userId, "u");
  const item = async ({ pk, sk }: TableKey) =>
    (await rt.dynamo.send(new GetCommand({ TableName: rt.resources.tables.Sync, Key: { pk, sk }, ConsistentRead: true }))).Item;
  const query = async (pk: string, prefix = "") => (await rt.dynamo.send(new QueryCommand({
    TableName: rt.resources.tables.Sync, ConsistentRead: true,
    KeyConditionExpression: prefix ? "pk = :pk AND begins_with(sk, :prefix)" : "pk = :pk",
    ExpressionAttributeValues: { ":pk": pk, ...(prefix ? { ":prefix": prefix } : {}) },
  }))).Items ?? [];

  const client = {
    userKeyOf,
    item,
    query,

    /** A new user with devices named `<label>-<name>-<unique>`, optionally on a tier. */
    async user(label: string, deviceNames: string[], tier?: Tier) {
      const userId = unique(`sync-${label}`);
      const token = await rt.token(userId);
      const userKey = userKeyOf(userId);
      const devices: Record<string, string> = {};
      for (const name of deviceNames) {
        devices[name] = unique(name);
        const response = await rt.request("POST", "/v1/devices", { token, body: { deviceId: devices[name], platform: "ios" } });
        expect(response.status).toBe(201);
      }
      if (tier) await client.setTier(userKey, tier);
      return { userId, token, userKey, devices };
    },

    /** Payment state written directly, as the payments worker would leave it. */
    async setTier(userKey: string, tier: Tier) {
      await rt.dynamo.send(new PutCommand({
        TableName: rt.resources.tables.Payments,
        Item: { ...paymentStateKey(userKey), tier, status: tier === "free" ? "none" : "active" },
      }));
    },

    push(token: string, deviceId: string, ops: WireOp[]) {
      return rt.request("POST", "/v1/sync/push", { token, headers: { "x-device-id": deviceId }, body: { ops } });
    },

    /**
     * One page, without the `crisis_directory` change a page carries when the cursor is behind the
     * directory (every bootstrap's first page, every cursor from before it existed): these tests
     * are about the user's own changes; test/integration/crisis-directory.test.ts covers the
     * directory's delivery. `withDirectory` keeps it.
     */
    async pull(token: string, deviceId: string, query: { cursor?: string; limit?: number; withDirectory?: boolean } = {}) {
      const params = new URLSearchParams();
      if (query.cursor) params.set("cursor", query.cursor);
      if (query.limit) params.set("limit", String(query.limit));
      const qs = params.size > 0 ? `?${params}` : "";
      const response = await rt.request("GET", `/v1/sync/pull${qs}`, { token, headers: { "x-device-id": deviceId } });
      if (!query.withDirectory && Array.isArray(response.json?.changes)) {
        response.json.changes = response.json.changes.filter((change: { entityType: string }) => change.entityType !== "crisis_directory");
      }
      return response;
    },

    /**
     * Every change in the device's feed from its start (seq 0), page by page — the feed as it
     * was written, not a bootstrap (a pull without a cursor: `bootstrap`).
     */
    async pullAll(token: string, deviceId: string, limit = 100): Promise<any[]> {
      return client.pullFrom(token, deviceId, FEED_START, limit);
    },

    /** Every page from `cursor` (undefined: a bootstrap) until `hasMore` is false. */
    async pullFrom(token: string, deviceId: string, start: string | undefined, limit = 100): Promise<any[]> {
      const changes: any[] = [];
      let cursor = start;
      for (;;) {
        const response = await client.pull(token, deviceId, { ...(cursor ? { cursor } : {}), limit });
        expect(response.status, response.text).toBe(200);
        changes.push(...response.json.changes);
        cursor = response.json.cursor;
        if (!response.json.hasMore) return changes;
      }
    },

    /** Op records (`opRecordKey`) of these ops, once every one of them exists. */
    async applied(userKey: string, opIds: string[], timeoutMs = 30_000): Promise<Map<string, Record<string, any>>> {
      const unique = [...new Set(opIds)];
      return eventually(async () => {
        const found = new Map<string, Record<string, any>>();
        for (let i = 0; i < unique.length; i += 100) {
          const keys = unique.slice(i, i + 100).map((id) => opRecordKey(userKey, id));
          const result = await rt.dynamo.send(new BatchGetCommand({ RequestItems: { [rt.resources.tables.Sync]: { Keys: keys, ConsistentRead: true } } }));
          for (const record of result.Responses?.[rt.resources.tables.Sync] ?? []) found.set(opIdOfRecord(String(record.sk)), record);
        }
        return found.size === unique.length ? found : undefined;
      }, timeoutMs);
    },

    entity: (userKey: string, entityType: string, entityId: string) => item(entityKey(userKey, entityType, entityId)),
    feed: (userKey: string, deviceId: string) => query(feedPartition(userKey, deviceId)),
    pendingCount: async (userKey: string) => ((await item(pendingCountKey(userKey)))?.pending as number | undefined) ?? 0,
  };
  return client;
}
