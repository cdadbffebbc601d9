/**
 * Entities in the Sync table: the current version of each (`entityKey`), every version a write
 * superseded and every op kept as it arrived (`historyKey`, `opHistoryKey`), the op records that
 * make an op apply exactly once (`opRecordKey`, shared by the sync worker and the crisis path),
 * and manual conflicts (`conflictKey`). Every read is strongly consistent; payloads stay
 * encrypted here (the services encrypt and decrypt).
 *
 * @example
 * const current = await entities.get(userKey, "safety_plan", "current");
 * await feed.append(userKey, changes, [entities.opRecordWrite(userKey, opId, "applied", 2, now), entities.entityWrite(userKey, next, current?.version, now)]);
 */
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { BatchGetCommand, GetCommand, QueryCommand, UpdateCommand, type BatchGetCommandOutput, type QueryCommandOutput } from "@aws-sdk/lib-dynamodb";
import type {
  EntityStore, EntityVersion, OpenConflict, OpOutcome, RecordedOp, StoredEntity, StoreWrite,
} from "@paysync/core/ports";
import type { EntityPosition } from "@paysync/core/sync/cursor";
import { documentClient } from "../base/clients.js";
import { UNPROCESSED, pause } from "../base/retry.js";
import {
  CONFLICT_PREFIX, conflictKey, ENTITY_PREFIX, entityKey, entityTypePrefix, historyKey, opHistoryKey, opIdOfRecord, opRecordKey, userPartition,
} from "./keys.js";
import { toStoreWrite } from "./transactions.js";

export type { StoredEntity };

/** Op records outlive every lane's retention and redrive, so a late duplicate still finds its record. */
const OP_RECORD_TTL_SECONDS = 35 * 24 * 3600;
const BATCH_GET_KEYS = 100;

type Item = Record<string, unknown>;

function toStored(item: Item): StoredEntity {
  return {
    entityType: item.entityType as string,
    entityId: item.entityId as string,
    version: item.version as number,
    action: (item.action as "upsert" | "delete" | undefined) ?? "upsert",
    payloadCipher: (item.payloadCipher as string | null | undefined) ?? null,
    clientTime: (item.clientTime as string | undefined) ?? "",
    devicePriority: (item.devicePriority as number | undefined) ?? 0,
    originDeviceId: (item.originDeviceId as string | undefined) ?? "server",
    priority: (item.priority as number | undefined) ?? 0,
    updatedAt: (item.updatedAt as string | undefined) ?? "",
    commitSeq: (item.commitSeq as number | undefined) ?? 0,
    item,
  };
}

function toConflict(item: Item): OpenConflict {
  const incoming = item.incoming as Item;
  return {
    conflictId: item.conflictId as string,
    entityType: item.entityType as string,
    entityId: item.entityId as string,
    currentVersion: item.currentVersion as number,
    createdAt: item.createdAt as string,
    status: item.status === "open" ? "open" : "resolved",
    incoming: {
      opId: incoming.opId as string,
      entityType: incoming.entityType as string,
      entityId: incoming.entityId as string,
      baseVersion: incoming.baseVersion as number,
      action: incoming.action as "upsert" | "delete",
      payloadCipher: (incoming.payloadCipher as string | null | undefined) ?? null,
      clientTime: incoming.clientTime as string,
      devicePriority: (incoming.devicePriority as number | undefined) ?? 0,
      originDeviceId: incoming.originDeviceId as string,
      priority: incoming.priority as number,
    },
  };
}

export class EntityRepository implements EntityStore {
  constructor(private readonly table: string) {}

  async get(userKey: string, entityType: string, entityId: string): Promise<StoredEntity | undefined> {
    const item = await this.item(entityKey(userKey, entityType, entityId));
    return item ? toStored(item) : undefined;
  }

  async ofType(userKey: string, entityType: string): Promise<StoredEntity[]> {
    return (await this.query(userKey, entityTypePrefix(entityType))).map(toStored);
  }

  async readOp(userKey: string, opId: string): Promise<{ outcome: string; version: number } | undefined> {
    const item = await this.item(opRecordKey(userKey, opId));
    return item ? { outcome: (item.outcome as string | undefined) ?? "applied", version: (item.version as number | undefined) ?? 0 } : undefined;
  }

  async recordedOps(userKey: string, opIds: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (let i = 0; i < opIds.length; i += BATCH_GET_KEYS) {
      let keys: Item[] | undefined = opIds.slice(i, i + BATCH_GET_KEYS).map((opId): Item => ({ ...opRecordKey(userKey, opId) }));
      for (let attempt = 1; keys && keys.length > 0 && attempt <= UNPROCESSED.attempts; attempt++) {
        if (attempt > 1) await pause(Math.random() * UNPROCESSED.pauseMs * attempt);
        const result: BatchGetCommandOutput = await documentClient().send(new BatchGetCommand({
          RequestItems: { [this.table]: { Keys: keys, ConsistentRead: true, ProjectionExpression: "sk" } },
        }));
        for (const item of result.Responses?.[this.table] ?? []) found.add(opIdOfRecord(String(item.sk)));
        keys = result.UnprocessedKeys?.[this.table]?.Keys;
      }
    }
    return found;
  }

  opRecordWrite(userKey: string, opId: string, outcome: OpOutcome, version: number, now: Date): StoreWrite {
    return toStoreWrite({
      Put: {
        TableName: this.table,
        Item: {
          ...opRecordKey(userKey, opId), outcome, version, appliedAt: now.toISOString(),
          expiresAt: Math.floor(now.getTime() / 1000) + OP_RECORD_TTL_SECONDS,
        },
        ConditionExpression: "attribute_not_exists(pk)",
      },
    });
  }

  entityWrite(userKey: string, entity: EntityVersion, replacing: number | undefined, now: Date): StoreWrite {
    return toStoreWrite({
      Put: {
        TableName: this.table,
        Item: this.entityItem(userKey, entity, now),
        ConditionExpression: replacing === undefined ? "attribute_not_exists(pk)" : "version = :version",
        ...(replacing === undefined ? {} : { ExpressionAttributeValues: { ":version": replacing } }),
      },
    });
  }

  serverEntityWrite(userKey: string, entity: EntityVersion, now: Date): StoreWrite {
    return toStoreWrite({ Put: { TableName: this.table, Item: this.entityItem(userKey, entity, now) } });
  }

  async snapshotPage(userKey: string, after: EntityPosition | null, limit: number): Promise<{ entities: StoredEntity[]; last: EntityPosition | null; exhausted: boolean }> {
    const page: QueryCommandOutput = await documentClient().send(new QueryCommand({
      TableName: this.table,
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
      ExpressionAttributeValues: { ":pk": userPartition(userKey), ":prefix": ENTITY_PREFIX },
      ConsistentRead: true,
      Limit: limit,
      ...(after ? { ExclusiveStartKey: { ...entityKey(userKey, after.entityType, after.entityId) } } : {}),
    }));
    const entities = (page.Items ?? []).map(toStored);
    const tail = entities.at(-1);
    return {
      entities,
      last: tail ? { entityType: tail.entityType, entityId: tail.entityId } : after,
      exhausted: page.LastEvaluatedKey === undefined,
    };
  }

  supersededWrite(userKey: string, current: StoredEntity, supersededBy: string): StoreWrite {
    return toStoreWrite({
      Put: {
        TableName: this.table,
        Item: { ...current.item, ...historyKey(userKey, current.entityType, current.entityId, current.version), supersededBy },
      },
    });
  }

  opHistoryWrite(userKey: string, op: RecordedOp, now: Date): StoreWrite {
    return toStoreWrite({ Put: { TableName: this.table, Item: this.opHistoryItem(userKey, op, now) } });
  }

  conflictWrite(userKey: string, op: RecordedOp, currentVersion: number, now: Date): StoreWrite {
    return toStoreWrite({
      Put: {
        TableName: this.table,
        Item: {
          ...conflictKey(userKey, op.opId), conflictId: op.opId, entityType: op.entityType, entityId: op.entityId,
          currentVersion, incoming: this.opHistoryItem(userKey, op, now), createdAt: now.toISOString(), status: "open",
        },
      },
    });
  }

  async openConflicts(userKey: string): Promise<OpenConflict[]> {
    return (await this.query(userKey, CONFLICT_PREFIX, { status: "open" })).map(toConflict);
  }

  async conflict(userKey: string, conflictId: string): Promise<OpenConflict | undefined> {
    const item = await this.item(conflictKey(userKey, conflictId));
    return item ? toConflict(item) : undefined;
  }

  closeConflictWrite(userKey: string, conflictId: string, resolution: string, now: Date): StoreWrite {
    return toStoreWrite({ Update: { TableName: this.table, ...this.closeUpdate(userKey, conflictId, resolution, now) } });
  }

  async closeConflict(userKey: string, conflictId: string, resolution: string, now: Date): Promise<boolean> {
    try {
      await documentClient().send(new UpdateCommand({ TableName: this.table, ...this.closeUpdate(userKey, conflictId, resolution, now) }));
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  private closeUpdate(userKey: string, conflictId: string, resolution: string, now: Date) {
    return {
      Key: conflictKey(userKey, conflictId),
      UpdateExpression: "SET #status = :resolved, resolution = :resolution, resolvedAt = :now",
      ConditionExpression: "#status = :open",
      ExpressionAttributeNames: { "#status": "status" },
      ExpressionAttributeValues: { ":resolved": "resolved", ":resolution": resolution, ":now": now.toISOString(), ":open": "open" },
    };
  }

  private entityItem(userKey: string, entity: EntityVersion, now: Date): Item {
    return {
      ...entityKey(userKey, entity.entityType, entity.entityId), entityType: entity.entityType, entityId: entity.entityId,
      version: entity.version, action: entity.action, payloadCipher: entity.action === "delete" ? null : entity.payloadCipher,
      clientTime: entity.clientTime, devicePriority: entity.devicePriority, originDeviceId: entity.originDeviceId,
      priority: entity.priority, updatedAt: now.toISOString(),
      ...(entity.commitSeq === undefined ? {} : { commitSeq: entity.commitSeq }),
    };
  }

  private opHistoryItem(userKey: string, op: RecordedOp, now: Date): Item {
    return {
      ...opHistoryKey(userKey, op.entityType, op.entityId, op.opId), entityType: op.entityType, entityId: op.entityId,
      opId: op.opId, baseVersion: op.baseVersion, action: op.action, payloadCipher: op.payloadCipher, clientTime: op.clientTime,
      devicePriority: op.devicePriority, originDeviceId: op.originDeviceId, priority: op.priority, recordedAt: now.toISOString(),
    };
  }

  private async item(key: { pk: string; sk: string }): Promise<Item | undefined> {
    return (await documentClient().send(new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true }))).Item;
  }

  private async query(userKey: string, prefix: string, filter?: { status: string }): Promise<Item[]> {
    const items: Item[] = [];
    let startKey: Item | undefined;
    do {
      const page: QueryCommandOutput = await documentClient().send(new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
        ...(filter ? { FilterExpression: "#status = :status", ExpressionAttributeNames: { "#status": "status" } } : {}),
        ExpressionAttributeValues: { ":pk": userPartition(userKey), ":prefix": prefix, ...(filter ? { ":status": filter.status } : {}) },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }));
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  }
}
