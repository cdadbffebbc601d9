/**
 * The ports: what the services need of storage, queues, the audit trail and encryption,
 * as interfaces with no AWS in them. `packages/aws/src/store/` implements them on DynamoDB,
 * SQS and KMS; `packages/aws/src/wiring.ts` builds them once per cold start and hands them to
 * the services' constructors; a unit test of a decision hands in-memory ones instead.
 *
 * One DynamoDB transaction often spans several stores (an op record, an entity, a device flag
 * and feed entries commit together). A store therefore hands out `StoreWrite`s — opaque
 * descriptions of a conditional write — and the change feed commits them atomically with its
 * entries (`ChangeFeedStore.append`). Only the store that made a write can read it.
 *
 * @example
 * const seqs = await feed.append(userKey, changes, [devices.sessionWrite(userKey, "tablet", "s-1", until)]);
 */
import type { Device, DeviceRegistrationRequest } from "./api/account.js";
import type { CrisisDirectoryVersion, RegionCode } from "./api/crisis-directory.js";
import type { AuditRecord } from "./audit/chain.js";
import type { KeptEntry } from "./audit/kept.js";
import type { LimitExceededError } from "./errors.js";
import type { Check } from "./sync/limits.js";
import type { EntityPosition } from "./sync/cursor.js";
import type { LastPull } from "./sync/bootstrap.js";
import type { SyncOpMessage } from "./sync/op-message.js";
import type { SyncLane } from "./sync/priority.js";
import type { Tier, TierPolicy } from "./tiers.js";

declare const storeWriteBrand: unique symbol;

/** A conditional write made by one store for another store's atomic commit. */
export interface StoreWrite {
  readonly [storeWriteBrand]: true;
}

/**
 * A condition of a commit failed. `reasons[i]` is the outcome of the caller's i-th extra write
 * (`"ConditionalCheckFailed"`, `"None"` …), so a caller can tell which of its writes lost.
 */
export class WriteConditionFailed extends Error {
  constructor(readonly reasons: (string | undefined)[]) {
    super("a condition of the commit failed");
    this.name = "WriteConditionFailed";
  }
}

/**
 * The user's device list moved (a device registered) after the caller read it: the caller's
 * fan-out may miss the new device, so it reads again and retries rather than commit.
 */
export class FanoutMoved extends WriteConditionFailed {
  constructor() {
    super([]);
    this.name = "FanoutMoved";
  }
}

// ── devices ────────────────────────────────────────────────────────────────────────────────

export interface DeviceRecord extends Device {
  crisisMode: boolean;
  /** The session handed off to this device, while it counts as active. */
  activeSessionId: string | null;
  /** The device's previous served pull (the pull interval is measured from it). */
  lastPull: LastPull | null;
  /** When a poke was last posted to one of its connections (0: never). */
  pokedAtMs: number;
}

export interface DeviceStore {
  /** Registers or re-registers (what registration owns only); `created` for a new device. */
  register(userKey: string, request: DeviceRegistrationRequest, now?: Date): Promise<{ device: DeviceRecord; created: boolean }>;
  list(userKey: string): Promise<DeviceRecord[]>;
  /** The caller's device, or `NotFoundError`: another user's device is indistinguishable from a missing one. */
  get(userKey: string, deviceId: string): Promise<DeviceRecord>;
  remove(userKey: string, deviceId: string): Promise<void>;
  /** Records activity; best effort, never throws. */
  touch(userKey: string, device: DeviceRecord, now?: Date): Promise<void>;
  /** Records a served pull (and activity) in the device's item; best effort, never throws. */
  recordPull(userKey: string, device: DeviceRecord, pull: LastPull): Promise<void>;
  /** Records that a poke was posted to the device; best effort, never throws. */
  recordPoke(userKey: string, deviceId: string, atMs: number): Promise<void>;
  /** Starts (`sessionId`, until `untilMs`) or ends (`null`) a device's active session, while it is registered. */
  sessionWrite(userKey: string, deviceId: string, sessionId: string | null, untilMs?: number): StoreWrite;
  /** Sets a device's crisis flag, while it is registered. */
  crisisFlagWrite(userKey: string, deviceId: string, crisisMode: boolean): StoreWrite;
}

// ── the change feed ────────────────────────────────────────────────────────────────────────

/** One change as stored in a device's feed. The payload is envelope-encrypted. */
export interface FeedChange {
  entityType: string;
  entityId: string;
  version: number;
  action: "upsert" | "delete";
  /** Ciphertext from the payload cipher, or null for deletes. */
  payloadCipher: string | null;
  priority: number;
  /** The device the change came from; `server` for server-originated changes. */
  originDeviceId: string;
  /** The devices whose feed receives it. */
  targetDeviceIds: string[];
}

export interface StoredChange extends Omit<FeedChange, "targetDeviceIds"> {
  seq: number;
  createdAt: string;
}

/** The sequence numbers one commit gets: `seqs[i]` is `changes[i]`'s; every earlier commit is at or below `after`. */
export interface CommitSeqs {
  seqs: readonly number[];
  after: number;
}

/** The writes of a commit, or a function of the commit's sequence numbers (rebuilt on every attempt). */
export type CommitWrites = StoreWrite[] | ((commit: CommitSeqs) => StoreWrite[]);

/** Per-device marks the feed keeps beside the entries. */
export interface FeedMarks {
  /** Seq of the newest priority >= 8 change (0: none ever): data caps never hold it back. */
  lastExemptSeq: number;
  /** Seq of the newest priority >= 7 change (0: none ever): the pull interval never holds it back. */
  lastUrgentSeq: number;
  /** The highest seq the retention purge removed (0: none): a cursor below it must resync. */
  purgedThroughSeq: number;
}

/** A change a snapshot would skip because the device's feed should deliver it. */
export interface FeedProbe {
  seq: number;
  entityType: string;
  entityId: string;
  version: number;
}

export interface ChangeFeedStore {
  /**
   * Appends changes and commits `writes` in the same transaction, sequence numbers from the
   * user's counter (commit order). Retries when another writer advanced the counter; a failed
   * condition of one of `writes` throws `WriteConditionFailed`, a device registered since
   * `knownSeq` throws `FanoutMoved`. `knownSeq`: a counter value the caller read alongside its
   * other reads, the device list among them (a stale one only costs a retry).
   */
  append(userKey: string, changes: FeedChange[], writes?: CommitWrites, now?: Date, knownSeq?: number): Promise<number[]>;
  /** The last sequence number given out. */
  readSeq(userKey: string): Promise<number>;
  /** The device's changes after `afterSeq`, one page. */
  page(userKey: string, deviceId: string, afterSeq: number, limit: number): Promise<{ changes: StoredChange[]; hasMore: boolean }>;
  /** The device's marks, in one read. */
  marks(userKey: string, deviceId: string): Promise<FeedMarks>;
  /** The seqs of the probes that the device's feed holds (same entity and version). */
  delivered(userKey: string, deviceId: string, probes: readonly FeedProbe[]): Promise<Set<number>>;
}

// ── entities, history, op records, conflicts ───────────────────────────────────────────────

/** An entity's current version as stored (`item`: the whole stored record, for history copies). */
export interface StoredEntity {
  entityType: string;
  entityId: string;
  version: number;
  action: "upsert" | "delete";
  payloadCipher: string | null;
  clientTime: string;
  devicePriority: number;
  originDeviceId: string;
  priority: number;
  updatedAt: string;
  /** The commit sequence of the change that wrote this version (0: written before it was recorded). */
  commitSeq: number;
  item: Record<string, unknown>;
}

/** A new current version of an entity, payload already encrypted. */
export interface EntityVersion {
  entityType: string;
  entityId: string;
  version: number;
  action: "upsert" | "delete";
  payloadCipher: string | null;
  clientTime: string;
  devicePriority: number;
  originDeviceId: string;
  priority: number;
  /** The commit sequence of the change that writes it (see `CommitSeqs`). */
  commitSeq?: number;
}

/** An op as kept in history or in a manual conflict. */
export interface RecordedOp {
  opId: string;
  entityType: string;
  entityId: string;
  baseVersion: number;
  action: "upsert" | "delete";
  payloadCipher: string | null;
  clientTime: string;
  devicePriority: number;
  originDeviceId: string;
  priority: number;
}

export type OpOutcome = "applied" | "conflict" | "lost_lww";

export interface OpenConflict {
  conflictId: string;
  entityType: string;
  entityId: string;
  currentVersion: number;
  incoming: RecordedOp;
  createdAt: string;
  status: "open" | "resolved";
}

export interface EntityStore {
  get(userKey: string, entityType: string, entityId: string): Promise<StoredEntity | undefined>;
  /** Every current entity of one type of the user. */
  ofType(userKey: string, entityType: string): Promise<StoredEntity[]>;
  /** The op record of an op applied (or conflicted, or lost), if any. */
  readOp(userKey: string, opId: string): Promise<{ outcome: string; version: number } | undefined>;
  /** Which of these op ids have an op record. */
  recordedOps(userKey: string, opIds: readonly string[]): Promise<Set<string>>;
  /** The op record, written once: its condition fails when the op was recorded before. */
  opRecordWrite(userKey: string, opId: string, outcome: OpOutcome, version: number, now: Date): StoreWrite;
  /** The new current version, conditional on the version it replaces (`undefined`: none yet). */
  entityWrite(userKey: string, entity: EntityVersion, replacing: number | undefined, now: Date): StoreWrite;
  /** A server-originated entity's current version, unconditional (its source of truth is elsewhere, e.g. payment state). */
  serverEntityWrite(userKey: string, entity: EntityVersion, now: Date): StoreWrite;
  /**
   * One page of the user's current entities (tombstones included), in key order after
   * `after`: a Query on the entity prefix only, so its cost follows live entities, not history.
   */
  snapshotPage(userKey: string, after: EntityPosition | null, limit: number): Promise<{ entities: StoredEntity[]; last: EntityPosition | null; exhausted: boolean }>;
  /** The replaced current version, moved to history, naming what superseded it. */
  supersededWrite(userKey: string, current: StoredEntity, supersededBy: string): StoreWrite;
  /** An op kept in history as it arrived (a last-writer-wins loser, a manual conflict's incoming side). */
  opHistoryWrite(userKey: string, op: RecordedOp, now: Date): StoreWrite;
  conflictWrite(userKey: string, op: RecordedOp, currentVersion: number, now: Date): StoreWrite;
  openConflicts(userKey: string): Promise<OpenConflict[]>;
  conflict(userKey: string, conflictId: string): Promise<OpenConflict | undefined>;
  /** Closes an open conflict (condition: still open). */
  closeConflictWrite(userKey: string, conflictId: string, resolution: string, now: Date): StoreWrite;
  /** Closes an open conflict on its own; `false` when it was no longer open. */
  closeConflict(userKey: string, conflictId: string, resolution: string, now: Date): Promise<boolean>;
}

// ── tier limits ────────────────────────────────────────────────────────────────────────────

export interface PendingReservation {
  /** Counted as pending: enqueue these. */
  reserved: string[];
  /** Already pending or already applied. */
  duplicates: string[];
  /** Over the offline queue limit, with everything after them. */
  refused: string[];
  error?: LimitExceededError;
}

/** Priority-8 writes of one session entity in one request. */
export interface SessionUse {
  entityType: string;
  entityId: string;
  ops: number;
  bytes: number;
}

export interface UsageLimitsStore {
  chargeDaily(userKey: string, policy: TierPolicy, bytes: number, direction: "push" | "pull", now: Date, enforce?: boolean): Promise<Check>;
  refundDaily(userKey: string, bytes: number, now: Date): Promise<void>;
  dailyUsage(userKey: string, now: Date): Promise<number>;
  takeBandwidth(userKey: string, policy: TierPolicy, bytes: number, now: Date): Promise<Check>;
  pendingCount(userKey: string): Promise<number>;
  reservePending(userKey: string, opIds: readonly string[], policy: TierPolicy, now: Date): Promise<PendingReservation>;
  releasePending(userKey: string, opIds: readonly string[]): Promise<void>;
  hasPendingSlot(userKey: string, opId: string): Promise<boolean>;
  /**
   * Counts priority-8 writes (per session entity, and for the user) against today's active-session
   * ceiling, all or nothing; refused when any count would pass it.
   */
  chargeSessionUse(userKey: string, sessions: readonly SessionUse[], now: Date): Promise<Check>;
  /** For an apply's commit: the op leaves the pending count exactly once. */
  releaseWrites(userKey: string, opId: string): StoreWrite[];
}

// ── crisis directory ─────────────────────────────────────────────────────────────────────────

/**
 * The crisis directory's current version (SPEC.md §4.2): one global record, not per user.
 * Readers fall back to the bundled copy (`currentDirectory`) when nothing is stored.
 */
export interface CrisisDirectoryStore {
  /** The stored current version; `undefined` when none was ever stored. Throws when storage fails. */
  current(): Promise<CrisisDirectoryVersion | undefined>;
  /**
   * Stores `next` as the current version (and keeps it as that version's record) if the stored
   * current version is still `expectedVersion` (`undefined`: none stored); else throws
   * {@link WriteConditionFailed} and stores nothing.
   */
  put(next: CrisisDirectoryVersion, expectedVersion: number | undefined): Promise<void>;
}

/** The region a user saved for their crisis lines (`PUT /v1/crisis/region`). */
export interface CrisisRegionStore {
  /** `undefined` when none was saved. Throws when storage fails. */
  get(userKey: string): Promise<RegionCode | undefined>;
  put(userKey: string, region: RegionCode, now?: Date): Promise<void>;
}

// ── payments, lanes, audit, encryption ─────────────────────────────────────────────────────

/** The tier to enforce for a user now (a grace period past its end is `free`). */
export interface TierSource {
  effectiveTier(userKey: string, now?: Date): Promise<Tier>;
}

export interface LaneMessage {
  lane: SyncLane;
  /** `userKey#shard` (pseudonymous). */
  groupId: string;
  message: SyncOpMessage;
}

export interface LaneSink {
  /** Sends in request order per lane; answers the opIds that could not be sent (nothing is retried here). */
  publish(messages: readonly LaneMessage[]): Promise<{ failed: string[] }>;
}

/** A data-free "pull now" for one device, at the priority of what is waiting. */
export interface Poke {
  deviceId: string;
  priority: number;
}

export interface PokeSink {
  /**
   * Posts `{"type":"poke","priority":n}` to each device's live connections, after a commit.
   * Never throws: a poke that fails only means the device finds the change on its next pull.
   */
  poke(userKey: string, pokes: readonly Poke[]): Promise<void>;
}

/** Realtime connections of devices (the WebSocket API's `$connect` / `$disconnect`). */
export interface ConnectionStore {
  open(userKey: string, deviceId: string, connectionId: string, now?: Date): Promise<void>;
  /** Forgets a connection by its id; `undefined` when it was already gone. */
  close(connectionId: string): Promise<{ userKey: string; deviceId: string } | undefined>;
}

export interface AuditSink {
  append(entry: AuditRecord): Promise<void>;
}

/**
 * Where an audit entry waits while its chain's storage is down (the `Audit` queue): durable,
 * in order per `chain` (one message group each), deduplicated by the entry's id.
 */
export interface AuditKeeper {
  keep(entry: KeptEntry, chain: string): Promise<void>;
}

/** What a payload's encryption binds it to: one record of one user, not just any of their payloads. */
export interface PayloadContext {
  /** The pseudonymous user key (never a raw user id). */
  userKey: string;
  entityType: string;
  /**
   * The entity's id (the session id of a handoff snapshot; the entity type of a server entity).
   * Every service names it; a writer without it writes the legacy `{ userKey, entityType }`
   * binding, and a reader without it accepts any entity of that user and type.
   */
  entityId?: string;
}

export interface PayloadCipher {
  encrypt(payload: unknown, context: PayloadContext): Promise<string>;
  decrypt(ciphertext: string, expected: PayloadContext): Promise<unknown>;
}
