import { ConditionalCheckFailedException, TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { LimitExceededError } from "@paysync/core/errors";
import {
  dailyDataExceeded, offlineQueueExceeded, takeBandwidth, utcDayKey, type Check, type TokenBucketState,
} from "@paysync/core/sync";
import type { TierPolicy } from "@paysync/core/tiers";
import { documentClient } from "../clients.js";
import { tableName } from "../config.js";
import type { TransactItem } from "./change-feed.js";

/**
 * Keys (Sync table, `pk USER#<userKey>`):
 * - `LIMIT#BANDWIDTH` `{tokens, updatedAtMs, rev}`: the token bucket, written conditionally on `rev`.
 * - `USAGE#<YYYY-MM-DD>` `{bytes, pushBytes, pullBytes}` with `gsi1pk USAGE#<day>`, `gsi1sk <userKey>`:
 *   one UTC day's data, so the usage job reads a day across users with one index query.
 * - `LIMIT#PENDING` `{pending}`: ops accepted and not applied yet.
 * - `PENDING#<opId>`: one per counted op, deleted (and the counter decremented) in the
 *   transaction that applies the op, so the count stays exact under retries and duplicates.
 */
const userPk = (userKey: string) => `USER#${userKey}`;
const BANDWIDTH_SK = "LIMIT#BANDWIDTH";
const PENDING_SK = "LIMIT#PENDING";
const usageSk = (day: string) => `USAGE#${day}`;
const markerSk = (opId: string) => `PENDING#${opId}`;
const opSk = (opId: string) => `OP#${opId}`;

const USAGE_TTL_SECONDS = 40 * 24 * 3600;
/** A dead-lettered op keeps its slot until redriven; the marker outlives the DLQ's retention. */
const MARKER_TTL_SECONDS = 30 * 24 * 3600;
/** Two items per op (marker + op-record check) and the counter: within the 100-item transaction cap. */
const OPS_PER_TRANSACTION = 49;
const MAX_ATTEMPTS = 10;

const OK: Check<never> = { ok: true };

export interface Reservation {
  /** Counted as pending: enqueue these. */
  reserved: string[];
  /** Already pending or already applied: enqueued again only while their op record is missing (see PushService). */
  duplicates: string[];
  /** Over the offline queue limit, with everything after them (so one entity's ops never skip ahead). */
  refused: string[];
  error?: LimitExceededError;
}

const pause = (attempt: number) => new Promise((r) => setTimeout(r, Math.random() * 10 * attempt));

/**
 * The tier limits' state in DynamoDB, changed only by atomic or conditional writes: concurrent
 * pushes of one user can never both take the last slot, byte or token.
 *
 * @example
 * const daily = await limits.chargeDaily(userKey, policy, bytes, "push", now);
 * if (!daily.ok) refuse(daily.error);
 */
export class UsageLimits {
  constructor(private readonly table = tableName("Sync")) {}

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
        Key: { pk: userPk(userKey), sk: usageSk(day) },
        UpdateExpression: "ADD #total :n, #dir :n SET gsi1pk = :g, gsi1sk = :u, expiresAt = if_not_exists(expiresAt, :exp)",
        ...(limit === null ? {} : { ConditionExpression: "attribute_not_exists(#total) OR #total <= :max" }),
        ExpressionAttributeNames: { "#total": "bytes", "#dir": `${direction}Bytes` },
        ExpressionAttributeValues: {
          ":n": bytes, ":g": `USAGE#${day}`, ":u": userKey, ":exp": Math.floor(now.getTime() / 1000) + USAGE_TTL_SECONDS,
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
      Key: { pk: userPk(userKey), sk: usageSk(utcDayKey(now.getTime())) },
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
      TableName: this.table, Key: { pk: userPk(userKey), sk: usageSk(utcDayKey(now.getTime())) }, ConsistentRead: true,
    }));
    return (Item?.bytes as number | undefined) ?? 0;
  }

  /** Takes `bytes` from the user's token bucket (`takeBandwidth`), retrying on concurrent takers. */
  async takeBandwidth(userKey: string, policy: TierPolicy, bytes: number, now: Date): Promise<Check> {
    if (policy.bandwidthBytesPerSecond === null || bytes <= 0) return OK;
    for (let attempt = 1; ; attempt++) {
      const { Item } = await documentClient().send(new GetCommand({
        TableName: this.table, Key: { pk: userPk(userKey), sk: BANDWIDTH_SK }, ConsistentRead: true,
      }));
      const state: TokenBucketState | undefined = Item ? { tokens: Item.tokens as number, updatedAtMs: Item.updatedAtMs as number } : undefined;
      const rev = (Item?.rev as number | undefined) ?? 0;
      const taken = takeBandwidth({ policy, state, bytes, nowMs: now.getTime(), priority: 1 });
      if (!taken.result.ok || taken.state === undefined) return taken.result;
      try {
        await documentClient().send(new PutCommand({
          TableName: this.table,
          Item: { pk: userPk(userKey), sk: BANDWIDTH_SK, ...taken.state, rev: rev + 1 },
          ConditionExpression: Item ? "rev = :rev" : "attribute_not_exists(pk)",
          ...(Item ? { ExpressionAttributeValues: { ":rev": rev } } : {}),
        }));
        return OK;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException) || attempt >= MAX_ATTEMPTS) throw error;
        await pause(attempt);
      }
    }
  }

  async pendingCount(userKey: string): Promise<number> {
    const { Item } = await documentClient().send(new GetCommand({
      TableName: this.table, Key: { pk: userPk(userKey), sk: PENDING_SK }, ConsistentRead: true,
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
      for (let attempt = 1; chunk.length > 0; attempt++) {
        try {
          await documentClient().send(new TransactWriteCommand({ TransactItems: this.reserveItems(userKey, chunk, limit, now) }));
          result.reserved.push(...chunk);
          break;
        } catch (error) {
          // Duplicates may surface one per attempt, hence the larger bound here.
          if (!(error instanceof TransactionCanceledException) || attempt >= MAX_ATTEMPTS + OPS_PER_TRANSACTION) throw error;
          const codes = error.CancellationReasons?.map((r) => r.Code) ?? [];
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
          await pause(attempt);
        }
      }
      if (cut) {
        result.refused.push(...rest);
        rest = [];
      }
    }
    if (result.refused.length > 0) result.error = offlineQueueExceeded(policy);
    return result;
  }

  private reserveItems(userKey: string, chunk: string[], limit: number, now: Date): TransactItem[] {
    const pk = userPk(userKey);
    return [
      {
        Update: {
          TableName: this.table,
          Key: { pk, sk: PENDING_SK },
          UpdateExpression: "ADD pending :n",
          ConditionExpression: "attribute_not_exists(pending) OR pending <= :max",
          ExpressionAttributeValues: { ":n": chunk.length, ":max": limit - chunk.length },
        },
      },
      ...chunk.flatMap((opId): TransactItem[] => [
        {
          Put: {
            TableName: this.table,
            Item: { pk, sk: markerSk(opId), acceptedAt: now.toISOString(), expiresAt: Math.floor(now.getTime() / 1000) + MARKER_TTL_SECONDS },
            ConditionExpression: "attribute_not_exists(pk)",
          },
        },
        { ConditionCheck: { TableName: this.table, Key: { pk, sk: opSk(opId) }, ConditionExpression: "attribute_not_exists(pk)" } },
      ]),
    ];
  }

  /** Undoes reservations whose messages never reached a lane (the push then answers 503). */
  async releasePending(userKey: string, opIds: readonly string[]): Promise<void> {
    const pk = userPk(userKey);
    for (let i = 0; i < opIds.length; i += 98) {
      const chunk = opIds.slice(i, i + 98);
      await documentClient().send(new TransactWriteCommand({
        TransactItems: [
          { Update: { TableName: this.table, Key: { pk, sk: PENDING_SK }, UpdateExpression: "ADD pending :n", ExpressionAttributeValues: { ":n": -chunk.length } } },
          ...chunk.map((opId): TransactItem => ({ Delete: { TableName: this.table, Key: { pk, sk: markerSk(opId) } } })),
        ],
      }));
    }
  }

  async hasPendingSlot(userKey: string, opId: string): Promise<boolean> {
    const { Item } = await documentClient().send(new GetCommand({
      TableName: this.table, Key: { pk: userPk(userKey), sk: markerSk(opId) }, ConsistentRead: true,
    }));
    return Item !== undefined;
  }

  /** For the worker's apply transaction: the op leaves the pending count exactly once. */
  releaseItems(userKey: string, opId: string): TransactItem[] {
    const pk = userPk(userKey);
    return [
      { Delete: { TableName: this.table, Key: { pk, sk: markerSk(opId) }, ConditionExpression: "attribute_exists(pk)" } },
      { Update: { TableName: this.table, Key: { pk, sk: PENDING_SK }, UpdateExpression: "ADD pending :n", ExpressionAttributeValues: { ":n": -1 } } },
    ];
  }
}
