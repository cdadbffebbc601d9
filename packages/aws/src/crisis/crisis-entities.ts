/**
 * Storage of the crisis entities (crisis state, safety plan, emergency contacts, crisis-level
 * assessments) in the Sync table, in the same layout the sync worker uses:
 * `pk USER#<userKey>`, `sk ENTITY#<type>#<id>` for the current version and
 * `HIST#<type>#<id>#<version, 10 digits>#current` for every version a crisis write superseded.
 * Payloads are envelope-encrypted with the context `{ userKey, entityType }`.
 */
import { GetCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { latestEntity } from "@paysync/core/crisis/resources";
import type { FeedChange, TransactItem } from "../sync/change-feed.js";
import { documentClient } from "../clients.js";
import type { PayloadCipher } from "../envelope.js";
import { logger } from "../observability.js";

export interface StoredEntity {
  item: Record<string, unknown>;
  entityId: string;
  version: number;
  action: "upsert" | "delete";
  payloadCipher: string | null;
  updatedAt: string;
}

/** One entity write of a crisis transaction, payload still in the clear. */
export interface CrisisWrite {
  entityType: string;
  entityId: string;
  action: "upsert" | "delete";
  payload: unknown;
  priority: number;
  clientTime: string;
  deviceId: string;
  devicePriority: number;
  /** What superseded the previous version: the op id, or `crisis.<route>` for the HTTP routes. */
  cause: string;
}

export const userPk = (userKey: string) => `USER#${userKey}`;
const entitySk = (entityType: string, entityId: string) => `ENTITY#${entityType}#${entityId}`;
export const historySk = (entityType: string, entityId: string, version: number) =>
  `HIST#${entityType}#${entityId}#${String(version).padStart(10, "0")}#current`;
const OP_RECORD_TTL_SECONDS = 35 * 24 * 3600;

function toStored(item: Record<string, unknown>): StoredEntity {
  return {
    item,
    entityId: item.entityId as string,
    version: item.version as number,
    action: (item.action as "upsert" | "delete" | undefined) ?? "upsert",
    payloadCipher: (item.payloadCipher as string | null | undefined) ?? null,
    updatedAt: (item.updatedAt as string | undefined) ?? "",
  };
}

/** Reads and writes crisis entities; every read is strongly consistent. */
export class CrisisEntities {
  constructor(
    private readonly table: string,
    private readonly cipher: () => PayloadCipher,
  ) {}

  async get(userKey: string, entityType: string, entityId: string): Promise<StoredEntity | undefined> {
    const result = await documentClient().send(new GetCommand({
      TableName: this.table, Key: { pk: userPk(userKey), sk: entitySk(entityType, entityId) }, ConsistentRead: true,
    }));
    return result.Item ? toStored(result.Item) : undefined;
  }

  /** The current entity of a type (a device may have pushed it under its own id). */
  async latest(userKey: string, entityType: string): Promise<StoredEntity | undefined> {
    const result = await documentClient().send(new QueryCommand({
      TableName: this.table,
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
      ExpressionAttributeValues: { ":pk": userPk(userKey), ":prefix": `ENTITY#${entityType}#` },
      ConsistentRead: true,
    }));
    return latestEntity((result.Items ?? []).map(toStored));
  }

  /** The decrypted payload, or `undefined` for a missing or deleted entity. */
  async payloadOf(userKey: string, entityType: string, entity: StoredEntity | undefined): Promise<unknown> {
    if (!entity || entity.action === "delete" || entity.payloadCipher === null) return undefined;
    return this.cipher().decrypt(entity.payloadCipher, { userKey, entityType });
  }

  /**
   * Decrypts and validates; an unreadable stored payload is logged and treated as absent, so
   * that the hotline and everything else still reach the person asking.
   */
  async readValid<T>(userKey: string, entityType: string, entity: StoredEntity | undefined, parse: (value: unknown) => T): Promise<T | undefined> {
    try {
      const payload = await this.payloadOf(userKey, entityType, entity);
      return payload === undefined ? undefined : parse(payload);
    } catch (error) {
      logger.error("unreadable crisis entity", { entityType, errorName: error instanceof Error ? error.name : typeof error });
      return undefined;
    }
  }

  async readOp(userKey: string, opId: string): Promise<{ version: number } | undefined> {
    const result = await documentClient().send(new GetCommand({
      TableName: this.table, Key: { pk: userPk(userKey), sk: `OP#${opId}` }, ConsistentRead: true,
    }));
    return result.Item ? { version: (result.Item.version as number | undefined) ?? 0 } : undefined;
  }

  /** The op record that makes a pushed op apply exactly once (same record as the sync worker's). */
  opRecord(userKey: string, opId: string, version: number, now: Date): TransactItem {
    return {
      Put: {
        TableName: this.table,
        Item: {
          pk: userPk(userKey), sk: `OP#${opId}`, outcome: "applied", version, appliedAt: now.toISOString(),
          expiresAt: Math.floor(now.getTime() / 1000) + OP_RECORD_TTL_SECONDS,
        },
        ConditionExpression: "attribute_not_exists(pk)",
      },
    };
  }

  /**
   * The items of one entity write: the new current version, guarded by the version it
   * replaces, and the replaced version moved to history. A crisis write always applies
   * (`apply_crisis`): a concurrent writer only makes the caller retry on fresh state.
   */
  async writeItems(
    userKey: string,
    current: StoredEntity | undefined,
    write: CrisisWrite,
    now: Date,
  ): Promise<{ items: TransactItem[]; version: number; change: Omit<FeedChange, "targetDeviceIds"> }> {
    const version = (current?.version ?? 0) + 1;
    const payloadCipher = write.action === "delete"
      ? null
      : await this.cipher().encrypt(write.payload, { userKey, entityType: write.entityType });
    const pk = userPk(userKey);
    const items: TransactItem[] = [{
      Put: {
        TableName: this.table,
        Item: {
          pk, sk: entitySk(write.entityType, write.entityId), entityType: write.entityType, entityId: write.entityId,
          version, action: write.action, payloadCipher, clientTime: write.clientTime, devicePriority: write.devicePriority,
          originDeviceId: write.deviceId, priority: write.priority, updatedAt: now.toISOString(),
        },
        ConditionExpression: current ? "version = :version" : "attribute_not_exists(pk)",
        ...(current ? { ExpressionAttributeValues: { ":version": current.version } } : {}),
      },
    }];
    if (current) {
      items.push({
        Put: {
          TableName: this.table,
          Item: { ...current.item, sk: historySk(write.entityType, write.entityId, current.version), supersededBy: write.cause },
        },
      });
    }
    const change = {
      entityType: write.entityType, entityId: write.entityId, version, action: write.action,
      payloadCipher, priority: write.priority, originDeviceId: write.deviceId,
    };
    return { items, version, change };
  }

  /** Sets a device's crisis flag, only while the device still exists. */
  deviceFlag(userKey: string, deviceId: string, crisisMode: boolean): TransactItem {
    return {
      Update: {
        TableName: this.table,
        Key: { pk: userPk(userKey), sk: `DEVICE#${deviceId}` },
        UpdateExpression: "SET crisisMode = :on",
        ConditionExpression: "attribute_exists(pk)",
        ExpressionAttributeValues: { ":on": crisisMode },
      },
    };
  }
}
