import { gzipSync } from "node:zlib";
import type { Change, SyncPullResponse } from "@paysync/core/api";
import { SyncPullResponseSchema } from "@paysync/core/api";
import { NotFoundError } from "@paysync/core/errors";
import { dailyDataExceeded, decodeCursor, encodeCursor } from "@paysync/core/sync";
import { policyFor, type Tier } from "@paysync/core/tiers";
import { tableName } from "../config.js";
import type { PayloadCipher } from "../envelope.js";
import { payloadCipher } from "../payload-cipher.js";
import { readEffectiveTier } from "../payments/tier-reader.js";
import { ChangeFeed, type StoredChange } from "./change-feed.js";
import { DeviceRepository } from "./device-repository.js";
import { UsageLimits } from "./usage-limits.js";

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

export interface PullDependencies {
  table?: string;
  cipher?: () => PayloadCipher;
  tierOf?: (userKey: string) => Promise<Tier>;
}

/**
 * `GET /v1/sync/pull` behind the handler. One `Query` of the device's own feed partition per
 * page (cost ∝ page), payloads decrypted, bytes sent added to the day's data. Over the daily
 * allowance a pull is refused (429) — unless a priority >= 8 change is waiting after the
 * cursor: then the feed is served as usual, so crisis data is never held back.
 *
 * @example
 * const page = await new PullService().pull({ userKey, deviceId, cursor, limit: 100, acceptsGzip: true, now: new Date() });
 */
export class PullService {
  private readonly feed: ChangeFeed;
  private readonly devices: DeviceRepository;
  private readonly limits: UsageLimits;
  private readonly cipher: () => PayloadCipher;
  private readonly tierOf: (userKey: string) => Promise<Tier>;

  constructor(deps: PullDependencies = {}) {
    const table = deps.table ?? tableName("Sync");
    this.feed = new ChangeFeed(table);
    this.devices = new DeviceRepository(table);
    this.limits = new UsageLimits(table);
    this.cipher = deps.cipher ?? payloadCipher;
    this.tierOf = deps.tierOf ?? ((userKey) => readEffectiveTier(userKey));
  }

  async pull(request: PullRequest): Promise<PullPage> {
    const { userKey, deviceId, limit, now } = request;
    const afterSeq = decodeCursor(request.cursor);
    const [device, tier, used] = await Promise.all([
      this.devices.list(userKey).then((list) => list.find((d) => d.deviceId === deviceId)),
      this.tierOf(userKey),
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
      : await this.cipher().decrypt(change.payloadCipher, { userKey, entityType: change.entityType });
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
