import type { Conflict, ConflictResolveRequest, ConflictResolveResponse } from "@paysync/core/api";
import { ConflictError, NotFoundError } from "@paysync/core/errors";
import type { EntityStore, OpenConflict, PayloadCipher } from "@paysync/core/ports";
import { checkOpPayloadSize } from "@paysync/core/sync";
import type { OpApplier } from "./op-applier.js";

/** Resolutions are ops of their own; `#` never occurs in a device's opId, so they cannot collide. */
const resolutionOpId = (conflictId: string) => `resolve#${conflictId}`;
/** A user's explicit decision outranks every device state in a later last-writer-wins. */
const RESOLUTION_DEVICE_PRIORITY = 15;

export interface ConflictPorts {
  entities: EntityStore;
  applier: OpApplier;
  cipher: PayloadCipher;
}

/**
 * Manual conflicts (tiers with `conflictResolution: manual`): the sync worker records
 * a conflict (keyed by the op id) with the incoming op and leaves the entity as it was; a device lists them
 * and resolves each once. A resolution that writes (`take_incoming`, `merge`) is applied like
 * an op — next version, history, feed — and reaches every device of the user except the one
 * that resolved it, whatever the tier's cross-device rule: it is the user's decision, which
 * every device must converge on.
 *
 * @example
 * await conflictService.resolve(userKey, "op-17", { resolution: "take_incoming" }, "phone-1");
 */
export class ConflictService {
  private readonly entities: EntityStore;

  constructor(private readonly ports: ConflictPorts) {
    this.entities = ports.entities;
  }

  async list(userKey: string): Promise<Conflict[]> {
    const open = await this.entities.openConflicts(userKey);
    return Promise.all(open.map((conflict) => this.toWire(userKey, conflict)));
  }

  async resolve(userKey: string, conflictId: string, request: ConflictResolveRequest, resolverDeviceId: string | undefined, now = new Date()): Promise<ConflictResolveResponse> {
    // A merged payload is a write like any op's: the same 256 KiB limit (413), checked first.
    if (request.resolution === "merge") {
      const size = checkOpPayloadSize(request.payload);
      if (!size.ok) throw size.error;
    }
    const conflict = await this.entities.conflict(userKey, conflictId);
    if (!conflict) throw new NotFoundError("Conflict not found");
    if (conflict.status !== "open") throw new ConflictError("This conflict is already resolved");
    const entityType = conflict.entityType as ConflictResolveResponse["entityType"];
    const entityId = conflict.entityId;
    const current = await this.entities.get(userKey, entityType, entityId);
    const answer = (version: number): ConflictResolveResponse => ({ id: conflictId, entityType, entityId, resolution: request.resolution, version });
    if (request.resolution === "keep_current") {
      if (!(await this.entities.closeConflict(userKey, conflictId, "keep_current", now))) throw new ConflictError("This conflict is already resolved");
      return answer(current?.version ?? 0);
    }
    const { incoming } = conflict;
    const takeIncoming = request.resolution === "take_incoming";
    const action = takeIncoming ? incoming.action : "upsert";
    const cipherText = request.resolution === "merge" ? await this.ports.cipher.encrypt(request.payload, { userKey, entityType, entityId }) : incoming.payloadCipher;
    const result = await this.ports.applier.apply({
      v: 1, userKey, deviceId: resolverDeviceId ?? "server", devicePriority: RESOLUTION_DEVICE_PRIORITY,
      opId: resolutionOpId(conflictId), entityType, entityId, action, baseVersion: current?.version ?? 0,
      clientTime: now.toISOString(), priority: incoming.priority, payloadCipher: action === "delete" ? null : cipherText,
      conflictResolution: "automatic", crossDeviceSync: true, enqueuedAtMs: now.getTime(),
    }, now, {
      targets: (devices) => devices.filter((id) => id !== resolverDeviceId),
      extraWrites: [this.entities.closeConflictWrite(userKey, conflictId, request.resolution, now)],
    }).catch(async (error: unknown) => {
      const again = await this.entities.conflict(userKey, conflictId);
      if (again?.status !== "open") throw new ConflictError("This conflict is already resolved");
      throw error;
    });
    if (result.outcome === "duplicate") throw new ConflictError("This conflict is already resolved");
    return answer(result.version ?? 0);
  }

  private async payload(userKey: string, entityType: string, entityId: string, action: string | undefined, cipherText: string | null | undefined): Promise<Conflict["current"]["payload"]> {
    if (action === "delete" || typeof cipherText !== "string") return null;
    return (await this.ports.cipher.decrypt(cipherText, { userKey, entityType, entityId })) as Conflict["current"]["payload"];
  }

  private async toWire(userKey: string, conflict: OpenConflict): Promise<Conflict> {
    const entityType = conflict.entityType as Conflict["entityType"];
    const { incoming } = conflict;
    const current = await this.entities.get(userKey, entityType, conflict.entityId);
    const origin = current?.originDeviceId;
    return {
      id: conflict.conflictId,
      entityType,
      entityId: conflict.entityId,
      current: {
        version: current?.version ?? conflict.currentVersion,
        payload: await this.payload(userKey, entityType, conflict.entityId, current?.action, current?.payloadCipher),
        deviceId: origin === undefined || origin === "server" ? null : origin,
        clientTime: current?.clientTime || conflict.createdAt,
      },
      incoming: {
        opId: conflict.conflictId,
        baseVersion: incoming.baseVersion,
        action: incoming.action,
        payload: await this.payload(userKey, entityType, conflict.entityId, incoming.action, incoming.payloadCipher),
        deviceId: incoming.originDeviceId,
        clientTime: incoming.clientTime,
      },
      detectedAt: conflict.createdAt,
    };
  }
}
