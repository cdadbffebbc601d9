/**
 * The device's durable state: the op queue, the failed list and the entity cache, kept in the
 * {@link ClientStore} and mirrored in memory so reads are synchronous. Every change is one
 * atomic store batch, written before memory changes, so a crash at any point leaves a state a
 * restart can continue from: an op leaves the queue only in the batch that records the server's
 * acknowledgement, and a pulled change is stored before the cursor that follows it.
 *
 * Versions: the cache holds, per entity, the latest version the device knows of — pulled, or
 * predicted for its own acknowledged writes (`baseVersion + 1`: the server never echoes a
 * device's own ops). A write's `baseVersion` is that version, or the one its previous pending
 * write of the entity will become; it is fixed when the app writes and never rebased (conflicts
 * are the server's to judge). What the app reads is the cache with the pending writes on top.
 *
 * @example
 * const op = await state.enqueue({ entityType: "mood_entry", entityId: "m-1", action: "upsert", payload: { mood: 4 } });
 * await state.acknowledge([{ opId: op.opId, applied: true }]);
 */
import { IdSchema, SyncOpSchema, type SyncAction } from "@paysync/core/api";
import { PaysyncClientError, type SyncErrorInfo } from "./errors.js";
import { Serial } from "./events.js";
import type { Clock } from "./platform.js";
import { classPriority } from "./priority.js";
import { MAX_OP_PAYLOAD_BYTES, SERVER_ENTITY_TYPES, type PulledChange } from "./protocol.js";
import type { ClientStore, StoreWrite } from "./store/store.js";
import type { ChangeEvent, ChangeSource, Entity, FailedOp, JsonValue, QueuedOp } from "./types.js";

interface EntityRecord {
  entityType: string;
  entityId: string;
  version: number;
  payload: JsonValue;
  deleted: boolean;
  origin: "local" | "server";
  updatedAt: number;
  /** The bootstrap that last confirmed this record (see `sweep`). */
  epoch?: number;
}

export interface WriteInput {
  entityType: string;
  entityId: string;
  action: SyncAction;
  payload?: JsonValue;
}

const encoder = new TextEncoder();
const pad = (seq: number): string => String(seq).padStart(16, "0");
const opKey = (seq: number): string => `op/${pad(seq)}`;
const failedKey = (seq: number): string => `failed/${pad(seq)}`;
const entityKey = (type: string, id: string): string => `${type}/${id}`;
const recordKey = (type: string, id: string): string => `entity/${type}/${id}`;
const SEQ_KEY = "meta/seq";
const SERVER_TYPES: ReadonlySet<string> = new Set(SERVER_ENTITY_TYPES);

export class LocalState {
  private readonly records = new Map<string, EntityRecord>();
  private readonly ops = new Map<string, QueuedOp>();
  private readonly byEntity = new Map<string, QueuedOp[]>();
  private readonly failedOps = new Map<string, FailedOp>();
  private nextSeq = 1;
  private readonly serial = new Serial();
  /** Set by the receiver while a bootstrap runs: what it confirms is stamped with it. */
  bootstrapEpoch: number | null = null;

  constructor(
    private readonly store: ClientStore,
    private readonly clock: Clock,
    private readonly randomId: () => string,
    private readonly emit: (event: ChangeEvent) => void,
  ) {}

  async load(): Promise<void> {
    const [records, ops, failed, seq] = await Promise.all([
      this.store.list<EntityRecord>("entity/"), this.store.list<QueuedOp>("op/"), this.store.list<FailedOp>("failed/"),
      this.store.get<number>(SEQ_KEY),
    ]);
    for (const { value } of records) this.records.set(entityKey(value.entityType, value.entityId), value);
    for (const { value } of ops) this.index(value);
    for (const { value } of failed) this.failedOps.set(value.opId, value);
    this.nextSeq = Math.max(seq ?? 1, ...ops.map((e) => e.value.seq + 1), ...failed.map((e) => e.value.seq + 1));
  }

  /** Validates the write as the server would, gives it its opId and stores it before resolving. */
  enqueue(input: WriteInput): Promise<QueuedOp> {
    if (SERVER_TYPES.has(input.entityType)) {
      return Promise.reject(new PaysyncClientError("validation_error", `${input.entityType} is written by the server only`));
    }
    return this.serial.run(async () => {
      const key = entityKey(input.entityType, input.entityId);
      const previous = this.byEntity.get(key)?.at(-1);
      const baseVersion = previous ? previous.baseVersion + 1 : (this.records.get(key)?.version ?? 0);
      const now = this.clock.now();
      const wire = {
        opId: this.randomId(), entityType: input.entityType, entityId: input.entityId, action: input.action, baseVersion,
        ...(input.action === "upsert" ? { payload: input.payload } : {}), clientTime: new Date(now).toISOString(),
      };
      const parsed = SyncOpSchema.safeParse(wire);
      if (!parsed.success) throw new PaysyncClientError("validation_error", `invalid write: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`, parsed.error.issues);
      const payloadBytes = encoder.encode(JSON.stringify(input.payload ?? null)).byteLength;
      if (payloadBytes > MAX_OP_PAYLOAD_BYTES) {
        throw new PaysyncClientError("payload_too_large", `payload is ${payloadBytes} bytes; the limit is ${MAX_OP_PAYLOAD_BYTES}`, { bytes: payloadBytes });
      }
      const op: QueuedOp = {
        seq: this.nextSeq, ...wire, priority: classPriority(input.entityType, input.payload),
        bytes: encoder.encode(JSON.stringify(wire)).byteLength, createdAt: now,
      };
      await this.store.write([{ key: opKey(op.seq), value: op }, { key: SEQ_KEY, value: op.seq + 1 }]);
      this.nextSeq = op.seq + 1;
      this.index(op);
      this.notify(op.entityType, op.entityId, "local");
      return op;
    });
  }

  /** Every queued op, in the order the app made them. */
  pending(): QueuedOp[] {
    return [...this.ops.values()].sort((a, b) => a.seq - b.seq);
  }

  pendingFor(entityType: string, entityId: string): readonly QueuedOp[] {
    return this.byEntity.get(entityKey(entityType, entityId)) ?? [];
  }

  isQueued(opId: string): boolean {
    return this.ops.has(opId);
  }

  failed(): FailedOp[] {
    return [...this.failedOps.values()].sort((a, b) => a.seq - b.seq);
  }

  get(entityType: string, entityId: string): Entity | undefined {
    const key = entityKey(entityType, entityId);
    const last = this.byEntity.get(key)?.at(-1);
    if (last) {
      if (last.action === "delete") return undefined;
      return {
        entityType, entityId, version: last.baseVersion + 1, payload: last.payload ?? null, pending: true, origin: "local",
        updatedAt: last.createdAt,
      };
    }
    const record = this.records.get(key);
    if (!record || record.deleted) return undefined;
    return { entityType, entityId, version: record.version, payload: record.payload, pending: false, origin: record.origin, updatedAt: record.updatedAt };
  }

  list(entityType?: string): Entity[] {
    const keys = new Set([...this.records.keys(), ...this.byEntity.keys()]);
    const out: Entity[] = [];
    for (const key of [...keys].sort()) {
      const slash = key.indexOf("/");
      const type = key.slice(0, slash);
      if (entityType !== undefined && type !== entityType) continue;
      const entity = this.get(type, key.slice(slash + 1));
      if (entity) out.push(entity);
    }
    return out;
  }

  /**
   * The server has these ops: out of the queue, in one batch. `applied: false` (a manual
   * conflict) leaves the cache as the server has it; otherwise the op's version is predicted.
   */
  acknowledge(acks: ReadonlyArray<{ opId: string; applied: boolean }>): Promise<void> {
    return this.serial.run(async () => {
      const batch: StoreWrite[] = [];
      const folded = new Map<string, EntityRecord>();
      const touched: Array<{ op: QueuedOp; applied: boolean }> = [];
      for (const ack of acks) {
        const op = this.ops.get(ack.opId);
        if (!op) continue;
        touched.push({ op, applied: ack.applied });
        batch.push({ key: opKey(op.seq), delete: true });
        if (!ack.applied) continue;
        const key = entityKey(op.entityType, op.entityId);
        const current = folded.get(key) ?? this.records.get(key);
        const record: EntityRecord = {
          entityType: op.entityType, entityId: op.entityId, version: Math.max(current?.version ?? 0, op.baseVersion + 1),
          payload: op.action === "delete" ? null : (op.payload ?? null), deleted: op.action === "delete", origin: "local",
          updatedAt: op.createdAt, ...(this.bootstrapEpoch !== null ? { epoch: this.bootstrapEpoch } : current?.epoch !== undefined ? { epoch: current.epoch } : {}),
        };
        folded.set(key, record);
      }
      if (batch.length === 0) return;
      for (const record of folded.values()) batch.push({ key: recordKey(record.entityType, record.entityId), value: record });
      await this.store.write(batch);
      for (const [key, record] of folded) this.records.set(key, record);
      for (const { op } of touched) this.unindex(op);
      for (const { op, applied } of touched) this.notify(op.entityType, op.entityId, applied ? "synced" : "revert");
    });
  }

  /** Moves ops the server will never take out of the queue, into the failed list. */
  fail(opIds: readonly string[], error: SyncErrorInfo): Promise<FailedOp[]> {
    return this.serial.run(async () => {
      const failed = opIds.flatMap((id) => {
        const op = this.ops.get(id);
        return op ? [{ ...op, failedAt: this.clock.now(), error }] : [];
      });
      if (failed.length === 0) return [];
      await this.store.write(failed.flatMap((f) => [{ key: opKey(f.seq), delete: true as const }, { key: failedKey(f.seq), value: f }]));
      for (const f of failed) {
        this.unindex(f);
        this.failedOps.set(f.opId, f);
        this.notify(f.entityType, f.entityId, "revert");
      }
      return failed;
    });
  }

  /** Forgets a failed op (the app has dealt with it). */
  discardFailed(opId: string): Promise<boolean> {
    return this.serial.run(async () => {
      const f = this.failedOps.get(opId);
      if (!f) return false;
      await this.store.write([{ key: failedKey(f.seq), delete: true }]);
      this.failedOps.delete(opId);
      return true;
    });
  }

  /**
   * Stores pulled changes. A snapshot change is the server's current state and replaces what
   * the device holds; a feed change applies when its version is above the one held.
   */
  applyChanges(changes: readonly PulledChange[]): Promise<void> {
    return this.serial.run(async () => {
      const next = new Map<string, { record: EntityRecord; source: ChangeSource }>();
      for (const change of changes) {
        const key = entityKey(change.entityType, change.entityId);
        const held = next.get(key)?.record ?? this.records.get(key);
        if (!change.snapshot && held && change.version <= held.version) {
          // Already held; a rebuild still counts it as confirmed.
          if (this.bootstrapEpoch !== null) next.set(key, { record: { ...held, epoch: this.bootstrapEpoch }, source: "remote" });
          continue;
        }
        next.set(key, {
          record: {
            entityType: change.entityType, entityId: change.entityId, version: change.version, payload: change.action === "delete" ? null : (change.payload as JsonValue),
            deleted: change.action === "delete", origin: "server", updatedAt: this.clock.now(),
            ...(this.bootstrapEpoch !== null ? { epoch: this.bootstrapEpoch } : {}),
          },
          source: change.snapshot ? "snapshot" : "remote",
        });
      }
      if (next.size === 0) return;
      const before = new Map([...next.keys()].map((key) => [key, this.records.get(key)]));
      await this.store.write([...next.values()].map(({ record }) => ({ key: recordKey(record.entityType, record.entityId), value: record })));
      for (const [key, { record, source }] of next) {
        this.records.set(key, record);
        const old = before.get(key);
        const changed = !old || old.version !== record.version || old.deleted !== record.deleted || old.origin !== record.origin;
        if (changed && !this.byEntity.has(key)) this.notify(record.entityType, record.entityId, source);
      }
    });
  }

  /** After a rebuild's snapshot: removes what it did not confirm, except entities with pending writes. */
  sweep(epoch: number): Promise<number> {
    return this.serial.run(async () => {
      const stale = [...this.records].filter(([key, record]) => record.epoch !== epoch && !this.byEntity.has(key));
      if (stale.length === 0) return 0;
      await this.store.write(stale.map(([, r]) => ({ key: recordKey(r.entityType, r.entityId), delete: true as const })));
      for (const [key, record] of stale) {
        this.records.delete(key);
        if (!record.deleted) this.notify(record.entityType, record.entityId, "resync");
      }
      return stale.length;
    });
  }

  /** Writes the server's version of an entity the device was told about directly (a resolved conflict). */
  setServerVersion(entityType: string, entityId: string, version: number, payload: JsonValue, deleted: boolean): Promise<void> {
    return this.serial.run(async () => {
      const key = entityKey(entityType, entityId);
      const held = this.records.get(key);
      if (held && held.version >= version) return;
      const record: EntityRecord = { entityType, entityId, version, payload, deleted, origin: "server", updatedAt: this.clock.now(), ...(held?.epoch !== undefined ? { epoch: held.epoch } : {}) };
      await this.store.write([{ key: recordKey(entityType, entityId), value: record }]);
      this.records.set(key, record);
      if (!this.byEntity.has(key)) this.notify(entityType, entityId, "remote");
    });
  }

  private index(op: QueuedOp): void {
    this.ops.set(op.opId, op);
    const key = entityKey(op.entityType, op.entityId);
    const list = this.byEntity.get(key) ?? [];
    list.push(op);
    list.sort((a, b) => a.seq - b.seq);
    this.byEntity.set(key, list);
  }

  private unindex(op: QueuedOp): void {
    this.ops.delete(op.opId);
    const key = entityKey(op.entityType, op.entityId);
    const rest = (this.byEntity.get(key) ?? []).filter((o) => o.opId !== op.opId);
    if (rest.length > 0) this.byEntity.set(key, rest);
    else this.byEntity.delete(key);
  }

  private notify(entityType: string, entityId: string, source: ChangeSource): void {
    this.emit({ entityType, entityId, entity: this.get(entityType, entityId) ?? null, source });
  }
}

/** Ids an app passes must be valid on the wire; checked before anything is stored. */
export function assertId(name: string, value: string): void {
  if (!IdSchema.safeParse(value).success) throw new PaysyncClientError("validation_error", `${name} must match ^[A-Za-z0-9_-]{1,128}$`);
}
