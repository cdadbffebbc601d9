import { BatchGetCommand, GetCommand, QueryCommand, type BatchGetCommandOutput } from "@aws-sdk/lib-dynamodb";
import type { ChangeFeedStore, CommitWrites, FeedChange, FeedMarks, FeedProbe, StoredChange } from "@paysync/core/ports";
import { FanoutMoved, WriteConditionFailed } from "@paysync/core/ports";
import { EXEMPT_PRIORITY, URGENT_PULL_PRIORITY } from "@paysync/core/sync";
import { documentClient } from "../base/clients.js";
import { OPTIMISTIC, UNPROCESSED, pause, retrying } from "../base/retry.js";
import { exemptMarkKey, feedCounterKey, feedEntryKey, feedPartition, feedSortKey, purgeWatermarkKey } from "./keys.js";
import { cancellationCodes, fromStoreWrite, transactWrite, type TransactItem } from "./transactions.js";

export type { FeedChange, StoredChange };

/** The counter item: the last seq given out, and the seq a device registration last took. */
interface Counter {
  seq: number;
  devicesAt: number;
}

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

  async append(userKey: string, changes: FeedChange[], writes: CommitWrites = [], now = new Date(), knownSeq?: number): Promise<number[]> {
    // The counter value the caller's device list is at least as new as: a device registered
    // after it may be missing from the targets, and only the caller can read the list again.
    let basis = knownSeq;
    return retrying({ ...OPTIMISTIC, attempts: 8, retryOn: (error) => error instanceof CounterMoved, exhausted: (error) => (error as Error).cause as Error }, async (attempt) => {
      // A caller that read the counter alongside its other reads saves a round trip; a stale
      // value only fails the counter's condition, and the retry reads it afresh.
      let current: number;
      if (attempt === 1 && knownSeq !== undefined) current = knownSeq;
      else {
        const counter = await this.readCounter(userKey);
        basis ??= counter.seq;
        if (changes.length > 0 && counter.devicesAt > basis) throw new FanoutMoved();
        current = counter.seq;
      }
      const seqs = changes.map((_, i) => current + i + 1);
      const extraItems = (typeof writes === "function" ? writes({ seqs, after: current }) : writes).map(fromStoreWrite);
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
   * Marks, per target device, the newest priority >= 8 change (a pull refused by a data limit
   * still serves the feed while one is waiting, so crisis data is never held back) and the
   * newest priority >= 7 change (a pull before the tier's interval is served while one is
   * waiting: crisis, session, payment and policy changes never wait for the next poll).
   */
  private exemptMarks(userKey: string, changes: FeedChange[], seqs: number[]): TransactItem[] {
    const newest = new Map<string, { exempt?: number; urgent?: number }>();
    changes.forEach((change, i) => {
      if (change.priority < URGENT_PULL_PRIORITY) return;
      for (const deviceId of change.targetDeviceIds) {
        const mark = newest.get(deviceId) ?? {};
        mark.urgent = seqs[i] ?? 0;
        if (change.priority >= EXEMPT_PRIORITY) mark.exempt = seqs[i] ?? 0;
        newest.set(deviceId, mark);
      }
    });
    return [...newest].map(([deviceId, mark]) => {
      const sets = [...(mark.exempt === undefined ? [] : ["lastExemptSeq = :exempt"]), "lastUrgentSeq = :urgent"];
      return {
        Update: {
          TableName: this.table,
          Key: exemptMarkKey(userKey, deviceId),
          UpdateExpression: `SET ${sets.join(", ")}`,
          ExpressionAttributeValues: { ":urgent": mark.urgent, ...(mark.exempt === undefined ? {} : { ":exempt": mark.exempt }) },
        },
      };
    });
  }

  /** The device's exempt marks and purge watermark, in one request. */
  async marks(userKey: string, deviceId: string): Promise<FeedMarks> {
    const keys = [exemptMarkKey(userKey, deviceId), purgeWatermarkKey(userKey, deviceId)];
    const items = await this.batchGet(keys.map((key) => ({ ...key })));
    const mark = items.find((item) => item.sk === keys[0]?.sk);
    const purge = items.find((item) => item.sk === keys[1]?.sk);
    return {
      lastExemptSeq: (mark?.lastExemptSeq as number | undefined) ?? 0,
      // Marks written before the urgent mark existed carry only the exempt one (>= 8 is >= 7 too).
      lastUrgentSeq: Math.max((mark?.lastUrgentSeq as number | undefined) ?? 0, (mark?.lastExemptSeq as number | undefined) ?? 0),
      purgedThroughSeq: (purge?.highestPurgedSeq as number | undefined) ?? 0,
    };
  }

  async delivered(userKey: string, deviceId: string, probes: readonly FeedProbe[]): Promise<Set<number>> {
    if (probes.length === 0) return new Set();
    const items = await this.batchGet(probes.map((probe) => ({ ...feedEntryKey(userKey, deviceId, probe.seq) })));
    const found = new Set<number>();
    for (const probe of probes) {
      const entry = items.find((item) => item.seq === probe.seq);
      if (entry && entry.entityType === probe.entityType && entry.entityId === probe.entityId && entry.version === probe.version) found.add(probe.seq);
    }
    return found;
  }

  /** The user's feed counter: the last sequence number given out. */
  async readSeq(userKey: string): Promise<number> {
    return (await this.readCounter(userKey)).seq;
  }

  private async readCounter(userKey: string): Promise<Counter> {
    const counter = await documentClient().send(new GetCommand({ TableName: this.table, Key: feedCounterKey(userKey), ConsistentRead: true }));
    return { seq: (counter.Item?.seq as number | undefined) ?? 0, devicesAt: (counter.Item?.devicesAt as number | undefined) ?? 0 };
  }

  /** Strongly consistent BatchGetItem of at most 100 keys of this table, unprocessed keys retried. */
  private async batchGet(keys: Record<string, unknown>[]): Promise<Record<string, unknown>[]> {
    const found: Record<string, unknown>[] = [];
    let pending: Record<string, unknown>[] | undefined = keys;
    for (let attempt = 1; pending && pending.length > 0 && attempt <= UNPROCESSED.attempts; attempt++) {
      if (attempt > 1) await pause(Math.random() * UNPROCESSED.pauseMs * attempt);
      const result: BatchGetCommandOutput = await documentClient().send(new BatchGetCommand({ RequestItems: { [this.table]: { Keys: pending, ConsistentRead: true } } }));
      found.push(...(result.Responses?.[this.table] ?? []));
      pending = result.UnprocessedKeys?.[this.table]?.Keys;
    }
    if (pending && pending.length > 0) throw new Error("keys left unprocessed after retries");
    return found;
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
