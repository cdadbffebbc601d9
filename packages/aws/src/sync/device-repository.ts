import { QueryCommand, TransactWriteCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { ConditionalCheckFailedException, TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { ConflictError, NotFoundError } from "@paysync/core/errors";
import type { Device, DeviceRegistrationRequest } from "@paysync/core/api";
import { documentClient } from "../clients.js";
import { tableName } from "../config.js";
import { logger } from "../observability.js";
import type { TransactItem } from "./change-feed.js";

export interface DeviceRecord extends Device {
  crisisMode: boolean;
  /** The session handed off to this device, while it counts as active (see `sessionItem`). */
  activeSessionId: string | null;
}

/** Writes to `lastSeenAt` are skipped when the stored one is this recent (a pull every second costs no write). */
const TOUCH_INTERVAL_MS = 60_000;

const userPk = (userKey: string) => `USER#${userKey}`;
const deviceSk = (deviceId: string) => `DEVICE#${deviceId}`;
const ownerPk = (deviceId: string) => `DEVICEID#${deviceId}`;

function toDevice(item: Record<string, unknown>, nowMs = Date.now()): DeviceRecord {
  const until = item.activeSessionUntil as number | undefined;
  const sessionLive = item.activeSessionId !== undefined && (until === undefined || until > nowMs);
  return {
    deviceId: item.deviceId as string,
    platform: item.platform as Device["platform"],
    appVersion: (item.appVersion as string | undefined) ?? null,
    primary: Boolean(item.primary),
    registeredAt: item.registeredAt as string,
    lastSeenAt: (item.lastSeenAt as string | undefined) ?? null,
    crisisMode: Boolean(item.crisisMode),
    activeSessionId: sessionLive ? (item.activeSessionId as string) : null,
  };
}

/**
 * Devices of a user. A device id belongs to exactly one user: an ownership record keyed by
 * the device id is written in the same transaction, conditional on being free or ours.
 */
export class DeviceRepository {
  constructor(private readonly table = tableName("Sync")) {}

  /**
   * Registers (or re-registers) a device. Re-registering updates only what registration owns
   * (platform, app version, primary, last seen): crisis mode and sessions are left as they are.
   */
  async register(userKey: string, request: DeviceRegistrationRequest, now = new Date()): Promise<{ device: DeviceRecord; created: boolean }> {
    const existing = (await this.list(userKey)).find((d) => d.deviceId === request.deviceId);
    const nowIso = now.toISOString();
    const device: DeviceRecord = {
      deviceId: request.deviceId,
      platform: request.platform,
      appVersion: request.appVersion ?? existing?.appVersion ?? null,
      primary: request.primary ?? existing?.primary ?? false,
      registeredAt: existing?.registeredAt ?? nowIso,
      lastSeenAt: nowIso,
      crisisMode: existing?.crisisMode ?? false,
      activeSessionId: existing?.activeSessionId ?? null,
    };
    try {
      await documentClient().send(new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: this.table,
              Item: { pk: ownerPk(request.deviceId), sk: "OWNER", userKey },
              ConditionExpression: "attribute_not_exists(pk) OR userKey = :userKey",
              ExpressionAttributeValues: { ":userKey": userKey },
            },
          },
          {
            Update: {
              TableName: this.table,
              Key: { pk: userPk(userKey), sk: deviceSk(request.deviceId) },
              UpdateExpression: `SET deviceId = :deviceId, platform = :platform, #primary = :primary, lastSeenAt = :now,
                registeredAt = if_not_exists(registeredAt, :now), crisisMode = if_not_exists(crisisMode, :off)${device.appVersion === null ? "" : ", appVersion = :appVersion"}`,
              ExpressionAttributeNames: { "#primary": "primary" },
              ExpressionAttributeValues: {
                ":deviceId": device.deviceId, ":platform": device.platform, ":primary": device.primary, ":now": nowIso, ":off": false,
                ...(device.appVersion === null ? {} : { ":appVersion": device.appVersion }),
              },
            },
          },
        ],
      }));
    } catch (error) {
      if (error instanceof TransactionCanceledException && error.CancellationReasons?.[0]?.Code === "ConditionalCheckFailed") {
        // Another user owns this id; saying so would confirm it exists, so it is a plain conflict.
        throw new ConflictError("This device id cannot be registered; generate a new one");
      }
      throw error;
    }
    return { device, created: existing === undefined };
  }

  async list(userKey: string): Promise<DeviceRecord[]> {
    const devices: DeviceRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await documentClient().send(new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues: { ":pk": userPk(userKey), ":prefix": "DEVICE#" },
        ExclusiveStartKey: startKey,
      }));
      devices.push(...(page.Items ?? []).map((item) => toDevice(item)));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return devices;
  }

  /** The caller's device, or 404: another user's device is indistinguishable from a missing one. */
  async get(userKey: string, deviceId: string): Promise<DeviceRecord> {
    const device = (await this.list(userKey)).find((d) => d.deviceId === deviceId);
    if (!device) throw new NotFoundError("Device not found");
    return device;
  }

  async remove(userKey: string, deviceId: string): Promise<void> {
    await this.get(userKey, deviceId);
    await documentClient().send(new TransactWriteCommand({
      TransactItems: [
        { Delete: { TableName: this.table, Key: { pk: userPk(userKey), sk: deviceSk(deviceId) } } },
        {
          Delete: {
            TableName: this.table,
            Key: { pk: ownerPk(deviceId), sk: "OWNER" },
            ConditionExpression: "userKey = :userKey",
            ExpressionAttributeValues: { ":userKey": userKey },
          },
        },
      ],
    }));
  }

  /** Records activity (device priority's "recent activity"); best effort, never throws, never resurrects a removed device. */
  async touch(userKey: string, device: DeviceRecord, now = new Date()): Promise<void> {
    const last = device.lastSeenAt ? Date.parse(device.lastSeenAt) : 0;
    if (now.getTime() - last < TOUCH_INTERVAL_MS) return;
    try {
      await documentClient().send(new UpdateCommand({
        TableName: this.table,
        Key: { pk: userPk(userKey), sk: deviceSk(device.deviceId) },
        UpdateExpression: "SET lastSeenAt = :now",
        ConditionExpression: "attribute_exists(pk)",
        ExpressionAttributeValues: { ":now": now.toISOString() },
      }));
    } catch (error) {
      // Activity is a hint for conflict tie-breaks: losing one update must not fail a push or pull.
      if (!(error instanceof ConditionalCheckFailedException)) logger.warn("device activity not recorded", { errorName: (error as Error).name });
    }
  }

  /**
   * A transaction item that starts (`sessionId`, until `untilMs`) or ends (`null`) a device's
   * active session; conditional on the device still being registered.
   */
  sessionItem(userKey: string, deviceId: string, sessionId: string | null, untilMs?: number): TransactItem {
    return {
      Update: {
        TableName: this.table,
        Key: { pk: userPk(userKey), sk: deviceSk(deviceId) },
        ...(sessionId === null
          ? { UpdateExpression: "REMOVE activeSessionId, activeSessionUntil" }
          : {
            UpdateExpression: "SET activeSessionId = :session, activeSessionUntil = :until",
            ExpressionAttributeValues: { ":session": sessionId, ":until": untilMs },
          }),
        ConditionExpression: "attribute_exists(pk)",
      },
    };
  }
}
