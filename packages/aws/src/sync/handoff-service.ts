import { randomUUID } from "node:crypto";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import type { HandoffRequest, HandoffResponse } from "@paysync/core/api";
import { NotFoundError } from "@paysync/core/errors";
import { ACTIVE_SESSION_WINDOW_MS, checkOpPayloadSize, devicePriority } from "@paysync/core/sync";
import { documentClient } from "../clients.js";
import { tableName } from "../config.js";
import type { PayloadCipher } from "../envelope.js";
import { payloadCipher } from "../payload-cipher.js";
import { DeviceRepository } from "./device-repository.js";
import { entitySk, OpApplier } from "./op-applier.js";

const ENTITY_TYPE = "therapeutic_session";
const HANDOFF_PRIORITY = 8;
const MAX_ATTEMPTS = 3;

/**
 * Session handoff: the snapshot becomes the next version of the `therapeutic_session`
 * entity (encrypted, history kept), delivered as a priority-8 change to the target device
 * only, in the request — no lane, no limit. The target device counts as in an active
 * session for {@link ACTIVE_SESSION_WINDOW_MS} (device priority, premium escalation); the
 * source device's session ends.
 *
 * @example
 * await new HandoffService().handoff(userKey, "session-1", { fromDeviceId: "phone", toDeviceId: "tablet", snapshot });
 */
export class HandoffService {
  constructor(
    private readonly table = tableName("Sync"),
    private readonly applier = new OpApplier(table),
    private readonly devices = new DeviceRepository(table),
    private readonly cipher: () => PayloadCipher = payloadCipher,
  ) {}

  async handoff(userKey: string, sessionId: string, request: HandoffRequest, now = new Date()): Promise<HandoffResponse & { version: number }> {
    const size = checkOpPayloadSize(request.snapshot);
    if (!size.ok) throw size.error;
    const devices = await this.devices.list(userKey);
    const from = devices.find((d) => d.deviceId === request.fromDeviceId);
    const to = devices.find((d) => d.deviceId === request.toDeviceId);
    if (!from || !to) throw new NotFoundError("Device not found");
    const payloadCipherText = await this.cipher().encrypt(request.snapshot, { userKey, entityType: ENTITY_TYPE });
    const extraItems = [
      this.devices.sessionItem(userKey, to.deviceId, sessionId, now.getTime() + ACTIVE_SESSION_WINDOW_MS),
      this.devices.sessionItem(userKey, from.deviceId, null),
    ];
    const priority = devicePriority({
      activeSession: from.activeSessionId !== null, crisisMode: from.crisisMode, primary: from.primary,
      lastSeenAtMs: from.lastSeenAt ? Date.parse(from.lastSeenAt) : 0,
    }, now.getTime());
    for (let attempt = 1; ; attempt++) {
      const current = (await documentClient().send(new GetCommand({
        TableName: this.table, Key: { pk: `USER#${userKey}`, sk: entitySk(ENTITY_TYPE, sessionId) }, ConsistentRead: true,
      }))).Item;
      const result = await this.applier.apply({
        v: 1, userKey, deviceId: from.deviceId, devicePriority: priority, opId: `handoff#${sessionId}#${randomUUID()}`,
        entityType: ENTITY_TYPE, entityId: sessionId, action: "upsert", baseVersion: (current?.version as number | undefined) ?? 0,
        clientTime: now.toISOString(), priority: HANDOFF_PRIORITY, payloadCipher: payloadCipherText,
        conflictResolution: "automatic", crossDeviceSync: true, enqueuedAtMs: now.getTime(),
      }, now, { targets: () => [to.deviceId], extraItems });
      // Only a write racing in between can make a handoff lose; it is retried on the new version.
      if (result.outcome === "applied" || attempt >= MAX_ATTEMPTS) {
        return { sessionId, toDeviceId: to.deviceId, priority: HANDOFF_PRIORITY, version: result.version ?? 0 };
      }
    }
  }
}
