import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { GetCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { Device, DeviceRegistrationRequest } from "@paysync/core/api";
import { ConflictError, NotFoundError } from "@paysync/core/errors";
import type { DeviceRecord, DeviceStore, StoreWrite } from "@paysync/core/ports";
import type { LastPull } from "@paysync/core/sync/bootstrap";
import { documentClient } from "../base/clients.js";
import { logger } from "../base/observability.js";
import { DEVICE_PREFIX, deviceCountKey, deviceKey, feedCounterKey, userPartition } from "./keys.js";
import { cancellationCodes, toStoreWrite, transactWrite, type TransactItem } from "./transactions.js";

export type { DeviceRecord };

/** Writes to `lastSeenAt` are skipped when the stored one is this recent (a pull every second costs no write). */
const TOUCH_INTERVAL_MS = 60_000;

/**
 * Devices per user: every change is fanned out to each device in one DynamoDB transaction
 * (at most 100 items), so the number of devices is bounded well below that.
 */
export const MAX_DEVICES_PER_USER = 20;

/** Parallel registrations each make progress (one commits per round), so a few rounds suffice. */
const MAX_REGISTRATION_ATTEMPTS = 25;

/** What a registration changes about which device is primary, or `undefined` when nothing. */
interface PrimaryChange {
  /** The name the count item must still hold (`undefined`: none) for the change to commit. */
  expected: string | undefined;
  /** The name it gets (`null`: none). */
  next: string | null;
  /** Devices to set non-primary in the same transaction. */
  demote: string[];
}

function primaryChange(device: DeviceRecord, devices: DeviceRecord[], current: string | undefined): PrimaryChange | undefined {
  if (device.primary) {
    // Every other device flagged primary, not only the named one: data from before the rule
    // may have several.
    const demote = devices.filter((d) => d.primary && d.deviceId !== device.deviceId).map((d) => d.deviceId);
    if (current === device.deviceId && demote.length === 0) return undefined;
    return { expected: current, next: device.deviceId, demote };
  }
  return current === device.deviceId ? { expected: current, next: null, demote: [] } : undefined;
}

/** The count item's update: the cap for a new device, the primary's name when it changes, each conditional. */
function countItemUpdate(newDevice: boolean, primary: PrimaryChange | undefined, deviceId: string) {
  const set: string[] = [];
  const conditions: string[] = [];
  const values: Record<string, unknown> = {};
  let expression = "";
  if (newDevice) {
    expression = "ADD devices :one";
    conditions.push("(attribute_not_exists(devices) OR devices < :max)");
    Object.assign(values, { ":one": 1, ":max": MAX_DEVICES_PER_USER });
  }
  if (primary) {
    if (primary.expected === undefined) conditions.push("attribute_not_exists(primaryDeviceId)");
    else {
      conditions.push("primaryDeviceId = :was");
      values[":was"] = primary.expected;
    }
    if (primary.next === null) expression = `${expression} REMOVE primaryDeviceId`;
    else {
      set.push("primaryDeviceId = :me");
      values[":me"] = deviceId;
    }
  }
  if (set.length > 0) expression = `${expression} SET ${set.join(", ")}`;
  return {
    UpdateExpression: expression.trim(),
    ConditionExpression: conditions.join(" AND "),
    ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
  };
}

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
    lastPull: typeof item.lastPullAtMs === "number"
      ? { atMs: item.lastPullAtMs, seq: (item.lastPullSeq as number | undefined) ?? -1, hasMore: Boolean(item.lastPullHasMore) }
      : null,
    pokedAtMs: (item.pokedAtMs as number | undefined) ?? 0,
  };
}

/**
 * Devices of a user. Device ids live in the user's own namespace: the same id registered by
 * two users is two devices, so a registration never reveals that another user has an id.
 * A per-user count, changed in the same transaction as the device item, caps the devices.
 */
export class DeviceRepository implements DeviceStore {
  constructor(private readonly table: string) {}

  /**
   * Registers (or re-registers) a device. Re-registering updates only what registration owns
   * (platform, app version, primary, last seen): crisis mode and sessions are left as they are.
   *
   * At most one device of a user is primary (device priority in conflicts counts it): a device
   * registered with `primary: true` demotes the previous primary in the same transaction. The
   * user's device-count item names the primary (`primaryDeviceId`) and every change of primary
   * is conditional on the name read, so of parallel registrations the last to commit is primary
   * and no two ever are.
   */
  async register(userKey: string, request: DeviceRegistrationRequest, now = new Date(), attempt = 1): Promise<{ device: DeviceRecord; created: boolean }> {
    if (attempt > MAX_REGISTRATION_ATTEMPTS) {
      throw new ConflictError("Other registrations of this user's devices keep changing them; retry shortly");
    }
    const retry = () => this.register(userKey, request, now, attempt + 1);
    const [devices, roster] = await Promise.all([this.list(userKey), this.roster(userKey)]);
    const existing = devices.find((d) => d.deviceId === request.deviceId);
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
      lastPull: existing?.lastPull ?? null,
      pokedAtMs: existing?.pokedAtMs ?? 0,
    };
    const update = {
      TableName: this.table,
      Key: deviceKey(userKey, request.deviceId),
      UpdateExpression: `SET deviceId = :deviceId, platform = :platform, #primary = :primary, lastSeenAt = :now,
        registeredAt = if_not_exists(registeredAt, :now), crisisMode = if_not_exists(crisisMode, :off)${device.appVersion === null ? "" : ", appVersion = :appVersion"}`,
      ExpressionAttributeNames: { "#primary": "primary" } as Record<string, string>,
      ExpressionAttributeValues: {
        ":deviceId": device.deviceId, ":platform": device.platform, ":primary": device.primary, ":now": nowIso, ":off": false,
        ...(device.appVersion === null ? {} : { ":appVersion": device.appVersion }),
      } as Record<string, unknown>,
    };
    const primary = primaryChange(device, devices, roster.primaryDeviceId);
    if (existing && !primary) {
      try {
        await documentClient().send(new UpdateCommand({ ...update, ConditionExpression: "attribute_exists(pk)" }));
        return { device, created: false };
      } catch (error) {
        // Removed meanwhile: register it as new.
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        return retry();
      }
    }
    // The count item carries the device cap (new devices) and the primary's name (changes of
    // primary): one update of it, since a transaction touches an item once.
    const countUpdate = countItemUpdate(existing === undefined, primary, device.deviceId);
    const demotions = (primary?.demote ?? []).map((deviceId): TransactItem => ({
      Update: {
        TableName: this.table, Key: deviceKey(userKey, deviceId),
        UpdateExpression: "SET #primary = :false", ConditionExpression: "attribute_exists(pk)",
        ExpressionAttributeNames: { "#primary": "primary" }, ExpressionAttributeValues: { ":false": false },
      },
    }));
    // A new device also advances the user's feed counter (`devicesAt`): a writer whose fan-out
    // was read before fails its counter condition and reads the devices again, so no commit
    // after this one misses the new device (its bootstrap relies on that).
    const items: TransactItem[] = [
      { Update: { TableName: this.table, Key: deviceCountKey(userKey), ...countUpdate } },
      { Update: { ...update, ConditionExpression: existing ? "attribute_exists(pk)" : "attribute_not_exists(pk)" } },
      ...(existing ? [] : [{
        Update: {
          TableName: this.table,
          Key: feedCounterKey(userKey),
          UpdateExpression: "SET seq = if_not_exists(seq, :zero) + :one, devicesAt = if_not_exists(seq, :zero) + :one",
          ExpressionAttributeValues: { ":zero": 0, ":one": 1 },
        },
      }]),
      ...demotions,
    ];
    try {
      await transactWrite(items);
    } catch (error) {
      const reasons = cancellationCodes(error);
      if (reasons === undefined) throw error;
      // The cap is full only if it still is on a fresh read; anything else changed meanwhile
      // (the primary, the device created or removed, a writer on the counter): start over.
      if (!existing && reasons[0] === "ConditionalCheckFailed" && (await this.roster(userKey)).devices >= MAX_DEVICES_PER_USER) {
        throw new ConflictError(`A user can register at most ${MAX_DEVICES_PER_USER} devices; remove one first`, { limit: MAX_DEVICES_PER_USER });
      }
      if (reasons.some((code) => code === "ConditionalCheckFailed" || code === "TransactionConflict")) return retry();
      throw error;
    }
    return { device, created: existing === undefined };
  }

  /** The user's device-count item: how many devices, and which is primary. */
  private async roster(userKey: string): Promise<{ devices: number; primaryDeviceId: string | undefined }> {
    const { Item } = await documentClient().send(new GetCommand({ TableName: this.table, Key: deviceCountKey(userKey), ConsistentRead: true }));
    return { devices: (Item?.devices as number | undefined) ?? 0, primaryDeviceId: Item?.primaryDeviceId as string | undefined };
  }

  async list(userKey: string): Promise<DeviceRecord[]> {
    const devices: DeviceRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await documentClient().send(new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues: { ":pk": userPartition(userKey), ":prefix": DEVICE_PREFIX },
        // Strongly consistent: a fan-out read right after a registration must see the device.
        ConsistentRead: true,
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
    try {
      await transactWrite([
        {
          Delete: {
            TableName: this.table, Key: deviceKey(userKey, deviceId),
            ConditionExpression: "attribute_exists(pk)",
          },
        },
        {
          Update: {
            TableName: this.table, Key: deviceCountKey(userKey),
            UpdateExpression: "ADD devices :minusOne", ConditionExpression: "devices > :zero",
            ExpressionAttributeValues: { ":minusOne": -1, ":zero": 0 },
          },
        },
      ]);
    } catch (error) {
      // Removed meanwhile by another request: the result the caller asked for.
      if (cancellationCodes(error)?.[0] === "ConditionalCheckFailed") return;
      throw error;
    }
  }

  /** Records activity (device priority's "recent activity"); best effort, never throws, never resurrects a removed device. */
  async touch(userKey: string, device: DeviceRecord, now = new Date()): Promise<void> {
    const last = device.lastSeenAt ? Date.parse(device.lastSeenAt) : 0;
    if (now.getTime() - last < TOUCH_INTERVAL_MS) return;
    try {
      await documentClient().send(new UpdateCommand({
        TableName: this.table,
        Key: deviceKey(userKey, device.deviceId),
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
   * Records a served pull (time, where its cursor points, whether it said `hasMore`) with the
   * device's activity, in the device's own item: the write `touch` would make anyway, made on
   * every served pull, in parallel with the pull's other write — no extra round trip.
   */
  async recordPull(userKey: string, device: DeviceRecord, pull: LastPull): Promise<void> {
    await this.bestEffort("pull not recorded", {
      TableName: this.table,
      Key: deviceKey(userKey, device.deviceId),
      UpdateExpression: "SET lastSeenAt = :now, lastPullAtMs = :at, lastPullSeq = :seq, lastPullHasMore = :more",
      ConditionExpression: "attribute_exists(pk)",
      ExpressionAttributeValues: { ":now": new Date(pull.atMs).toISOString(), ":at": pull.atMs, ":seq": pull.seq, ":more": pull.hasMore },
    });
  }

  /** Records that a poke reached the device's connections: its next pull may come before the interval. */
  async recordPoke(userKey: string, deviceId: string, atMs: number): Promise<void> {
    await this.bestEffort("poke not recorded", {
      TableName: this.table,
      Key: deviceKey(userKey, deviceId),
      UpdateExpression: "SET pokedAtMs = :at",
      ConditionExpression: "attribute_exists(pk) AND (attribute_not_exists(pokedAtMs) OR pokedAtMs < :at)",
      ExpressionAttributeValues: { ":at": atMs },
    });
  }

  private async bestEffort(what: string, update: ConstructorParameters<typeof UpdateCommand>[0]): Promise<void> {
    try {
      await documentClient().send(new UpdateCommand(update));
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) logger.warn(what, { errorName: (error as Error).name });
    }
  }

  sessionWrite(userKey: string, deviceId: string, sessionId: string | null, untilMs?: number): StoreWrite {
    return toStoreWrite({
      Update: {
        TableName: this.table,
        Key: deviceKey(userKey, deviceId),
        ...(sessionId === null
          ? { UpdateExpression: "REMOVE activeSessionId, activeSessionUntil" }
          : {
            UpdateExpression: "SET activeSessionId = :session, activeSessionUntil = :until",
            ExpressionAttributeValues: { ":session": sessionId, ":until": untilMs },
          }),
        ConditionExpression: "attribute_exists(pk)",
      },
    });
  }

  crisisFlagWrite(userKey: string, deviceId: string, crisisMode: boolean): StoreWrite {
    return toStoreWrite({
      Update: {
        TableName: this.table,
        Key: deviceKey(userKey, deviceId),
        UpdateExpression: "SET crisisMode = :on",
        ConditionExpression: "attribute_exists(pk)",
        ExpressionAttributeValues: { ":on": crisisMode },
      },
    });
  }
}
