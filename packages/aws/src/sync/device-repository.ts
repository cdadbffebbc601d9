import { QueryCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { ConflictError, NotFoundError } from "@paysync/core/errors";
import type { Device, DeviceRegistrationRequest } from "@paysync/core/api";
import { documentClient } from "../clients.js";
import { tableName } from "../config.js";

export interface DeviceRecord extends Device {
  crisisMode: boolean;
  activeSessionId: string | null;
}

const userPk = (userKey: string) => `USER#${userKey}`;
const deviceSk = (deviceId: string) => `DEVICE#${deviceId}`;
const ownerPk = (deviceId: string) => `DEVICEID#${deviceId}`;

function toDevice(item: Record<string, unknown>): DeviceRecord {
  return {
    deviceId: item.deviceId as string,
    platform: item.platform as Device["platform"],
    appVersion: (item.appVersion as string | undefined) ?? null,
    primary: Boolean(item.primary),
    registeredAt: item.registeredAt as string,
    lastSeenAt: (item.lastSeenAt as string | undefined) ?? null,
    crisisMode: Boolean(item.crisisMode),
    activeSessionId: (item.activeSessionId as string | undefined) ?? null,
  };
}

/**
 * Devices of a user. A device id belongs to exactly one user: an ownership record keyed by
 * the device id is written in the same transaction, conditional on being free or ours.
 */
export class DeviceRepository {
  constructor(private readonly table = tableName("Sync")) {}

  async register(userKey: string, request: DeviceRegistrationRequest, now = new Date()): Promise<{ device: DeviceRecord; created: boolean }> {
    const existing = (await this.list(userKey)).find((d) => d.deviceId === request.deviceId);
    const registeredAt = existing?.registeredAt ?? now.toISOString();
    const item = {
      pk: userPk(userKey),
      sk: deviceSk(request.deviceId),
      deviceId: request.deviceId,
      platform: request.platform,
      appVersion: request.appVersion ?? existing?.appVersion ?? undefined,
      primary: request.primary ?? existing?.primary ?? false,
      registeredAt,
      lastSeenAt: now.toISOString(),
      crisisMode: existing?.crisisMode ?? false,
      activeSessionId: existing?.activeSessionId ?? undefined,
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
          { Put: { TableName: this.table, Item: item } },
        ],
      }));
    } catch (error) {
      if (error instanceof TransactionCanceledException && error.CancellationReasons?.[0]?.Code === "ConditionalCheckFailed") {
        // Another user owns this id; saying so would confirm it exists, so it is a plain conflict.
        throw new ConflictError("This device id cannot be registered; generate a new one");
      }
      throw error;
    }
    return { device: toDevice(item), created: existing === undefined };
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
      devices.push(...(page.Items ?? []).map(toDevice));
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
}

