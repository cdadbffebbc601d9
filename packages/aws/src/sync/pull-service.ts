import { gzipSync } from "node:zlib";
import type { Change, SyncPullResponse } from "@paysync/core/api";
import { SyncPullResponseSchema } from "@paysync/core/api";
import type { CrisisDirectoryVersion } from "@paysync/core/api/crisis-directory";
import { currentDirectory, DIRECTORY_ENTITY_ID, pullCarriesDirectory } from "@paysync/core/crisis/directory";
import { NotFoundError, ResyncRequiredError } from "@paysync/core/errors";
import { CLASS_PRIORITY } from "@paysync/core/sync/entities";
import {
  dailyDataExceeded, decodeCursor, encodeCursor, encodeSnapshotCursor, pullIntervalCheck, SERVER_ORIGIN, visibleInSnapshot,
  type EntityPosition, type PullPosition,
} from "@paysync/core/sync";
import type {
  ChangeFeedStore, CrisisDirectoryStore, DeviceRecord, DeviceStore, EntityStore, FeedMarks, PayloadCipher, StoredChange, StoredEntity, TierSource,
  UsageLimitsStore,
} from "@paysync/core/ports";
import { policyFor, type TierPolicy } from "@paysync/core/tiers";

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
  entities: EntityStore;
  limits: UsageLimitsStore;
  tiers: TierSource;
  cipher: PayloadCipher;
  /** The crisis directory (cached by the adapter); absent: the bundled copy. */
  directory?: CrisisDirectoryStore;
}

/** Entity queries one snapshot page may make to fill itself (pages of tombstones or hidden entities). */
const MAX_SNAPSHOT_QUERIES = 4;

type Page = Omit<SyncPullResponse, "minIntervalMs">;

/**
 * `GET /v1/sync/pull` behind the handler.
 *
 * - **Bootstrap** (no cursor): the snapshot point `S` is the user's commit sequence, read first.
 *   Snapshot pages list the user's current entities in key order (a Query on the entity prefix:
 *   cost ∝ live entities, not history) as `upsert`s with `snapshot: true`, skipping tombstones,
 *   what the device may not see, and any entity written by a commit after `S` whose change the
 *   device's feed holds (the feed delivers it). Then the cursor switches to the feed at `S`.
 * - **Feed**: one `Query` of the device's own feed partition per page (cost ∝ page). A cursor
 *   below the purge watermark answers 410 `resync_required`; a pull sooner than the tier's
 *   interval answers 429 `pull_interval` unless it continues a `hasMore` page, the device was
 *   poked since, or a change of priority >= 7 waits; over the daily allowance 429 unless a
 *   priority >= 8 change waits.
 *
 * - **Crisis directory** (SPEC.md §4.2): global, so never a per-user feed entry. A cursor says
 *   which directory version the device was given (`~<n>`, none: 0); a page whose cursor is
 *   behind the current version carries it first, as a `crisis_directory` upsert (entity id
 *   `current`, version = directory version, `snapshot: true` in a bootstrap), beyond `limit`,
 *   and answers a cursor with the new version. A bootstrap's first page always carries it. If
 *   the directory cannot be read the page goes without it and the cursor keeps the old
 *   version, so a later page brings it: never lost, never a failed pull.
 *
 * Payloads are decrypted, the bytes sent charged to the day's data, the pull recorded with the
 * device (one write, beside the charge).
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
    const { userKey, deviceId, now } = request;
    const position = decodeCursor(request.cursor);
    // Every read in one round trip; the snapshot point is read before any entity.
    const [device, tier, used, marks, startSeq, directory] = await Promise.all([
      this.devices.list(userKey).then((list) => list.find((d) => d.deviceId === deviceId)),
      this.ports.tiers.effectiveTier(userKey),
      this.limits.dailyUsage(userKey, now),
      position.phase === "feed" ? this.feed.marks(userKey, deviceId) : undefined,
      position.phase === "start" ? this.feed.readSeq(userKey) : undefined,
      this.directory(),
    ]);
    if (!device) throw new NotFoundError("Device not found");
    const policy = policyFor(tier);
    const carried = directory !== undefined && pullCarriesDirectory(position.directoryVersion, directory) ? directory : undefined;
    const givenVersion = carried?.version ?? position.directoryVersion;
    const page = position.phase === "feed" && marks
      ? await this.feedPage(request, device, policy, position.seq, marks, used, givenVersion)
      : await this.snapshotPage(request, policy, snapshotStart(position, startSeq ?? 0), givenVersion);
    if (carried) {
      const bootstrap = position.phase !== "feed";
      const at = bootstrap ? snapshotStart(position, startSeq ?? 0).snapshotSeq : position.seq;
      page.changes.unshift(directoryChange(carried, at, bootstrap));
    }
    const response = SyncPullResponseSchema.parse({ ...page, minIntervalMs: policy.minPullIntervalMs });
    const text = Buffer.from(JSON.stringify(response), "utf8");
    const gzipped = request.acceptsGzip && policy.compressionLevel > 0;
    const body = gzipped ? gzipSync(text, { level: policy.compressionLevel }) : text;
    const cursorSeq = page.phase === "feed" ? feedSeqOf(page.cursor) : -1;
    await Promise.all([
      this.limits.chargeDaily(userKey, policy, body.length, "pull", now, false),
      this.devices.recordPull(userKey, device, { atMs: now.getTime(), seq: cursorSeq, hasMore: page.hasMore }),
    ]);
    return { response, body, gzipped };
  }

  /** The current directory, or `undefined` when it cannot be read (the page goes without it). */
  private async directory(): Promise<CrisisDirectoryVersion | undefined> {
    if (!this.ports.directory) return currentDirectory(undefined);
    try {
      return currentDirectory(await this.ports.directory.current());
    } catch {
      return undefined;
    }
  }

  private async feedPage(request: PullRequest, device: DeviceRecord, policy: TierPolicy, afterSeq: number, marks: FeedMarks, used: number, directoryVersion: number): Promise<Page> {
    const { userKey, deviceId, limit, now } = request;
    if (afterSeq < marks.purgedThroughSeq) throw new ResyncRequiredError();
    const interval = pullIntervalCheck({
      nowMs: now.getTime(), minIntervalMs: policy.minPullIntervalMs, last: device.lastPull, cursorSeq: afterSeq,
      pokedAtMs: device.pokedAtMs, urgentSeq: marks.lastUrgentSeq,
    });
    if (!interval.ok) throw interval.error;
    if (policy.dailyDataBytes !== null && used >= policy.dailyDataBytes && marks.lastExemptSeq <= afterSeq) throw dailyDataExceeded(now.getTime());
    const page = await this.feed.page(userKey, deviceId, afterSeq, limit);
    const changes = await Promise.all(page.changes.map((change) => this.feedChange(userKey, change)));
    return { changes, cursor: encodeCursor(page.changes.at(-1)?.seq ?? afterSeq, directoryVersion), hasMore: page.hasMore, phase: "feed" };
  }

  /**
   * One snapshot page. Not throttled and not refused by the daily allowance: a bootstrap is
   * what a new or rebuilt device needs before anything else, crisis data included.
   */
  private async snapshotPage(request: PullRequest, policy: TierPolicy, start: { snapshotSeq: number; after: EntityPosition | null }, directoryVersion: number): Promise<Page> {
    const { userKey, deviceId, limit } = request;
    const { snapshotSeq } = start;
    const taken: StoredEntity[] = [];
    let after = start.after;
    let exhausted = false;
    for (let queries = 0; queries < MAX_SNAPSHOT_QUERIES && taken.length < limit && !exhausted; queries++) {
      const page = await this.ports.entities.snapshotPage(userKey, after, limit - taken.length);
      taken.push(...await this.snapshotEntities(userKey, deviceId, policy, snapshotSeq, page.entities));
      after = page.last;
      exhausted = page.exhausted;
    }
    const changes = await Promise.all(taken.map((entity) => this.snapshotChange(userKey, entity)));
    if (!exhausted) return { changes, cursor: encodeSnapshotCursor(snapshotSeq, after, directoryVersion), hasMore: true, phase: "snapshot" };
    // The switch: from here on the feed after S delivers what the snapshot did not carry.
    const waiting = await this.feed.page(userKey, deviceId, snapshotSeq, 1);
    return { changes, cursor: encodeCursor(snapshotSeq, directoryVersion), hasMore: waiting.changes.length > 0, phase: "feed" };
  }

  /**
   * The entities of one page the snapshot carries. An entity written after S is left to the
   * feed only when the device's feed holds that very change; otherwise (a write that had no
   * change for this device) the snapshot carries it, so nothing falls between the two.
   */
  private async snapshotEntities(userKey: string, deviceId: string, policy: TierPolicy, snapshotSeq: number, entities: StoredEntity[]): Promise<StoredEntity[]> {
    const visible = entities.filter((entity) => visibleInSnapshot(entity, deviceId, policy.crossDeviceSync));
    const later = visible.filter((entity) => entity.commitSeq > snapshotSeq);
    const inFeed = await this.feed.delivered(userKey, deviceId, later.map((entity) => ({
      seq: entity.commitSeq, entityType: entity.entityType, entityId: entity.entityId, version: entity.version,
    })));
    return visible.filter((entity) => entity.commitSeq <= snapshotSeq || !inFeed.has(entity.commitSeq));
  }

  private async snapshotChange(userKey: string, entity: StoredEntity): Promise<Change> {
    const payload = entity.payloadCipher === null ? null : await this.ports.cipher.decrypt(entity.payloadCipher, { userKey, entityType: entity.entityType, entityId: entity.entityId });
    return {
      seq: entity.commitSeq,
      entityType: entity.entityType as Change["entityType"],
      entityId: entity.entityId,
      version: entity.version,
      action: "upsert",
      payload: payload as Change["payload"],
      priority: entity.priority,
      originDeviceId: originOf(entity.originDeviceId),
      snapshot: true,
    };
  }

  private async feedChange(userKey: string, change: StoredChange): Promise<Change> {
    const payload = change.action === "delete" || change.payloadCipher === null
      ? null
      : await this.ports.cipher.decrypt(change.payloadCipher, { userKey, entityType: change.entityType, entityId: change.entityId });
    return {
      seq: change.seq,
      entityType: change.entityType as Change["entityType"],
      entityId: change.entityId,
      version: change.version,
      action: change.action,
      payload: payload as Change["payload"],
      priority: change.priority,
      originDeviceId: originOf(change.originDeviceId),
    };
  }
}

/** The directory as a change: at the cursor's position in the feed (it is no feed entry), a snapshot in a bootstrap. */
function directoryChange(current: CrisisDirectoryVersion, seq: number, snapshot: boolean): Change {
  return {
    seq,
    entityType: "crisis_directory",
    entityId: DIRECTORY_ENTITY_ID,
    version: current.version,
    action: "upsert",
    payload: current as unknown as Change["payload"],
    priority: CLASS_PRIORITY.crisis_directory,
    originDeviceId: null,
    ...(snapshot ? { snapshot: true as const } : {}),
  };
}

const originOf = (origin: string): string | null => (origin === SERVER_ORIGIN ? null : origin);

function snapshotStart(position: PullPosition, startSeq: number): { snapshotSeq: number; after: EntityPosition | null } {
  return position.phase === "snapshot" ? { snapshotSeq: position.snapshotSeq, after: position.after } : { snapshotSeq: startSeq, after: null };
}

function feedSeqOf(cursor: string): number {
  const position = decodeCursor(cursor);
  return position.phase === "feed" ? position.seq : -1;
}
