/**
 * Daily usage per user (SPEC.md §6), kept in the Audit table — apart from therapeutic data.
 * Run key: the UTC day aggregated. Two phases, each in bounded pages:
 *
 * 1. bytes — the sync engine's daily data counters (Sync, `dailyUsageKey`, found through
 *    their index entries of the day): `bytes`, `pushBytes`, `pullBytes` are copied
 *    (SET: a repeated page writes the same values);
 * 2. ops by priority — the day's audit trail read in slices (`readAuditDaySlice`), counted
 *    per user (`countOpsByUser`) and added to the user's record at most once per slice (the
 *    slice id goes into the record with the counts, conditionally, in one update).
 *
 * Output (Audit table):
 *   `userUsageKey`  {day, bytes, pushBytes, pullBytes, opsP1 … opsP10, slices}
 *                                    (`slices`: the audit slices already counted)
 *   `dayUsageKey`   the day's totals {users, bytes, …, ops}
 * Both expire after {@link USAGE_RETENTION_DAYS}.
 *
 * @example
 * await runUsageAggregation({ day: "2025-03-09", now: new Date(), audit });
 */
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { PutCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { dayWindow } from "@paysync/core/jobs/day-window";
import { addOps, byteUsageOf, countOpsByUser, emptyTotals, totalOps, type OpsByPriority, type UsageTotals } from "@paysync/core/jobs/usage";
import { documentClient } from "../base/clients.js";
import { config } from "../base/config.js";
import type { AuditLog } from "../store/audit-log.js";
import { dailyUsageIndexPartition, dayUsageKey, userUsageKey } from "../store/keys.js";
import { readAuditDaySlice, type AuditDayPosition } from "./audit-day-pages.js";
import { mapLimit } from "./batch.js";
import { recordJobRun } from "./job-report.js";
import { runJob, type JobOutcome } from "./job-runner.js";

export const USAGE_AGGREGATION_JOB = "usage-aggregation";
/** How long daily usage records are kept: a year and a month, for year-on-year comparison. */
export const USAGE_RETENTION_DAYS = 400;
const DEFAULT_PAGE_SIZE = 100;
const DEFAULT_SLICE_ENTRIES = 1_000;
const WRITE_CONCURRENCY = 16;

export { dayUsageKey, userUsageKey };

type UsageCheckpoint =
  | { phase: "bytes"; startKey?: Record<string, unknown>; totals: UsageTotals }
  | { phase: "ops"; position?: AuditDayPosition; totals: UsageTotals };

export interface UsageAggregationOptions {
  /** The UTC day to aggregate (`YYYY-MM-DD`); also the run key. */
  day: string;
  /** When the run happens (records the time of the result). */
  now: Date;
  remainingMs?: () => number;
  /** Users per page of the bytes phase. */
  pageSize?: number;
  /** Audit entries per page of the ops phase. */
  sliceEntries?: number;
  audit: AuditLog;
}

export type UsageAggregationOutcome = JobOutcome & { day: string; totals?: UsageTotals };

export async function runUsageAggregation(options: UsageAggregationOptions): Promise<UsageAggregationOutcome> {
  const { day, to } = dayWindow(options.day);
  const expiresAt = Math.floor(to.getTime() / 1000) + USAGE_RETENTION_DAYS * 86_400;
  let finished: UsageTotals | undefined;
  const outcome = await runJob<UsageCheckpoint>({
    name: USAGE_AGGREGATION_JOB,
    runKey: day,
    // The lease runs on the wall clock: how long a run may hold it is real time, whatever the job's clock says.
    ...(options.remainingMs ? { remainingMs: options.remainingMs } : {}),
    page: async (checkpoint) => {
      const state: UsageCheckpoint = checkpoint ?? { phase: "bytes", totals: emptyTotals() };
      const totals: UsageTotals = { ...state.totals, ops: { ...state.totals.ops } };
      if (state.phase === "bytes") {
        const page = await documentClient().send(new QueryCommand({
          TableName: config.table("Sync"),
          IndexName: "gsi1",
          KeyConditionExpression: "gsi1pk = :day",
          ExpressionAttributeValues: { ":day": dailyUsageIndexPartition(day) },
          Limit: options.pageSize ?? DEFAULT_PAGE_SIZE,
          ...(state.startKey ? { ExclusiveStartKey: state.startKey } : {}),
        }));
        const counters = (page.Items ?? []).filter((item) => typeof item.gsi1sk === "string");
        await mapLimit(counters, WRITE_CONCURRENCY, (item) => writeBytes(item.gsi1sk as string, day, item, expiresAt));
        for (const item of counters) {
          const bytes = byteUsageOf(item);
          totals.users += 1;
          totals.bytes += bytes.bytes;
          totals.pushBytes += bytes.pushBytes;
          totals.pullBytes += bytes.pullBytes;
        }
        const next: UsageCheckpoint = page.LastEvaluatedKey ? { phase: "bytes", startKey: page.LastEvaluatedKey, totals } : { phase: "ops", totals };
        return { processed: counters.length, next };
      }

      const slice = await readAuditDaySlice(options.audit, day, state.position, options.sliceEntries ?? DEFAULT_SLICE_ENTRIES);
      const counts = countOpsByUser(slice.entries);
      await mapLimit([...counts], WRITE_CONCURRENCY, ([userKey, ops]) => addOpsOnce(userKey, day, slice.id, ops, expiresAt));
      for (const ops of counts.values()) addOps(totals.ops, ops);
      if (slice.next) return { processed: slice.entries.length, next: { phase: "ops", position: slice.next, totals } };

      await documentClient().send(new PutCommand({
        TableName: config.table("Audit"),
        Item: { ...dayUsageKey(day), day, ...totals, aggregatedAt: options.now.toISOString(), expiresAt },
      }));
      await recordJobRun({
        job: USAGE_AGGREGATION_JOB, runKey: day, outcome: "completed", now: options.now,
        counts: { users: totals.users, bytes: totals.bytes, ops: totalOps(totals.ops) },
      }, options.audit);
      finished = totals;
      return { processed: slice.entries.length, next: null };
    },
  });
  return { ...outcome, day, ...(finished ? { totals: finished } : {}) };
}

async function writeBytes(userKey: string, day: string, counter: Record<string, unknown>, expiresAt: number): Promise<void> {
  const bytes = byteUsageOf(counter);
  await documentClient().send(new UpdateCommand({
    TableName: config.table("Audit"),
    Key: userUsageKey(userKey, day),
    UpdateExpression: "SET #day = :day, bytes = :bytes, pushBytes = :push, pullBytes = :pull, expiresAt = :exp",
    ExpressionAttributeNames: { "#day": "day" },
    ExpressionAttributeValues: { ":day": day, ":bytes": bytes.bytes, ":push": bytes.pushBytes, ":pull": bytes.pullBytes, ":exp": expiresAt },
  }));
}

/** Adds one slice's ops to a user's record, unless this slice was added already (a repeated page). */
async function addOpsOnce(userKey: string, day: string, sliceId: string, ops: OpsByPriority, expiresAt: number): Promise<void> {
  const entries = Object.entries(ops);
  const names = Object.fromEntries(entries.map(([priority]) => [`#p${priority}`, `opsP${priority}`]));
  const values = Object.fromEntries(entries.map(([priority, n]) => [`:p${priority}`, n]));
  try {
    await documentClient().send(new UpdateCommand({
      TableName: config.table("Audit"),
      Key: userUsageKey(userKey, day),
      UpdateExpression: `SET #day = :day, expiresAt = :exp ADD slices :slice, ${entries.map(([priority]) => `#p${priority} :p${priority}`).join(", ")}`,
      ConditionExpression: "NOT contains(slices, :sliceId)",
      ExpressionAttributeNames: { "#day": "day", ...names },
      ExpressionAttributeValues: { ":day": day, ":exp": expiresAt, ":slice": new Set([sliceId]), ":sliceId": sliceId, ...values },
    }));
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
}
