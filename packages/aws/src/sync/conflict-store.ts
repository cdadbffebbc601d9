import { GetCommand, QueryCommand, UpdateCommand, type QueryCommandOutput } from "@aws-sdk/lib-dynamodb";
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import type { Conflict, ConflictResolveRequest, ConflictResolveResponse } from "@paysync/core/api";
import { ConflictError, NotFoundError } from "@paysync/core/errors";
import { checkOpPayloadSize } from "@paysync/core/sync";
import { documentClient } from "../clients.js";
import { tableName } from "../config.js";
import type { PayloadCipher } from "../envelope.js";
import { payloadCipher } from "../payload-cipher.js";
import type { TransactItem } from "./change-feed.js";
import { entitySk, OpApplier } from "./op-applier.js";

const userPk = (userKey: string) => `USER#${userKey}`;
const conflictSk = (conflictId: string) => `CONFLICT#${conflictId}`;
/** Resolutions are ops of their own; `#` never occurs in a device's opId, so they cannot collide. */
const resolutionOpId = (conflictId: string) => `resolve#${conflictId}`;
/** A user's explicit decision outranks every device state in a later last-writer-wins. */
const RESOLUTION_DEVICE_PRIORITY = 15;

type Item = Record<string, unknown>;

/**
 * Manual conflicts (tiers with `conflictResolution: manual`): the sync worker records
 * `CONFLICT#<opId>` with the incoming op and leaves the entity as it was; a device lists them
 * and resolves each once. A resolution that writes (`take_incoming`, `merge`) is applied like
 * an op — next version, history, feed — and reaches every device of the user except the one
 * that resolved it, whatever the tier's cross-device rule: it is the user's decision, which
 * every device must converge on.
 *
 * @example
 * await conflicts.resolve(userKey, "op-17", { resolution: "take_incoming" }, "phone-1");
 */
export class ConflictStore {
  constructor(
    private readonly table = tableName("Sync"),
    private readonly applier = new OpApplier(table),
    private readonly cipher: () => PayloadCipher = payloadCipher,
  ) {}

  async list(userKey: string): Promise<Conflict[]> {
    const items: Item[] = [];
    let startKey: Item | undefined;
    do {
      const page: QueryCommandOutput = await documentClient().send(new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
        FilterExpression: "#status = :open",
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: { ":pk": userPk(userKey), ":prefix": "CONFLICT#", ":open": "open" },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }));
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return Promise.all(items.map((item) => this.toWire(userKey, item)));
  }

  async resolve(userKey: string, conflictId: string, request: ConflictResolveRequest, resolverDeviceId: string | undefined, now = new Date()): Promise<ConflictResolveResponse> {
    // A merged payload is a write like any op's: the same 256 KiB limit (413), checked first.
    if (request.payload !== undefined) {
      const size = checkOpPayloadSize(request.payload);
      if (!size.ok) throw size.error;
    }
    const conflict = await this.get(userKey, conflictSk(conflictId));
    if (!conflict) throw new NotFoundError("Conflict not found");
    if (conflict.status !== "open") throw new ConflictError("This conflict is already resolved");
    const entityType = conflict.entityType as ConflictResolveResponse["entityType"];
    const entityId = conflict.entityId as string;
    const current = await this.get(userKey, entitySk(entityType, entityId));
    const answer = (version: number): ConflictResolveResponse => ({ id: conflictId, entityType, entityId, resolution: request.resolution, version });
    if (request.resolution === "keep_current") {
      try {
        await documentClient().send(new UpdateCommand({ TableName: this.table, ...this.closeItem(userKey, conflictId, "keep_current", now) }));
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) throw new ConflictError("This conflict is already resolved");
        throw error;
      }
      return answer((current?.version as number | undefined) ?? 0);
    }
    const incoming = conflict.incoming as Item;
    const takeIncoming = request.resolution === "take_incoming";
    const action = takeIncoming ? (incoming.action as "upsert" | "delete") : "upsert";
    const cipherText = takeIncoming
      ? (incoming.payloadCipher as string | null)
      : await this.cipher().encrypt(request.payload, { userKey, entityType });
    const close = this.closeItem(userKey, conflictId, request.resolution, now);
    const result = await this.applier.apply({
      v: 1, userKey, deviceId: resolverDeviceId ?? "server", devicePriority: RESOLUTION_DEVICE_PRIORITY,
      opId: resolutionOpId(conflictId), entityType, entityId, action, baseVersion: (current?.version as number | undefined) ?? 0,
      clientTime: now.toISOString(), priority: incoming.priority as number, payloadCipher: action === "delete" ? null : cipherText,
      conflictResolution: "automatic", crossDeviceSync: true, enqueuedAtMs: now.getTime(),
    }, now, {
      targets: (devices) => devices.filter((id) => id !== resolverDeviceId),
      extraItems: [{ Update: { TableName: this.table, ...close } } satisfies TransactItem],
    }).catch(async (error: unknown) => {
      const again = await this.get(userKey, conflictSk(conflictId));
      if (again?.status !== "open") throw new ConflictError("This conflict is already resolved");
      throw error;
    });
    if (result.outcome === "duplicate") throw new ConflictError("This conflict is already resolved");
    return answer(result.version ?? 0);
  }

  private closeItem(userKey: string, conflictId: string, resolution: string, now: Date) {
    return {
      Key: { pk: userPk(userKey), sk: conflictSk(conflictId) },
      UpdateExpression: "SET #status = :resolved, resolution = :resolution, resolvedAt = :now",
      ConditionExpression: "#status = :open",
      ExpressionAttributeNames: { "#status": "status" },
      ExpressionAttributeValues: { ":resolved": "resolved", ":resolution": resolution, ":now": now.toISOString(), ":open": "open" },
    };
  }

  private async get(userKey: string, sk: string): Promise<Item | undefined> {
    return (await documentClient().send(new GetCommand({ TableName: this.table, Key: { pk: userPk(userKey), sk }, ConsistentRead: true }))).Item;
  }

  private async payload(userKey: string, entityType: string, action: unknown, cipherText: unknown): Promise<Conflict["current"]["payload"]> {
    if (action === "delete" || typeof cipherText !== "string") return null;
    return (await this.cipher().decrypt(cipherText, { userKey, entityType })) as Conflict["current"]["payload"];
  }

  private async toWire(userKey: string, item: Item): Promise<Conflict> {
    const entityType = item.entityType as Conflict["entityType"];
    const incoming = item.incoming as Item;
    const current = await this.get(userKey, entitySk(entityType, item.entityId as string));
    const origin = current?.originDeviceId as string | undefined;
    return {
      id: item.conflictId as string,
      entityType,
      entityId: item.entityId as string,
      current: {
        version: (current?.version as number | undefined) ?? (item.currentVersion as number),
        payload: await this.payload(userKey, entityType, current?.action, current?.payloadCipher),
        deviceId: origin === undefined || origin === "server" ? null : origin,
        clientTime: (current?.clientTime as string | undefined) ?? (item.createdAt as string),
      },
      incoming: {
        opId: item.conflictId as string,
        baseVersion: incoming.baseVersion as number,
        action: incoming.action as "upsert" | "delete",
        payload: await this.payload(userKey, entityType, incoming.action, incoming.payloadCipher),
        deviceId: incoming.originDeviceId as string,
        clientTime: incoming.clientTime as string,
      },
      detectedAt: item.createdAt as string,
    };
  }
}
