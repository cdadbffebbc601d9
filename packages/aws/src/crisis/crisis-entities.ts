/**
 * The crisis entities (crisis state, safety plan, emergency contacts, crisis-level assessments)
 * on the entity store, in the same layout the sync worker uses, with their payloads encrypted
 * and decrypted here (context `{ userKey, entityType }`).
 */
import { CrisisReadFailed } from "@paysync/core/crisis/degraded";
import { latestEntity } from "@paysync/core/crisis/resources";
import type { EntityStore, FeedChange, PayloadCipher, StoredEntity, StoreWrite } from "@paysync/core/ports";
import { logger } from "../base/observability.js";
import { CiphertextRejected, EncryptionContextMismatch } from "../crypto/envelope.js";

export type { StoredEntity };

/** One entity write of a crisis transaction, payload still in the clear. */
export interface CrisisWrite {
  entityType: string;
  entityId: string;
  action: "upsert" | "delete";
  payload: unknown;
  priority: number;
  clientTime: string;
  deviceId: string;
  devicePriority: number;
  /** What superseded the previous version: the op id, or `crisis.<route>` for the HTTP routes. */
  cause: string;
}

export class CrisisEntities {
  constructor(
    private readonly store: EntityStore,
    private readonly cipher: PayloadCipher,
  ) {}

  get(userKey: string, entityType: string, entityId: string): Promise<StoredEntity | undefined> {
    return this.store.get(userKey, entityType, entityId);
  }

  /** The current entity of a type (a device may have pushed it under its own id). */
  async latest(userKey: string, entityType: string): Promise<StoredEntity | undefined> {
    return latestEntity(await this.store.ofType(userKey, entityType));
  }

  /** The decrypted payload, or `undefined` for a missing or deleted entity. */
  async payloadOf(userKey: string, entityType: string, entity: StoredEntity | undefined): Promise<unknown> {
    if (!entity || entity.action === "delete" || entity.payloadCipher === null) return undefined;
    return this.cipher.decrypt(entity.payloadCipher, { userKey, entityType, entityId: entity.entityId });
  }

  /**
   * Decrypts and validates. A payload that fails validation, or whose ciphertext is rejected
   * (tampered, another key or context), is rejected: logged and
   * treated as absent, so that the hotline and everything else still reach the person asking.
   * A payload that could not be decrypted at all (KMS or the network failed) is NOT absent: it
   * throws `CrisisReadFailed`, so that an unknown state never becomes the base of a write (an
   * activation during a KMS outage must not reset the episode or lower its level).
   */
  async readValid<T>(userKey: string, entityType: string, entity: StoredEntity | undefined, parse: (value: unknown) => T): Promise<T | undefined> {
    let payload: unknown;
    try {
      payload = await this.payloadOf(userKey, entityType, entity);
    } catch (error) {
      if (error instanceof CiphertextRejected || error instanceof EncryptionContextMismatch) {
        logger.error("rejected crisis entity", { entityType, errorName: error.name });
        return undefined;
      }
      logger.error("crisis entity could not be read", { entityType, errorName: error instanceof Error ? error.name : typeof error });
      throw new CrisisReadFailed(entityType, { cause: error });
    }
    if (payload === undefined) return undefined;
    try {
      return parse(payload);
    } catch (error) {
      logger.error("rejected crisis entity", { entityType, errorName: error instanceof Error ? error.name : typeof error });
      return undefined;
    }
  }

  readOp(userKey: string, opId: string): Promise<{ version: number } | undefined> {
    return this.store.readOp(userKey, opId);
  }

  /** The op record that makes a pushed op apply exactly once (the same record as the sync worker's). */
  opRecord(userKey: string, opId: string, version: number, now: Date): StoreWrite {
    return this.store.opRecordWrite(userKey, opId, "applied", version, now);
  }

  /**
   * The writes of one entity write: the new current version, guarded by the version it
   * replaces, and the replaced version moved to history. A crisis write always applies
   * (`apply_crisis`): a concurrent writer only makes the caller retry on fresh state.
   */
  async writeItems(
    userKey: string,
    current: StoredEntity | undefined,
    write: CrisisWrite,
    now: Date,
  ): Promise<{ writes: (commitSeq: number) => StoreWrite[]; version: number; change: Omit<FeedChange, "targetDeviceIds"> }> {
    const version = (current?.version ?? 0) + 1;
    const payloadCipher = write.action === "delete"
      ? null
      : await this.cipher.encrypt(write.payload, { userKey, entityType: write.entityType, entityId: write.entityId });
    // Built per commit attempt: the entity records the commit sequence of its change.
    const writes = (commitSeq: number) => [
      this.store.entityWrite(userKey, {
        entityType: write.entityType, entityId: write.entityId, version, action: write.action, payloadCipher,
        clientTime: write.clientTime, devicePriority: write.devicePriority, originDeviceId: write.deviceId, priority: write.priority,
        commitSeq,
      }, current?.version, now),
      ...(current ? [this.store.supersededWrite(userKey, current, write.cause)] : []),
    ];
    const change = {
      entityType: write.entityType, entityId: write.entityId, version, action: write.action,
      payloadCipher, priority: write.priority, originDeviceId: write.deviceId,
    };
    return { writes, version, change };
  }
}
