import type { ChangeFeedStore, CommitSeqs, DeviceStore, EntityStore, FeedChange, PokeSink, RecordedOp, StoreWrite, UsageLimitsStore } from "@paysync/core/ports";
import { WriteConditionFailed } from "@paysync/core/ports";
import { isCrisisEntity, pokesFor, resolveWrite, type EntityType, type WriteDecision } from "@paysync/core/sync";
import type { SyncOpMessage } from "@paysync/core/sync/op-message";
import { OPTIMISTIC, retrying } from "../base/retry.js";

export type ApplyOutcome = "applied" | "duplicate" | "conflict" | "lost_lww";

export interface ApplyResult {
  outcome: ApplyOutcome;
  decision?: WriteDecision;
  version?: number;
}

export interface ApplyOptions {
  /** Feed targets instead of "every other device, by the tier's cross-device rule" (handoff, resolutions). */
  targets?: (devices: string[]) => string[];
  /** Committed with the apply; a failed condition among them makes the apply retry. */
  extraWrites?: StoreWrite[];
}

export interface OpApplierPorts {
  feed: ChangeFeedStore;
  devices: DeviceStore;
  entities: EntityStore;
  limits: UsageLimitsStore;
  /** Realtime pokes after commit; absent: none (a function without a WebSocket API). */
  pokes?: PokeSink;
}

/** A concurrent write to the entity (or an extra write's condition) moved under us: read again. */
class EntityMoved extends Error {}

/**
 * Applies one op exactly once: the op record (keyed by opId), the entity write (guarded by
 * its current version), history, conflict, the release of the op's offline-queue slot and
 * the feed entries for the target devices are one commit. A concurrent write to the
 * same entity makes it retry with fresh state; an op record already present makes it a
 * duplicate. The entity records the commit sequence of its change (bootstrap's snapshot point
 * relies on it), and after the commit the target devices are poked (see `pokesFor`).
 *
 * @example
 * const result = await applier.apply(SyncOpMessageSchema.parse(JSON.parse(record.body)));
 * result.outcome; // "applied" | "duplicate" | "conflict" | "lost_lww"
 */
export class OpApplier {
  constructor(private readonly ports: OpApplierPorts) {}

  async apply(op: SyncOpMessage, now = new Date(), options: ApplyOptions = {}): Promise<ApplyResult> {
    const { feed, entities, limits } = this.ports;
    return retrying({
      ...OPTIMISTIC, pauseMs: 0, retryOn: (error) => error instanceof EntityMoved,
      exhausted: (error) => new Error("entity kept changing under a concurrent writer", { cause: (error as Error).cause }),
    }, async () => {
      // Every read in one round trip: the op record, the entity, the queue slot, the devices
      // to fan out to and the feed counter (a stale counter only costs a retry).
      const [existing, current, slot, targets, seq] = await Promise.all([
        entities.readOp(op.userKey, op.opId),
        entities.get(op.userKey, op.entityType, op.entityId),
        op.pendingSlot ? limits.hasPendingSlot(op.userKey, op.opId) : Promise.resolve(false),
        this.targetsFor(op, options),
        feed.readSeq(op.userKey),
      ]);
      if (existing) return { outcome: "duplicate" };
      const resolution = resolveWrite({
        current: current && { version: current.version, clientTime: current.clientTime, devicePriority: current.devicePriority, deviceId: current.originDeviceId },
        op: { baseVersion: op.baseVersion, clientTime: op.clientTime, devicePriority: op.devicePriority, deviceId: op.deviceId },
        strategy: op.conflictResolution,
        entityType: op.entityType as EntityType,
      });
      const writes = resolution.decision === "apply" || resolution.decision === "apply_lww_winner" || resolution.decision === "apply_crisis";
      const version = writes ? (current?.version ?? 0) + 1 : current?.version ?? 0;
      const outcome: ApplyOutcome = writes ? "applied" : resolution.decision === "manual_conflict" ? "conflict" : "lost_lww";
      const recorded = recordedOpOf(op);
      // The op record first: a failed condition at index 0 means "applied before".
      const commit = ({ seqs, after }: CommitSeqs): StoreWrite[] => {
        const items: StoreWrite[] = [entities.opRecordWrite(op.userKey, op.opId, outcome, version, now)];
        if (writes) {
          items.push(entities.entityWrite(op.userKey, {
            entityType: op.entityType, entityId: op.entityId, version, action: op.action, payloadCipher: op.payloadCipher,
            clientTime: op.clientTime, devicePriority: op.devicePriority, originDeviceId: op.deviceId, priority: op.priority,
            commitSeq: seqs[0] ?? after,
          }, current?.version, now));
        }
        if (resolution.toHistory === "current" && current) items.push(entities.supersededWrite(op.userKey, current, op.opId));
        if (resolution.toHistory === "op") items.push(entities.opHistoryWrite(op.userKey, recorded, now));
        if (resolution.decision === "manual_conflict" && current) items.push(entities.conflictWrite(op.userKey, recorded, current.version, now));
        if (slot) items.push(...limits.releaseWrites(op.userKey, op.opId));
        items.push(...(options.extraWrites ?? []));
        return items;
      };
      const changes: FeedChange[] = writes && targets.length > 0
        ? [{
          entityType: op.entityType, entityId: op.entityId, version, action: op.action,
          payloadCipher: op.action === "delete" ? null : op.payloadCipher, priority: op.priority,
          originDeviceId: op.deviceId, targetDeviceIds: targets,
        }]
        : [];
      try {
        await feed.append(op.userKey, changes, commit, now, seq);
        await this.ports.pokes?.poke(op.userKey, pokesFor(changes, op.pokeEveryChange ?? false));
        return { outcome, decision: resolution.decision, version };
      } catch (error) {
        if (!(error instanceof WriteConditionFailed)) throw error;
        if (error.reasons[0] === "ConditionalCheckFailed") return { outcome: "duplicate" };
        throw new EntityMoved("the entity moved", { cause: error });
      }
    });
  }

  /** Every other device of the user; without cross-device sync only crisis changes travel. */
  private async targetsFor(op: SyncOpMessage, options: ApplyOptions): Promise<string[]> {
    if (!options.targets && !op.crossDeviceSync && !isCrisisEntity(op.entityType) && op.priority < 9) return [];
    const devices = (await this.ports.devices.list(op.userKey)).map((d) => d.deviceId);
    return options.targets ? options.targets(devices) : devices.filter((id) => id !== op.deviceId);
  }
}

function recordedOpOf(op: SyncOpMessage): RecordedOp {
  return {
    opId: op.opId, entityType: op.entityType, entityId: op.entityId, baseVersion: op.baseVersion, action: op.action,
    payloadCipher: op.payloadCipher, clientTime: op.clientTime, devicePriority: op.devicePriority,
    originDeviceId: op.deviceId, priority: op.priority,
  };
}
