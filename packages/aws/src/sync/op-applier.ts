import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { isCrisisEntity, resolveWrite, type EntityType, type WriteDecision } from "@paysync/core/sync";
import { documentClient } from "../clients.js";
import { tableName } from "../config.js";
import { ChangeFeed, FeedConditionFailed, type FeedChange, type TransactItem } from "./change-feed.js";
import { DeviceRepository } from "./device-repository.js";
import type { SyncOpMessage } from "./op-message.js";
import { UsageLimits } from "./usage-limits.js";

export type ApplyOutcome = "applied" | "duplicate" | "conflict" | "lost_lww";

export interface ApplyResult {
  outcome: ApplyOutcome;
  decision?: WriteDecision;
  version?: number;
}

export interface ApplyOptions {
  /** Feed targets instead of "every other device, by the tier's cross-device rule" (handoff, resolutions). */
  targets?: (devices: string[]) => string[];
  /** Written in the same transaction; a failed condition among them makes the apply retry. */
  extraItems?: TransactItem[];
}

const userPk = (userKey: string) => `USER#${userKey}`;
export const entitySk = (entityType: string, entityId: string) => `ENTITY#${entityType}#${entityId}`;
export const historySk = (entityType: string, entityId: string, version: number) =>
  `HIST#${entityType}#${entityId}#${String(version).padStart(10, "0")}#current`;
const opSk = (opId: string) => `OP#${opId}`;
const OP_RECORD_TTL_SECONDS = 35 * 24 * 3600;
const MAX_ATTEMPTS = 10;

/**
 * Applies one op exactly once: the op record (keyed by opId), the entity write (guarded by
 * its current version), history, conflict, the release of the op's offline-queue slot and
 * the feed entries for the target devices are one transaction. A concurrent write to the
 * same entity makes it retry with fresh state; an op record already present makes it a
 * duplicate.
 *
 * @example
 * const result = await new OpApplier().apply(SyncOpMessageSchema.parse(JSON.parse(record.body)));
 * result.outcome; // "applied" | "duplicate" | "conflict" | "lost_lww"
 */
export class OpApplier {
  constructor(
    private readonly table = tableName("Sync"),
    private readonly feed = new ChangeFeed(table),
    private readonly devices = new DeviceRepository(table),
    private readonly limits = new UsageLimits(table),
  ) {}

  async apply(op: SyncOpMessage, now = new Date(), options: ApplyOptions = {}): Promise<ApplyResult> {
    const pk = userPk(op.userKey);
    for (let attempt = 1; ; attempt++) {
      // Every read in one round trip: the op record, the entity, the queue slot, the devices
      // to fan out to and the feed counter (a stale counter only costs a retry).
      const [existing, currentItem, slot, targets, seq] = await Promise.all([
        this.get(pk, opSk(op.opId)),
        this.get(pk, entitySk(op.entityType, op.entityId)),
        op.pendingSlot ? this.limits.hasPendingSlot(op.userKey, op.opId) : Promise.resolve(false),
        this.targetsFor(op, options),
        this.feed.readSeq(op.userKey),
      ]);
      if (existing) return { outcome: "duplicate" };
      const current = currentItem && {
        version: currentItem.version as number,
        clientTime: currentItem.clientTime as string,
        devicePriority: (currentItem.devicePriority as number | undefined) ?? 0,
        deviceId: currentItem.originDeviceId as string,
      };
      const resolution = resolveWrite({
        current,
        op: { baseVersion: op.baseVersion, clientTime: op.clientTime, devicePriority: op.devicePriority, deviceId: op.deviceId },
        strategy: op.conflictResolution,
        entityType: op.entityType as EntityType,
      });
      const writes = resolution.decision === "apply" || resolution.decision === "apply_lww_winner" || resolution.decision === "apply_crisis";
      const version = writes ? (current?.version ?? 0) + 1 : current?.version ?? 0;
      const outcome: ApplyOutcome = writes ? "applied" : resolution.decision === "manual_conflict" ? "conflict" : "lost_lww";
      const nowIso = now.toISOString();
      const items: TransactItem[] = [{
        Put: {
          TableName: this.table,
          Item: { pk, sk: opSk(op.opId), outcome, version, appliedAt: nowIso, expiresAt: Math.floor(now.getTime() / 1000) + OP_RECORD_TTL_SECONDS },
          ConditionExpression: "attribute_not_exists(pk)",
        },
      }];
      if (writes) items.push(this.entityPut(op, pk, version, current?.version, nowIso));
      if (resolution.toHistory === "current" && currentItem) {
        items.push({ Put: { TableName: this.table, Item: { ...currentItem, sk: historySk(op.entityType, op.entityId, current?.version ?? 0), supersededBy: op.opId } } });
      }
      if (resolution.toHistory === "op") items.push({ Put: { TableName: this.table, Item: this.historyOfOp(op, pk, nowIso) } });
      if (resolution.decision === "manual_conflict" && current) {
        items.push({
          Put: {
            TableName: this.table,
            Item: {
              pk, sk: `CONFLICT#${op.opId}`, conflictId: op.opId, entityType: op.entityType, entityId: op.entityId,
              currentVersion: current.version, incoming: this.historyOfOp(op, pk, nowIso), createdAt: nowIso, status: "open",
            },
          },
        });
      }
      if (slot) items.push(...this.limits.releaseItems(op.userKey, op.opId));
      items.push(...(options.extraItems ?? []));
      const changes: FeedChange[] = [];
      if (writes) {
        if (targets.length > 0) {
          changes.push({
            entityType: op.entityType, entityId: op.entityId, version, action: op.action,
            payloadCipher: op.action === "delete" ? null : op.payloadCipher, priority: op.priority,
            originDeviceId: op.deviceId, targetDeviceIds: targets,
          });
        }
      }
      try {
        await this.feed.append(op.userKey, changes, items, now, seq);
        return { outcome, decision: resolution.decision, version };
      } catch (error) {
        if (!(error instanceof FeedConditionFailed)) throw error;
        if (error.reasons[0] === "ConditionalCheckFailed") return { outcome: "duplicate" };
        if (attempt >= MAX_ATTEMPTS) throw new Error("entity kept changing under a concurrent writer", { cause: error });
      }
    }
  }

  private async get(pk: string, sk: string): Promise<Record<string, unknown> | undefined> {
    return (await documentClient().send(new GetCommand({ TableName: this.table, Key: { pk, sk }, ConsistentRead: true }))).Item;
  }

  private entityPut(op: SyncOpMessage, pk: string, version: number, currentVersion: number | undefined, nowIso: string): TransactItem {
    return {
      Put: {
        TableName: this.table,
        Item: {
          pk, sk: entitySk(op.entityType, op.entityId), entityType: op.entityType, entityId: op.entityId,
          version, action: op.action, payloadCipher: op.action === "delete" ? null : op.payloadCipher,
          clientTime: op.clientTime, devicePriority: op.devicePriority, originDeviceId: op.deviceId,
          priority: op.priority, updatedAt: nowIso,
        },
        ConditionExpression: currentVersion === undefined ? "attribute_not_exists(pk)" : "version = :version",
        ...(currentVersion === undefined ? {} : { ExpressionAttributeValues: { ":version": currentVersion } }),
      },
    };
  }

  private historyOfOp(op: SyncOpMessage, pk: string, nowIso: string): Record<string, unknown> {
    return {
      pk, sk: `HIST#${op.entityType}#${op.entityId}#op#${op.opId}`, entityType: op.entityType, entityId: op.entityId,
      opId: op.opId, baseVersion: op.baseVersion, action: op.action, payloadCipher: op.payloadCipher, clientTime: op.clientTime,
      devicePriority: op.devicePriority, originDeviceId: op.deviceId, priority: op.priority, recordedAt: nowIso,
    };
  }

  /** Every other device of the user; without cross-device sync only crisis changes travel. */
  private async targetsFor(op: SyncOpMessage, options: ApplyOptions): Promise<string[]> {
    if (!options.targets && !op.crossDeviceSync && !isCrisisEntity(op.entityType) && op.priority < 9) return [];
    const devices = (await this.devices.list(op.userKey)).map((d) => d.deviceId);
    return options.targets ? options.targets(devices) : devices.filter((id) => id !== op.deviceId);
  }
}
