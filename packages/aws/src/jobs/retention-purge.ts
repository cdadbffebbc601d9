/**
 * The change-feed retention purge (SPEC.md §1 offline retention, §6), daily. It reads the
 * Sync table's feed entries (`feedPartition`) in bounded Scan pages and removes
 * what `decideFeedEntry` allows: every entry of a device no longer registered, and entries
 * of registered devices older than the user's tier's retention (crisis entries: the longest
 * retention of any tier). An in-retention entry of a registered device is never touched —
 * there is no record yet of what a device has pulled, so age is the only safe measure.
 *
 * For every feed it purges from, it raises the device's purge watermark (Sync,
 * `purgeWatermarkKey`, `highestPurgedSeq`): a device pulling with a
 * cursor below it has missed changes and needs a full resync.
 *
 * Runs under `runJob` (lease, checkpoint per page, a finished run key never runs again);
 * a page is idempotent (deleting a deleted item changes nothing; the watermark only rises).
 * The last page records the run's counts (`recordJobRun`).
 *
 * @example
 * await runRetentionPurge({ now: new Date(event.time), runKey: event.time, tiers, audit });
 */
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { GetCommand, ScanCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { decideFeedEntry } from "@paysync/core/jobs/retention";
import type { AuditSink, TierSource } from "@paysync/core/ports";
import type { Tier } from "@paysync/core/tiers";
import { documentClient } from "../base/clients.js";
import { config } from "../base/config.js";
import { deviceKeyBySlot, FEED_PREFIX, parseFeedPartition, purgeWatermarkKeyBySlot } from "../store/keys.js";
import { batchDelete, mapLimit } from "./batch.js";
import { recordJobRun } from "./job-report.js";
import { runJob, type JobOutcome } from "./job-runner.js";

export const RETENTION_PURGE_JOB = "retention-purge";
/** Items a Scan page evaluates: a page stays well inside a minute at any table size. */
const DEFAULT_PAGE_SIZE = 1_000;
const LOOKUP_CONCURRENCY = 16;

export interface PurgeCounts {
  /** Feed entries looked at. */
  scanned: number;
  purged: number;
  pastRetention: number;
  deviceRemoved: number;
  kept: number;
  /** Feeds (device partitions) that lost at least one entry. */
  feeds: number;
}

interface PurgeCheckpoint {
  startKey?: Record<string, unknown>;
  counts: PurgeCounts;
}

export interface RetentionPurgeOptions {
  /** The job's clock: retention is measured back from it. */
  now: Date;
  runKey: string;
  remainingMs?: () => number;
  pageSize?: number;
  /** The user's effective tier at `now`. */
  tiers: TierSource;
  audit: AuditSink;
}

export type RetentionPurgeOutcome = JobOutcome & { counts?: PurgeCounts };

const emptyCounts = (): PurgeCounts => ({ scanned: 0, purged: 0, pastRetention: 0, deviceRemoved: 0, kept: 0, feeds: 0 });

export async function runRetentionPurge(options: RetentionPurgeOptions): Promise<RetentionPurgeOutcome> {
  const table = config.table("Sync");
  const tierSource = options.tiers;
  let finished: PurgeCounts | undefined;
  const outcome = await runJob<PurgeCheckpoint>({
    name: RETENTION_PURGE_JOB,
    runKey: options.runKey,
    // The lease runs on the wall clock: how long a run may hold it is real time, whatever the job's clock says.
    ...(options.remainingMs ? { remainingMs: options.remainingMs } : {}),
    page: async (checkpoint) => {
      const counts = { ...(checkpoint?.counts ?? emptyCounts()) };
      const page = await documentClient().send(new ScanCommand({
        TableName: table,
        FilterExpression: "begins_with(pk, :feed)",
        ProjectionExpression: "pk, sk, seq, createdAt, priority",
        ExpressionAttributeValues: { ":feed": FEED_PREFIX },
        Limit: options.pageSize ?? DEFAULT_PAGE_SIZE,
        ConsistentRead: true,
        ...(checkpoint?.startKey ? { ExclusiveStartKey: checkpoint.startKey } : {}),
      }));
      const items = (page.Items ?? []).flatMap((item) => {
        const feed = parseFeedPartition(item.pk as string);
        return feed ? [{ ...feed, item }] : [];
      });
      const users = [...new Set(items.map((i) => i.userKey))];
      const feeds = [...new Set(items.map((i) => `${i.userKey}#${i.deviceSlot}`))];
      const tiers = new Map(await mapLimit(users, LOOKUP_CONCURRENCY, async (userKey) => [userKey, await tierSource.effectiveTier(userKey, options.now)] as [string, Tier]));
      const registered = new Map(await mapLimit(feeds, LOOKUP_CONCURRENCY, async (feed) => {
        const [userKey = "", deviceSlot = ""] = feed.split("#");
        const { Item } = await documentClient().send(new GetCommand({ TableName: table, Key: deviceKeyBySlot(userKey, deviceSlot), ConsistentRead: true, ProjectionExpression: "pk" }));
        return [feed, Item !== undefined] as const;
      }));

      const doomed: Array<Record<string, unknown>> = [];
      const highest = new Map<string, { userKey: string; deviceSlot: string; seq: number; registered: boolean }>();
      for (const { userKey, deviceSlot, item } of items) {
        const feed = `${userKey}#${deviceSlot}`;
        const decision = decideFeedEntry({
          createdAt: typeof item.createdAt === "string" ? item.createdAt : undefined,
          priority: typeof item.priority === "number" ? item.priority : undefined,
          tier: tiers.get(userKey) ?? "free",
          deviceRegistered: registered.get(feed) ?? false,
        }, options.now);
        counts.scanned += 1;
        if (!decision.purge) {
          counts.kept += 1;
          continue;
        }
        doomed.push({ pk: item.pk, sk: item.sk });
        counts.purged += 1;
        if (decision.reason === "past_retention") counts.pastRetention += 1;
        else counts.deviceRemoved += 1;
        const seq = typeof item.seq === "number" ? item.seq : Number(item.sk);
        const mark = highest.get(feed);
        if (!mark || seq > mark.seq) highest.set(feed, { userKey, deviceSlot, seq, registered: registered.get(feed) ?? false });
      }
      // Watermarks first: a crash after them repeats the deletes; never a gap without a mark.
      await mapLimit([...highest.values()], LOOKUP_CONCURRENCY, (mark) => raiseWatermark(table, mark, options.now));
      await batchDelete(table, doomed);
      counts.feeds += highest.size;

      if (page.LastEvaluatedKey) return { processed: items.length, next: { startKey: page.LastEvaluatedKey, counts } };
      await recordJobRun({
        job: RETENTION_PURGE_JOB, runKey: options.runKey, outcome: "completed", counts: { ...counts }, now: options.now,
        metrics: { FeedEntriesPurged: "purged" },
      }, options.audit);
      finished = counts;
      return { processed: items.length, next: null };
    },
  });
  return finished ? { ...outcome, counts: finished } : outcome;
}

/** The watermark only rises; a removed device's mark goes with the feed's TTL backstop (45 days). */
async function raiseWatermark(table: string, mark: { userKey: string; deviceSlot: string; seq: number; registered: boolean }, now: Date): Promise<void> {
  try {
    await documentClient().send(new UpdateCommand({
      TableName: table,
      Key: purgeWatermarkKeyBySlot(mark.userKey, mark.deviceSlot),
      UpdateExpression: mark.registered ? "SET highestPurgedSeq = :seq, purgedAt = :now REMOVE expiresAt" : "SET highestPurgedSeq = :seq, purgedAt = :now, expiresAt = :exp",
      ConditionExpression: "attribute_not_exists(highestPurgedSeq) OR highestPurgedSeq < :seq",
      ExpressionAttributeValues: {
        ":seq": mark.seq, ":now": now.toISOString(),
        ...(mark.registered ? {} : { ":exp": Math.floor(now.getTime() / 1000) + 45 * 24 * 3600 }),
      },
    }));
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
}
