import { randomUUID } from "node:crypto";
import type { HandoffRequest, HandoffResponse } from "@paysync/core/api";
import { NotFoundError } from "@paysync/core/errors";
import type { DeviceStore, EntityStore, PayloadCipher, UsageLimitsStore } from "@paysync/core/ports";
import { ACTIVE_SESSION_WINDOW_MS, checkOpPayloadSize, devicePriority, jsonByteLength } from "@paysync/core/sync";
import type { OpApplier } from "./op-applier.js";

const ENTITY_TYPE = "therapeutic_session";
const HANDOFF_PRIORITY = 8;
/** Only a write racing in between can make a handoff lose; it is retried on the new version. */
const MAX_ATTEMPTS = 3;

export interface HandoffPorts {
  applier: OpApplier;
  devices: DeviceStore;
  entities: EntityStore;
  limits: UsageLimitsStore;
  cipher: PayloadCipher;
}

/**
 * Session handoff: the snapshot becomes the next version of the `therapeutic_session`
 * entity (encrypted, history kept), delivered as a priority-8 change to the target device
 * only, in the request — no lane, no tier limit (only the active-session ceiling). The target device counts as in an active
 * session for {@link ACTIVE_SESSION_WINDOW_MS} (device priority, premium escalation); the
 * source device's session ends.
 *
 * @example
 * await handoffService.handoff(userKey, "session-1", { fromDeviceId: "phone", toDeviceId: "tablet", snapshot });
 */
export class HandoffService {
  constructor(private readonly ports: HandoffPorts) {}

  async handoff(userKey: string, sessionId: string, request: HandoffRequest, now = new Date()): Promise<HandoffResponse & { version: number }> {
    const { applier, devices, entities, cipher } = this.ports;
    const size = checkOpPayloadSize(request.snapshot);
    if (!size.ok) throw size.error;
    const registered = await devices.list(userKey);
    const from = registered.find((d) => d.deviceId === request.fromDeviceId);
    const to = registered.find((d) => d.deviceId === request.toDeviceId);
    if (!from || !to) throw new NotFoundError("Device not found");
    const ceiling = await this.ports.limits.chargeSessionUse(userKey, [{ entityType: ENTITY_TYPE, entityId: sessionId, ops: 1, bytes: jsonByteLength(request.snapshot) }], now);
    if (!ceiling.ok) throw ceiling.error;
    const payloadCipherText = await cipher.encrypt(request.snapshot, { userKey, entityType: ENTITY_TYPE, entityId: sessionId });
    const extraWrites = [
      devices.sessionWrite(userKey, to.deviceId, sessionId, now.getTime() + ACTIVE_SESSION_WINDOW_MS),
      devices.sessionWrite(userKey, from.deviceId, null),
    ];
    const priority = devicePriority({
      activeSession: from.activeSessionId !== null, crisisMode: from.crisisMode, primary: from.primary,
      lastSeenAtMs: from.lastSeenAt ? Date.parse(from.lastSeenAt) : 0,
    }, now.getTime());
    for (let attempt = 1; ; attempt++) {
      const current = await entities.get(userKey, ENTITY_TYPE, sessionId);
      const result = await applier.apply({
        v: 1, userKey, deviceId: from.deviceId, devicePriority: priority, opId: `handoff#${sessionId}#${randomUUID()}`,
        entityType: ENTITY_TYPE, entityId: sessionId, action: "upsert", baseVersion: current?.version ?? 0,
        clientTime: now.toISOString(), priority: HANDOFF_PRIORITY, payloadCipher: payloadCipherText,
        conflictResolution: "automatic", crossDeviceSync: true, enqueuedAtMs: now.getTime(),
      }, now, { targets: () => [to.deviceId], extraWrites });
      if (result.outcome === "applied" || attempt >= MAX_ATTEMPTS) {
        return { sessionId, toDeviceId: to.deviceId, priority: HANDOFF_PRIORITY, version: result.version ?? 0 };
      }
    }
  }
}
