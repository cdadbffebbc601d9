/**
 * The daily SLO report (SPEC.md §6): apply-latency percentiles per priority against the
 * SPEC targets, and crisis calls with every breach of the crisis target, for one UTC day.
 * Run key: the day. The day's audit trail is read in slices (`readAuditDaySlice`); each
 * slice's tally is stored (`sloPartKey`, a Put: a repeated page writes
 * the same item), and the last page merges them into the report:
 *
 *   `sloReportKey(day)`  {day, report}   (Audit table; what `formatSloReport` prints)
 *
 * The report is logged as text, its verdict goes to the audit trail (`job.slo-report`,
 * `met` or `missed`) and two metrics: `SloPrioritiesMissed`, `CrisisSloBreaches`.
 *
 * @example
 * const outcome = await runSloReport({ day: "2025-03-09", now: new Date(), audit });
 */
import { GetCommand, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { dayWindow } from "@paysync/core/jobs/day-window";
import { buildSloReport, emptyTally, formatSloReport, mergeTallies, tallyEntries, type SloReport, type SloTally } from "@paysync/core/jobs/slo";
import { documentClient } from "../base/clients.js";
import { config } from "../base/config.js";
import { logger } from "../base/observability.js";
import { CRISIS_CAPACITY } from "../resources.js";
import type { AuditLog } from "../store/audit-log.js";
import { sloPartKey, sloPartPartition, sloReportKey } from "../store/keys.js";
import { readAuditDaySlice, type AuditDayPosition } from "./audit-day-pages.js";
import { recordJobRun } from "./job-report.js";
import { runJob, type JobOutcome } from "./job-runner.js";

export const SLO_REPORT_JOB = "slo-report";
const DEFAULT_SLICE_ENTRIES = 2_000;
/** Slice tallies are only needed until the report is built. */
const PART_TTL_SECONDS = 7 * 86_400;

export { sloReportKey };

type SloCheckpoint = { position: AuditDayPosition } | { merge: true };

export interface SloReportOptions {
  /** The UTC day to report on (`YYYY-MM-DD`); also the run key. */
  day: string;
  now: Date;
  remainingMs?: () => number;
  /** Audit entries per page. */
  sliceEntries?: number;
  audit: AuditLog;
}

export type SloReportOutcome = JobOutcome & { day: string; report?: SloReport };

export async function runSloReport(options: SloReportOptions): Promise<SloReportOutcome> {
  const { day } = dayWindow(options.day);
  const crisisTargetMs = CRISIS_CAPACITY.latencyTargetMs;
  let report: SloReport | undefined;
  const outcome = await runJob<SloCheckpoint>({
    name: SLO_REPORT_JOB,
    runKey: day,
    // The lease runs on the wall clock: how long a run may hold it is real time, whatever the job's clock says.
    ...(options.remainingMs ? { remainingMs: options.remainingMs } : {}),
    page: async (checkpoint) => {
      if (checkpoint && "merge" in checkpoint) {
        report = buildSloReport(day, await mergedTally(day), { crisisTargetMs, generatedAt: new Date() });
        await documentClient().send(new PutCommand({ TableName: config.table("Audit"), Item: { ...sloReportKey(day), day, report } }));
        logger.info("SLO report", { day, missed: report.missed, crisisBreaches: report.crisis.breachCount, text: formatSloReport(report) });
        await recordJobRun({
          job: SLO_REPORT_JOB, runKey: day, outcome: report.missed.length === 0 ? "met" : "missed", now: options.now,
          counts: { prioritiesMissed: report.missed.length, crisisBreaches: report.crisis.breachCount, crisisCalls: report.crisis.calls.count },
          metrics: { SloPrioritiesMissed: "prioritiesMissed", CrisisSloBreaches: "crisisBreaches" },
        }, options.audit);
        return { processed: 0, next: null };
      }
      const slice = await readAuditDaySlice(options.audit, day, checkpoint?.position, options.sliceEntries ?? DEFAULT_SLICE_ENTRIES);
      const tally = tallyEntries(emptyTally(), slice.entries, { crisisTargetMs });
      await documentClient().send(new PutCommand({
        TableName: config.table("Audit"),
        Item: { ...sloPartKey(day, slice.id), tally, expiresAt: Math.floor(Date.now() / 1000) + PART_TTL_SECONDS },
      }));
      return { processed: slice.entries.length, next: slice.next ? { position: slice.next } : { merge: true } };
    },
  });
  return { ...outcome, day, ...(report ? { report } : {}) };
}

async function mergedTally(day: string): Promise<SloTally> {
  let tally = emptyTally();
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await documentClient().send(new QueryCommand({
      TableName: config.table("Audit"),
      KeyConditionExpression: "pk = :pk",
      ExpressionAttributeValues: { ":pk": sloPartPartition(day) },
      ConsistentRead: true,
      ExclusiveStartKey: startKey,
    }));
    for (const item of page.Items ?? []) tally = mergeTallies(tally, item.tally as SloTally);
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
  return tally;
}

/** The stored report of a day, if the job has produced it. */
export async function readSloReport(day: string): Promise<SloReport | undefined> {
  const { Item } = await documentClient().send(new GetCommand({ TableName: config.table("Audit"), Key: sloReportKey(day), ConsistentRead: true }));
  return Item?.report as SloReport | undefined;
}
