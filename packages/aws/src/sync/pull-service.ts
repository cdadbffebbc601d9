import { gzipSync } from "node:zlib";
import type { Change, SyncPullResponse } from "@paysync/core/api";
import { SyncPullResponseSchema } from "@paysync/core/api";
import { NotFoundError } from "@paysync/core/errors";
import { dailyDataExceeded, decodeCursor, encodeCursor } from "@paysync/core/sync";
import type { ChangeFeedStore, DeviceStore, PayloadCipher, StoredChange, TierSource, UsageLimitsStore } from "@paysync/core/ports";
import { policyFor } from "@paysync/core/tiers";

export interface PullRequest {
  userKey: string;
  deviceId: string;
  cursor: string | undefined;
  limit: number;
  acceptsGzip: boolean;
  now: Date;
}

export interface PullPage {
  response: SyncPullResponse;
  /** The encoded body: JSON, or gzip at the tier's level when the client accepts it (level 0: never). */
  body: Buffer;
  gzipped: boolean;
}

export interface PullPorts {
  feed: ChangeFeedStore;
  devices: DeviceStore;
  limits: UsageLimitsStore;
  tiers: TierSource;
  cipher: PayloadCipher;
}

/**
 * `GET /v1/sync/pull` behind the handler. One `Query` of the device's own feed partition per
 * page (cost ∝ page), payloads decrypted, bytes sent added to the day's data. Over the daily
 * allowance a pull is refused (429) — unless a priority >= 8 change is waiting after the
 * cursor: then the feed is served as usual, so crisis data is never held back.
 *
 * @example
 * const page = await pullService.pull({ userKey, deviceId, cursor, limit: 100, acceptsGzip: true, now: new Date() });
 */
export class PullService {
  private readonly feed: ChangeFeedStore;
  private readonly devices: DeviceStore;
  private readonly limits: UsageLimitsStore;

  constructor(private readonly ports: PullPorts) {
    this.feed = ports.feed;
    this.devices = ports.devices;
    this.limits = ports.limits;
  }

  async pull(request: PullRequest): Promise<PullPage> {
    const { userKey, deviceId, limit, now } = request;
    const afterSeq = decodeCursor(request.cursor);
    const [device, tier, used] = await Promise.all([
      this.devices.list(userKey).then((list) => list.find((d) => d.deviceId === deviceId)),
      this.ports.tiers.effectiveTier(userKey),
      this.limits.dailyUsage(userKey, now),
    ]);
    if (!device) throw new NotFoundError("Device not found");
    const policy = policyFor(tier);
    if (policy.dailyDataBytes !== null && used >= policy.dailyDataBytes) {
      const exemptWaiting = (await this.feed.lastExemptSeq(userKey, deviceId)) > afterSeq;
      if (!exemptWaiting) throw dailyDataExceeded(now.getTime());
    }
    const page = await this.feed.page(userKey, deviceId, afterSeq, limit);
    const changes = await Promise.all(page.changes.map((change) => this.toWire(userKey, change)));
    const response = SyncPullResponseSchema.parse({
      changes,
      cursor: encodeCursor(page.changes.at(-1)?.seq ?? afterSeq),
      hasMore: page.hasMore,
      minIntervalMs: policy.minPullIntervalMs,
    });
    const text = Buffer.from(JSON.stringify(response), "utf8");
    const gzipped = request.acceptsGzip && policy.compressionLevel > 0;
    const body = gzipped ? gzipSync(text, { level: policy.compressionLevel }) : text;
    await Promise.all([
      this.limits.chargeDaily(userKey, policy, body.length, "pull", now, false),
      this.devices.touch(userKey, device, now),
    ]);
    return { response, body, gzipped };
  }

  private async toWire(userKey: string, change: StoredChange): Promise<Change> {
    const payload = change.action === "delete" || change.payloadCipher === null
      ? null
      : await this.ports.cipher.decrypt(change.payloadCipher, { userKey, entityType: change.entityType });
    return {
      seq: change.seq,
      entityType: change.entityType as Change["entityType"],
      entityId: change.entityId,
      version: change.version,
      action: change.action,
      payload: payload as Change["payload"],
      priority: change.priority,
      originDeviceId: change.originDeviceId === "server" ? null : change.originDeviceId,
    };
  }
}
