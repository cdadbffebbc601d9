import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { PendingReservation, SessionUse, StoreWrite, UsageLimitsStore } from "@paysync/core/ports";
import {
  ACTIVE_SESSION_CEILING, dailyDataExceeded, offlineQueueExceeded, sessionCeilingExceeded, takeBandwidth, utcDayKey,
  type Check, type StoredUsage, type TokenBucketState,
} from "@paysync/core/sync";
import type { TierPolicy } from "@paysync/core/tiers";
import { documentClient } from "../base/clients.js";
import { OPTIMISTIC, retrying } from "../base/retry.js";
import { bandwidthKey, dailyUsageIndexKey, dailyUsageKey, opRecordKey, pendingCountKey, pendingMarkerKey, sessionUsageKey } from "./keys.js";
import { cancellationCodes, toStoreWrite, transactWrite, type TransactItem } from "./transactions.js";

/**
 * Items (Sync table, in the user's partition; keys in keys.ts):
 * - the bandwidth bucket `{tokens, updatedAtMs, rev}`, written conditionally on `rev`;
 * - a day's usage `{bytes, pushBytes, pullBytes}`, indexed by day, so the usage job reads a day
 *   across users with one index query;
 * - the pending count `{pending}`: ops accepted and not applied yet;
 * - one pending marker per counted op, deleted (and the counter decremented) in the
 *   transaction that applies the op, so the count stays exact under retries and duplicates;
 * - a day's active-session writes: per session entity (its own item) and for the user (on the
 *   day's usage item), against `ACTIVE_SESSION_CEILING`.
 */

const USAGE_TTL_SECONDS = 40 * 24 * 3600;
/** A day's session counts matter for that day only. */
const SESSION_USAGE_TTL_SECONDS = 2 * 24 * 3600;
/** A dead-lettered op keeps its slot until redriven; the marker outlives the DLQ's retention. */
const MARKER_TTL_SECONDS = 30 * 24 * 3600;
/** Two items per op (marker + op-record check) and the counter: within the 100-item transaction cap. */
const OPS_PER_TRANSACTION = 49;

const OK: Check<never> = { ok: true };

/** Duplicates: enqueued again only while their op record is missing (see PushService). */
export type Reservation = PendingReservation;

/** The bucket's revision moved between our read and our write. */
class BucketMoved extends Error {}
/** A reservation transaction lost a race with another writer of the counter. */
class ReservationRaced extends Error {}

/**
 * The tier limits' state in DynamoDB, changed only by atomic or conditional writes: concurrent
 * pushes of one user can never both take the last slot, byte or token.
 *
 * @example
 * const daily = await limits.chargeDaily(userKey, policy, bytes, "push", now);
 * if (!daily.ok) refuse(daily.error);
 */
export class UsageLimits implements UsageLimitsStore {
  constructor(private readonly table: string) {}

  /**
   * Adds bytes to today's usage, conditional on staying within the allowance when `enforce`
   * (pushes); pulls record what they sent unconditionally. Unlimited tiers are recorded too.
   */
  async chargeDaily(userKey: string, policy: TierPolicy, bytes: number, direction: "push" | "pull", now: Date, enforce = true): Promise<Check> {
    const limit = enforce ? policy.dailyDataBytes : null;
    if (bytes <= 0) return OK;
    if (limit !== null && bytes > limit) return { ok: false, error: dailyDataExceeded(now.getTime()) };
    const day = utcDayKey(now.getTime());
    try {
      await documentClient().send(new UpdateCommand({
        TableName: this.table,
        Key: dailyUsageKey(userKey, day),
        UpdateExpression: "ADD #total :n, #dir :n SET gsi1pk = :g, gsi1sk = :u, expiresAt = if_not_exists(expiresAt, :exp)",
        ...(limit === null ? {} : { ConditionExpression: "attribute_not_exists(#total) OR #total <= :max" }),
        ExpressionAttributeNames: { "#total": "bytes", "#dir": `${direction}Bytes` },
        ExpressionAttributeValues: {
          ":n": bytes, ":g": dailyUsageIndexKey(day, userKey).gsi1pk, ":u": dailyUsageIndexKey(day, userKey).gsi1sk,
          ":exp": Math.floor(now.getTime() / 1000) + USAGE_TTL_SECONDS,
          ...(limit === null ? {} : { ":max": limit - bytes }),
        },
      }));
      return OK;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return { ok: false, error: dailyDataExceeded(now.getTime()) };
      throw error;
    }
  }

  /** Gives back bytes charged for a push that another limit then refused. */
  async refundDaily(userKey: string, bytes: number, now: Date): Promise<void> {
    if (bytes <= 0) return;
    await documentClient().send(new UpdateCommand({
      TableName: this.table,
      Key: dailyUsageKey(userKey, utcDayKey(now.getTime())),
      UpdateExpression: "ADD #total :n, pushBytes :n",
      ConditionExpression: "attribute_exists(pk)",
      ExpressionAttributeNames: { "#total": "bytes" },
      ExpressionAttributeValues: { ":n": -bytes },
    })).catch((error: unknown) => {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    });
  }

  async dailyUsage(userKey: string, now: Date): Promise<number> {
    const { Item } = await documentClient().send(new GetCommand({
      TableName: this.table, Key: dailyUsageKey(userKey, utcDayKey(now.getTime())), ConsistentRead: true,
    }));
    return (Item?.bytes as number | undefined) ?? 0;
  }

  /** Takes `bytes` from the user's token bucket (`takeBandwidth`), retrying on concurrent takers. */
  async takeBandwidth(userKey: string, policy: TierPolicy, bytes: number, now: Date): Promise<Check> {
    if (policy.bandwidthBytesPerSecond === null || bytes <= 0) return OK;
    return retrying({ ...OPTIMISTIC, retryOn: (error) => error instanceof BucketMoved, exhausted: (error) => (error as Error).cause as Error }, async () => {
      const { state, rev } = await this.bucket(userKey);
      const taken = takeBandwidth({ policy, state, bytes, nowMs: now.getTime(), priority: 1 });
      if (!taken.result.ok || taken.state === undefined) return taken.result;
      try {
        await documentClient().send(new PutCommand({
          TableName: this.table,
          Item: { ...bandwidthKey(userKey), ...taken.state, rev: (rev ?? 0) + 1 },
          ConditionExpression: rev !== undefined ? "rev = :rev" : "attribute_not_exists(pk)",
          ...(rev !== undefined ? { ExpressionAttributeValues: { ":rev": rev } } : {}),
        }));
        return OK;
      } catch (error) {
        throw error instanceof ConditionalCheckFailedException ? new BucketMoved("the bandwidth bucket moved", { cause: error }) : error;
      }
    });
  }

  /** Today's counted bytes, the pending ops and the bandwidth bucket, as stored (`GET /v1/me/usage`). */
  async storedUsage(userKey: string, now: Date): Promise<StoredUsage> {
    const [dailyBytes, pendingOps, bucket] = await Promise.all([
      this.dailyUsage(userKey, now),
      this.pendingCount(userKey),
      this.bucket(userKey).then(({ state }) => state),
    ]);
    return { dailyBytes, pendingOps, bucket };
  }

  /** The stored bandwidth bucket and its revision; both `undefined` before the first charge. */
  private async bucket(userKey: string): Promise<{ state: TokenBucketState | undefined; rev: number | undefined }> {
    const { Item } = await documentClient().send(new GetCommand({ TableName: this.table, Key: bandwidthKey(userKey), ConsistentRead: true }));
    if (!Item) return { state: undefined, rev: undefined };
    return { state: { tokens: Item.tokens as number, updatedAtMs: Item.updatedAtMs as number }, rev: (Item.rev as number | undefined) ?? 0 };
  }

  async pendingCount(userKey: string): Promise<number> {
    const { Item } = await documentClient().send(new GetCommand({
      TableName: this.table, Key: pendingCountKey(userKey), ConsistentRead: true,
    }));
    return (Item?.pending as number | undefined) ?? 0;
  }

  /**
   * Counts ops as pending, in request order, up to the offline queue limit. Each op's marker
   * and the absence of its op record are checked in the same transaction as the counter, so
   * an op already pending or applied is a duplicate and is never counted twice.
   */
  async reservePending(userKey: string, opIds: readonly string[], policy: TierPolicy, now: Date): Promise<Reservation> {
    const result: Reservation = { reserved: [], duplicates: [], refused: [] };
    const limit = policy.offlineQueueLimit;
    let rest = [...opIds];
    while (rest.length > 0) {
      let chunk = rest.slice(0, Math.min(OPS_PER_TRANSACTION, Math.max(1, limit)));
      rest = rest.slice(chunk.length);
      let cut = false;
      // A cancelled attempt either settles something (duplicates found, the free slots counted),
      // which may surface one op per attempt, or lost a race with another writer (retried).
      let settled = 0;
      await retrying({ ...OPTIMISTIC, retryOn: (error) => error instanceof ReservationRaced, exhausted: (error) => (error as Error).cause as Error }, async () => {
        while (chunk.length > 0) {
          try {
            await transactWrite(this.reserveItems(userKey, chunk, limit, now));
            result.reserved.push(...chunk);
            return;
          } catch (error) {
            const codes = cancellationCodes(error);
            if (codes === undefined || ++settled > OPS_PER_TRANSACTION + 1) throw error;
            const duplicate = chunk.filter((_, i) => codes[1 + 2 * i] === "ConditionalCheckFailed" || codes[2 + 2 * i] === "ConditionalCheckFailed");
            if (duplicate.length > 0) {
              result.duplicates.push(...duplicate);
              chunk = chunk.filter((id) => !duplicate.includes(id));
              continue;
            }
            if (codes[0] === "ConditionalCheckFailed") {
              const free = Math.max(0, limit - (await this.pendingCount(userKey)));
              if (free < chunk.length) {
                result.refused.push(...chunk.slice(free));
                chunk = chunk.slice(0, free);
                cut = true;
              }
              continue;
            }
            if (!codes.includes("TransactionConflict")) throw error;
            throw new ReservationRaced("the reservation raced another writer", { cause: error });
          }
        }
      });
      if (cut) {
        result.refused.push(...rest);
        rest = [];
      }
    }
    if (result.refused.length > 0) result.error = offlineQueueExceeded(policy);
    return result;
  }

  private reserveItems(userKey: string, chunk: string[], limit: number, now: Date): TransactItem[] {
    return [
      {
        Update: {
          TableName: this.table,
          Key: pendingCountKey(userKey),
          UpdateExpression: "ADD pending :n",
          ConditionExpression: "attribute_not_exists(pending) OR pending <= :max",
          ExpressionAttributeValues: { ":n": chunk.length, ":max": limit - chunk.length },
        },
      },
      ...chunk.flatMap((opId): TransactItem[] => [
        {
          Put: {
            TableName: this.table,
            Item: { ...pendingMarkerKey(userKey, opId), acceptedAt: now.toISOString(), expiresAt: Math.floor(now.getTime() / 1000) + MARKER_TTL_SECONDS },
            ConditionExpression: "attribute_not_exists(pk)",
          },
        },
        { ConditionCheck: { TableName: this.table, Key: opRecordKey(userKey, opId), ConditionExpression: "attribute_not_exists(pk)" } },
      ]),
    ];
  }

  /** Undoes reservations whose messages never reached a lane (the push then answers 503). */
  async releasePending(userKey: string, opIds: readonly string[]): Promise<void> {
    for (let i = 0; i < opIds.length; i += 98) {
      const chunk = opIds.slice(i, i + 98);
      await transactWrite([
        { Update: { TableName: this.table, Key: pendingCountKey(userKey), UpdateExpression: "ADD pending :n", ExpressionAttributeValues: { ":n": -chunk.length } } },
        ...chunk.map((opId): TransactItem => ({ Delete: { TableName: this.table, Key: pendingMarkerKey(userKey, opId) } })),
      ]);
    }
  }

  async hasPendingSlot(userKey: string, opId: string): Promise<boolean> {
    const { Item } = await documentClient().send(new GetCommand({
      TableName: this.table, Key: pendingMarkerKey(userKey, opId), ConsistentRead: true,
    }));
    return Item !== undefined;
  }

  async chargeSessionUse(userKey: string, sessions: readonly SessionUse[], now: Date): Promise<Check> {
    if (sessions.length === 0) return OK;
    const day = utcDayKey(now.getTime());
    const expiresAt = Math.floor(now.getTime() / 1000) + SESSION_USAGE_TTL_SECONDS;
    const total = sessions.reduce((sum, s) => ({ ops: sum.ops + s.ops, bytes: sum.bytes + s.bytes }), { ops: 0, bytes: 0 });
    const counted = (key: { pk: string; sk: string }, use: { ops: number; bytes: number }, ceiling: { ops: number; bytes: number }, extra = ""): TransactItem => ({
      Update: {
        TableName: this.table,
        Key: key,
        UpdateExpression: `ADD sessionOps :ops, sessionBytes :bytes SET expiresAt = if_not_exists(expiresAt, :exp)${extra}`,
        ConditionExpression: "(attribute_not_exists(sessionOps) OR sessionOps <= :maxOps) AND (attribute_not_exists(sessionBytes) OR sessionBytes <= :maxBytes)",
        ExpressionAttributeValues: {
          ":ops": use.ops, ":bytes": use.bytes, ":exp": expiresAt,
          ":maxOps": ceiling.ops - use.ops, ":maxBytes": ceiling.bytes - use.bytes,
          ...(extra ? { ":g": dailyUsageIndexKey(day, userKey).gsi1pk, ":u": userKey } : {}),
        },
      },
    });
    const over = (use: { ops: number; bytes: number }, ceiling: { ops: number; bytes: number }) => use.ops > ceiling.ops || use.bytes > ceiling.bytes;
    if (over(total, ACTIVE_SESSION_CEILING.perUser) || sessions.some((s) => over(s, ACTIVE_SESSION_CEILING.perSession))) {
      return { ok: false, error: sessionCeilingExceeded(now.getTime()) };
    }
    try {
      await transactWrite([
        // The user's count rides on the day's usage item (indexed for the usage job as it is).
        counted(dailyUsageKey(userKey, day), total, ACTIVE_SESSION_CEILING.perUser, ", gsi1pk = :g, gsi1sk = :u"),
        ...sessions.map((s) => counted(sessionUsageKey(userKey, day, s.entityType, s.entityId), s, ACTIVE_SESSION_CEILING.perSession)),
      ]);
      return OK;
    } catch (error) {
      if (cancellationCodes(error)?.includes("ConditionalCheckFailed")) return { ok: false, error: sessionCeilingExceeded(now.getTime()) };
      throw error;
    }
  }

  /** For the worker's apply transaction: the op leaves the pending count exactly once. */
  releaseWrites(userKey: string, opId: string): StoreWrite[] {
    return [
      { Delete: { TableName: this.table, Key: pendingMarkerKey(userKey, opId), ConditionExpression: "attribute_exists(pk)" } },
      { Update: { TableName: this.table, Key: pendingCountKey(userKey), UpdateExpression: "ADD pending :n", ExpressionAttributeValues: { ":n": -1 } } },
    ].map((item) => toStoreWrite(item as TransactItem));
  }
}
