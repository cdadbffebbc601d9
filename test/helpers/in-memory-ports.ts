/**
 * In-memory ports (`@paysync/core/ports`) for unit tests of a service's decisions: no
 * emulator, no SDK. They keep just enough state to observe what a service did; the DynamoDB
 * stores themselves are tested on the emulators.
 */
import { NotFoundError } from "@paysync/core/errors";
import type {
  AuditSink, ChangeFeedStore, CommitWrites, DeviceRecord, DeviceStore, EntityStore, FeedChange, FeedMarks, FeedProbe, LaneMessage, LaneSink,
  PayloadCipher, PayloadContext, PendingReservation, SessionUse, StoredChange, StoredEntity, StoreWrite, TierSource, UsageLimitsStore,
} from "@paysync/core/ports";
import type { LastPull } from "@paysync/core/sync/bootstrap";
import type { EntityPosition } from "@paysync/core/sync/cursor";
import type { AuditRecord } from "@paysync/core/audit/chain";
import type { CrisisOpInput, CrisisOpResult, CrisisOps } from "@paysync/core/crisis/ops";
import { dailyDataExceeded, offlineQueueExceeded, utcDayKey, type Check } from "@paysync/core/sync";
import type { Tier, TierPolicy } from "@paysync/core/tiers";

/** Which op ids have an op record: the one thing of the entity store that the push service reads. */
export function opRecords(ids: Iterable<string> = []): EntityStore {
  const recorded = new Set(ids);
  return { recordedOps: async (_userKey: string, opIds: readonly string[]) => new Set(opIds.filter((id) => recorded.has(id))) } as unknown as EntityStore;
}

/** An in-memory write: applied when the feed commits it. */
const write = (apply: () => void): StoreWrite => ({ apply }) as unknown as StoreWrite;
const applyWrites = (writes: StoreWrite[]) => writes.forEach((w) => (w as unknown as { apply: () => void }).apply());

export function device(deviceId: string, overrides: Partial<DeviceRecord> = {}): DeviceRecord {
  return {
    deviceId, platform: "ios", appVersion: null, primary: false, registeredAt: "2026-01-01T00:00:00.000Z",
    lastSeenAt: null, crisisMode: false, activeSessionId: null, lastPull: null, pokedAtMs: 0, ...overrides,
  };
}

export class MemoryDevices implements DeviceStore {
  readonly byUser = new Map<string, DeviceRecord[]>();
  readonly touched: string[] = [];

  constructor(userKey?: string, devices: DeviceRecord[] = []) {
    if (userKey) this.byUser.set(userKey, devices);
  }

  async register(): Promise<never> {
    throw new Error("not used by these tests");
  }

  async list(userKey: string): Promise<DeviceRecord[]> {
    return [...(this.byUser.get(userKey) ?? [])];
  }

  async get(userKey: string, deviceId: string): Promise<DeviceRecord> {
    const found = (await this.list(userKey)).find((d) => d.deviceId === deviceId);
    if (!found) throw new NotFoundError("Device not found");
    return found;
  }

  async remove(userKey: string, deviceId: string): Promise<void> {
    this.byUser.set(userKey, (await this.list(userKey)).filter((d) => d.deviceId !== deviceId));
  }

  async touch(_userKey: string, d: DeviceRecord): Promise<void> {
    this.touched.push(d.deviceId);
  }

  async recordPull(userKey: string, d: DeviceRecord, pull: LastPull): Promise<void> {
    this.touched.push(d.deviceId);
    this.update(userKey, d.deviceId, { lastPull: pull });
  }

  async recordPoke(userKey: string, deviceId: string, atMs: number): Promise<void> {
    this.update(userKey, deviceId, { pokedAtMs: atMs });
  }

  sessionWrite(userKey: string, deviceId: string, sessionId: string | null): StoreWrite {
    return write(() => this.update(userKey, deviceId, { activeSessionId: sessionId }));
  }

  crisisFlagWrite(userKey: string, deviceId: string, crisisMode: boolean): StoreWrite {
    return write(() => this.update(userKey, deviceId, { crisisMode }));
  }

  private update(userKey: string, deviceId: string, change: Partial<DeviceRecord>) {
    this.byUser.set(userKey, (this.byUser.get(userKey) ?? []).map((d) => (d.deviceId === deviceId ? { ...d, ...change } : d)));
  }
}

export class MemoryFeed implements ChangeFeedStore {
  private seq = 0;
  readonly entries = new Map<string, StoredChange[]>();
  /** The retention purge's watermark per device. */
  readonly purgedThrough = new Map<string, number>();

  async append(_userKey: string, changes: FeedChange[], writes: CommitWrites = [], now = new Date()): Promise<number[]> {
    const after = this.seq;
    const seqs = changes.map((_, i) => after + i + 1);
    applyWrites(typeof writes === "function" ? writes({ seqs, after }) : writes);
    return changes.map((change, i) => {
      this.seq = seqs[i]!;
      const { targetDeviceIds, ...stored } = change;
      for (const deviceId of targetDeviceIds) {
        this.entries.set(deviceId, [...(this.entries.get(deviceId) ?? []), { ...stored, seq: this.seq, createdAt: now.toISOString() }]);
      }
      return this.seq;
    });
  }

  async readSeq(): Promise<number> {
    return this.seq;
  }

  async page(_userKey: string, deviceId: string, afterSeq: number, limit: number) {
    const after = (this.entries.get(deviceId) ?? []).filter((c) => c.seq > afterSeq);
    return { changes: after.slice(0, limit), hasMore: after.length > limit };
  }

  async marks(_userKey: string, deviceId: string): Promise<FeedMarks> {
    const newest = (min: number) => Math.max(0, ...(this.entries.get(deviceId) ?? []).filter((c) => c.priority >= min).map((c) => c.seq));
    return { lastExemptSeq: newest(8), lastUrgentSeq: newest(7), purgedThroughSeq: this.purgedThrough.get(deviceId) ?? 0 };
  }

  async delivered(_userKey: string, deviceId: string, probes: readonly FeedProbe[]): Promise<Set<number>> {
    const feed = this.entries.get(deviceId) ?? [];
    return new Set(probes.filter((p) => feed.some((c) => c.seq === p.seq && c.entityId === p.entityId && c.version === p.version)).map((p) => p.seq));
  }
}

/** Current entities in key order, for snapshot pages; `put` stores one as a writer would. */
export class MemoryEntities {
  private readonly byKey = new Map<string, StoredEntity>();

  put(entity: Omit<StoredEntity, "item" | "clientTime" | "devicePriority" | "updatedAt">): void {
    this.byKey.set(`${entity.entityType}#${entity.entityId}`, { ...entity, clientTime: "", devicePriority: 0, updatedAt: "", item: {} });
  }

  async snapshotPage(_userKey: string, after: EntityPosition | null, limit: number) {
    const keys = [...this.byKey.keys()].sort();
    const from = after ? keys.filter((k) => k > `${after.entityType}#${after.entityId}`) : keys;
    const entities = from.slice(0, limit).map((k) => this.byKey.get(k)!);
    const tail = entities.at(-1);
    return { entities, last: tail ? { entityType: tail.entityType, entityId: tail.entityId } : after, exhausted: from.length <= limit };
  }

  /** Only what a pull reads. */
  asStore(): EntityStore {
    return this as unknown as EntityStore;
  }
}

export class FixedTier implements TierSource {
  constructor(public tier: Tier) {}

  async effectiveTier(): Promise<Tier> {
    return this.tier;
  }
}

/** Daily data and offline-queue slots only (bandwidth always admits): what the decisions under test need. */
export class MemoryLimits implements UsageLimitsStore {
  readonly daily = new Map<string, number>();
  readonly pending = new Set<string>();
  readonly released: string[] = [];

  async chargeDaily(userKey: string, policy: TierPolicy, bytes: number, _direction: "push" | "pull", now: Date, enforce = true): Promise<Check> {
    const key = `${userKey}#${utcDayKey(now.getTime())}`;
    const used = this.daily.get(key) ?? 0;
    if (enforce && policy.dailyDataBytes !== null && used + bytes > policy.dailyDataBytes) return { ok: false, error: dailyDataExceeded(now.getTime()) };
    this.daily.set(key, used + bytes);
    return { ok: true };
  }

  async refundDaily(userKey: string, bytes: number, now: Date): Promise<void> {
    const key = `${userKey}#${utcDayKey(now.getTime())}`;
    this.daily.set(key, (this.daily.get(key) ?? 0) - bytes);
  }

  async dailyUsage(userKey: string, now: Date): Promise<number> {
    return this.daily.get(`${userKey}#${utcDayKey(now.getTime())}`) ?? 0;
  }

  async takeBandwidth(): Promise<Check> {
    return { ok: true };
  }

  async pendingCount(): Promise<number> {
    return this.pending.size;
  }

  async reservePending(_userKey: string, opIds: readonly string[], policy: TierPolicy): Promise<PendingReservation> {
    const result: PendingReservation = { reserved: [], duplicates: [], refused: [] };
    for (const opId of opIds) {
      if (this.pending.has(opId)) result.duplicates.push(opId);
      else if (result.refused.length > 0 || this.pending.size >= policy.offlineQueueLimit) result.refused.push(opId);
      else {
        this.pending.add(opId);
        result.reserved.push(opId);
      }
    }
    if (result.refused.length > 0) result.error = offlineQueueExceeded(policy);
    return result;
  }

  async releasePending(_userKey: string, opIds: readonly string[]): Promise<void> {
    for (const opId of opIds) {
      this.pending.delete(opId);
      this.released.push(opId);
    }
  }

  async hasPendingSlot(_userKey: string, opId: string): Promise<boolean> {
    return this.pending.has(opId);
  }

  readonly sessionUse: SessionUse[] = [];

  async chargeSessionUse(_userKey: string, sessions: readonly SessionUse[]): Promise<Check> {
    this.sessionUse.push(...sessions);
    return { ok: true };
  }

  releaseWrites(_userKey: string, opId: string): StoreWrite[] {
    return [write(() => this.pending.delete(opId))];
  }
}

/** Not encryption: base64 JSON carrying its context, so a test can see what was bound and a wrong reader fails. */
export class TransparentCipher implements PayloadCipher {
  async encrypt(payload: unknown, context: PayloadContext): Promise<string> {
    return Buffer.from(JSON.stringify({ context, payload })).toString("base64");
  }

  async decrypt(ciphertext: string, expected: PayloadContext): Promise<unknown> {
    const { context, payload } = JSON.parse(Buffer.from(ciphertext, "base64").toString("utf8")) as { context: PayloadContext; payload: unknown };
    if (context.userKey !== expected.userKey || context.entityType !== expected.entityType) throw new Error("context mismatch");
    // Like the real cipher: a record named on both sides must be the same record.
    if (context.entityId !== undefined && expected.entityId !== undefined && context.entityId !== expected.entityId) throw new Error("context mismatch");
    return payload;
  }
}

export class RecordingLanes implements LaneSink {
  readonly sent: LaneMessage[] = [];
  /** While set, every send fails (a lane outage). */
  down = false;

  async publish(messages: readonly LaneMessage[]): Promise<{ failed: string[] }> {
    if (this.down) return { failed: messages.map((m) => m.message.opId) };
    this.sent.push(...messages);
    return { failed: [] };
  }
}

export class RecordingCrisis implements CrisisOps {
  readonly applied: CrisisOpInput[] = [];

  async applyCrisisOp(input: CrisisOpInput): Promise<CrisisOpResult> {
    this.applied.push(input);
    return { status: "applied", version: this.applied.length };
  }
}

export class RecordingAudit implements AuditSink {
  readonly entries: AuditRecord[] = [];

  async append(entry: AuditRecord): Promise<void> {
    this.entries.push(entry);
  }
}
