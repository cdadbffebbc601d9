import { GetCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import type { ChangeFeedStore, FeedChange, StoredChange, StoreWrite } from "@paysync/core/ports";
import { WriteConditionFailed } from "@paysync/core/ports";
import { EXEMPT_PRIORITY } from "@paysync/core/sync";
import { documentClient } from "../base/clients.js";
import { OPTIMISTIC, retrying } from "../base/retry.js";
import { exemptMarkKey, feedCounterKey, feedEntryKey, feedPartition, feedSortKey } from "./keys.js";
import { cancellationCodes, fromStoreWrite, transactWrite, type TransactItem } from "./transactions.js";

export type { FeedChange, StoredChange };

/** Feed entries outlive every tier's retention; the purge job removes them earlier by tier. */
const FEED_BACKSTOP_TTL_SECONDS = 45 * 24 * 3600;

/** Another writer advanced the user's counter (or raced an item) between our read and our commit. */
class CounterMoved extends Error {}

/**
 * A per-user change feed fanned out to one partition per device, so a pull reads exactly
 * its page and nothing else. Sequence numbers come from a per-user counter advanced in the
 * same transaction as the entries (and as the caller's own writes), conditional on its
 * previous value: sequence order is commit order, so a cursor never skips a late commit.
 */
export class ChangeFeed implements ChangeFeedStore {
  constructor(private readonly table: string) {}

  async append(userKey: string, changes: FeedChange[], writes: StoreWrite[] = [], now = new Date(), knownSeq?: number): Promise<number[]> {
    const extraItems = writes.map(fromStoreWrite);
    return retrying({ ...OPTIMISTIC, attempts: 8, retryOn: (error) => error instanceof CounterMoved, exhausted: (error) => (error as Error).cause as Error }, async (attempt) => {
      // A caller that read the counter alongside its other reads saves a round trip; a stale
      // value only fails the counter's condition, and the retry reads it afresh.
      const current = attempt === 1 && knownSeq !== undefined ? knownSeq : await this.readSeq(userKey);
      const seqs = changes.map((_, i) => current + i + 1);
      const entries: TransactItem[] = changes.flatMap((change, i) =>
        change.targetDeviceIds.map((deviceId) => ({
          Put: {
            TableName: this.table,
            Item: {
              ...feedEntryKey(userKey, deviceId, seqs[i] ?? 0),
              seq: seqs[i],
              entityType: change.entityType,
              entityId: change.entityId,
              version: change.version,
              action: change.action,
              payloadCipher: change.payloadCipher,
              priority: change.priority,
              originDeviceId: change.originDeviceId,
              createdAt: now.toISOString(),
              expiresAt: Math.floor(now.getTime() / 1000) + FEED_BACKSTOP_TTL_SECONDS,
            },
          },
        })),
      );
      const counterUpdate: TransactItem = {
        Update: {
          TableName: this.table,
          Key: feedCounterKey(userKey),
          UpdateExpression: "SET seq = :next",
          ConditionExpression: current === 0 ? "attribute_not_exists(seq) OR seq = :current" : "seq = :current",
          ExpressionAttributeValues: { ":next": current + changes.length, ":current": current },
        },
      };
      const marks = this.exemptMarks(userKey, changes, seqs);
      const items = entries.length > 0 ? [counterUpdate, ...extraItems, ...entries, ...marks] : extraItems;
      if (items.length === 0) return [];
      try {
        await transactWrite(items);
        return entries.length > 0 ? seqs : [];
      } catch (error) {
        const reasons = cancellationCodes(error);
        if (reasons === undefined) throw error;
        const offset = entries.length > 0 ? 1 : 0;
        const extraReasons = reasons.slice(offset, offset + extraItems.length);
        if (extraReasons.some((code) => code === "ConditionalCheckFailed")) throw new WriteConditionFailed(extraReasons);
        const retryable = (entries.length > 0 && reasons[0] === "ConditionalCheckFailed") || reasons.includes("TransactionConflict");
        throw retryable ? new CounterMoved("the feed counter moved", { cause: error }) : error;
      }
    });
  }

  /**
   * Marks, per target device, the newest priority >= 8 change: a pull refused by a data limit
   * still serves the feed while such a change is waiting, so crisis data is never held back.
   */
  private exemptMarks(userKey: string, changes: FeedChange[], seqs: number[]): TransactItem[] {
    const newest = new Map<string, number>();
    changes.forEach((change, i) => {
      if (change.priority < EXEMPT_PRIORITY) return;
      for (const deviceId of change.targetDeviceIds) newest.set(deviceId, seqs[i] ?? 0);
    });
    return [...newest].map(([deviceId, seq]) => ({
      Update: {
        TableName: this.table,
        Key: exemptMarkKey(userKey, deviceId),
        UpdateExpression: "SET lastExemptSeq = :seq",
        ExpressionAttributeValues: { ":seq": seq },
      },
    }));
  }

  /** Seq of the newest priority >= 8 change in the device's feed (0: none ever). */
  async lastExemptSeq(userKey: string, deviceId: string): Promise<number> {
    const result = await documentClient().send(new GetCommand({ TableName: this.table, Key: exemptMarkKey(userKey, deviceId), ConsistentRead: true }));
    return (result.Item?.lastExemptSeq as number | undefined) ?? 0;
  }

  /** The user's feed counter: the last sequence number given out. */
  async readSeq(userKey: string): Promise<number> {
    const counter = await documentClient().send(new GetCommand({ TableName: this.table, Key: feedCounterKey(userKey), ConsistentRead: true }));
    return (counter.Item?.seq as number | undefined) ?? 0;
  }

  /** The device's changes after `afterSeq`, one page; `hasMore` says whether to pull again. */
  async page(userKey: string, deviceId: string, afterSeq: number, limit: number): Promise<{ changes: StoredChange[]; hasMore: boolean }> {
    const result = await documentClient().send(new QueryCommand({
      TableName: this.table,
      KeyConditionExpression: "pk = :pk AND sk > :after",
      ExpressionAttributeValues: { ":pk": feedPartition(userKey, deviceId), ":after": feedSortKey(afterSeq) },
      Limit: limit + 1,
      ConsistentRead: true,
    }));
    const items = result.Items ?? [];
    const changes = items.slice(0, limit).map((item) => ({
      seq: item.seq as number,
      entityType: item.entityType as string,
      entityId: item.entityId as string,
      version: item.version as number,
      action: item.action as "upsert" | "delete",
      payloadCipher: (item.payloadCipher as string | null | undefined) ?? null,
      priority: item.priority as number,
      originDeviceId: item.originDeviceId as string,
      createdAt: item.createdAt as string,
    }));
    return { changes, hasMore: items.length > limit };
  }
}
