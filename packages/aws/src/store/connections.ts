/**
 * Realtime (WebSocket) connections in the Connections table: one item per connection under the
 * user (`connectionKey`: device, then connection id), so a poke finds every connection of the
 * user's target devices in one Query, and one by connection id (`connectionIdKey`), because
 * `$disconnect` knows nothing else. Both expire with the connection (API Gateway closes a
 * WebSocket after 2 hours at most); TTL deletion is lazy, so reads skip expired items.
 *
 * @example
 * await connections.open(userKey, "tablet", connectionId, new Date());
 * const live = await connections.ofUser(userKey);
 */
import { BatchWriteCommand, GetCommand, QueryCommand, type QueryCommandOutput } from "@aws-sdk/lib-dynamodb";
import type { ConnectionStore } from "@paysync/core/ports";
import { documentClient } from "../base/clients.js";
import { connectionIdKey, connectionKey, connectionsPartition, deviceConnectionsPrefix } from "./keys.js";

/** API Gateway's longest WebSocket connection, plus a margin for clock skew. */
export const CONNECTION_TTL_SECONDS = 2 * 3600 + 300;
/** A device reconnecting often (flaky network) keeps only its newest connections. */
export const MAX_CONNECTIONS_PER_DEVICE = 3;

export interface Connection {
  userKey: string;
  deviceId: string;
  connectionId: string;
  connectedAtMs: number;
}

type Item = Record<string, unknown>;

const toConnection = (item: Item): Connection => ({
  userKey: item.userKey as string,
  deviceId: item.deviceId as string,
  connectionId: item.connectionId as string,
  connectedAtMs: (item.connectedAtMs as number | undefined) ?? 0,
});

export class ConnectionRepository implements ConnectionStore {
  constructor(private readonly table: string) {}

  /** Records a new connection; beyond {@link MAX_CONNECTIONS_PER_DEVICE} the device's oldest ones are forgotten. */
  async open(userKey: string, deviceId: string, connectionId: string, now = new Date()): Promise<void> {
    const fields = { userKey, deviceId, connectionId, connectedAtMs: now.getTime(), expiresAt: Math.floor(now.getTime() / 1000) + CONNECTION_TTL_SECONDS };
    await this.batchWrite([
      { PutRequest: { Item: { ...connectionKey(userKey, deviceId, connectionId), ...fields } } },
      { PutRequest: { Item: { ...connectionIdKey(connectionId), ...fields } } },
    ]);
    const mine = (await this.query(userKey, deviceConnectionsPrefix(userKey, deviceId), now)).sort((a, b) => b.connectedAtMs - a.connectedAtMs);
    const surplus = mine.slice(MAX_CONNECTIONS_PER_DEVICE);
    if (surplus.length > 0) await Promise.all(surplus.map((c) => this.remove(c)));
  }

  /** Forgets a connection by its id (`$disconnect`); an unknown one is already gone. */
  async close(connectionId: string): Promise<Connection | undefined> {
    const found = (await documentClient().send(new GetCommand({ TableName: this.table, Key: connectionIdKey(connectionId), ConsistentRead: true }))).Item;
    if (!found) return undefined;
    const connection = toConnection(found);
    await this.remove(connection);
    return connection;
  }

  async remove(connection: Connection): Promise<void> {
    await this.batchWrite([
      { DeleteRequest: { Key: connectionKey(connection.userKey, connection.deviceId, connection.connectionId) } },
      { DeleteRequest: { Key: connectionIdKey(connection.connectionId) } },
    ]);
  }

  /** Every live connection of the user's devices. */
  ofUser(userKey: string, now = new Date()): Promise<Connection[]> {
    return this.query(userKey, "", now);
  }

  private async query(userKey: string, prefix: string, now: Date): Promise<Connection[]> {
    const nowSeconds = Math.floor(now.getTime() / 1000);
    const found: Connection[] = [];
    let startKey: Item | undefined;
    do {
      const page: QueryCommandOutput = await documentClient().send(new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: prefix ? "pk = :pk AND begins_with(sk, :prefix)" : "pk = :pk",
        ExpressionAttributeValues: { ":pk": connectionsPartition(userKey), ...(prefix ? { ":prefix": prefix } : {}) },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }));
      for (const item of page.Items ?? []) if ((item.expiresAt as number) > nowSeconds) found.push(toConnection(item));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return found;
  }

  private async batchWrite(requests: NonNullable<ConstructorParameters<typeof BatchWriteCommand>[0]["RequestItems"]>[string]): Promise<void> {
    let pending = requests;
    for (let attempt = 1; pending.length > 0; attempt++) {
      const result = await documentClient().send(new BatchWriteCommand({ RequestItems: { [this.table]: pending } }));
      pending = result.UnprocessedItems?.[this.table] ?? [];
      if (pending.length > 0 && attempt >= 5) throw new Error("connection writes left unprocessed");
    }
  }
}
