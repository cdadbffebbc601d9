/**
 * What a finished maintenance job leaves behind: a run record in the Audit table
 * (`jobRunKey`: the run's counts — codes and numbers only, no PII), an
 * entry in the audit trail (`job.<job>` with the outcome), a metric per count worth an alarm,
 * and one log line. Written from the job's last page, so a crash before it repeats the page
 * and the record; the record is a plain Put of the same key and content.
 *
 * @example
 * await recordJobRun({ job: "retention-purge", runKey, outcome: "completed", counts: { purged: 12 }, now }, audit);
 */
import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import type { AuditSink } from "@paysync/core/ports";
import { documentClient } from "../base/clients.js";
import { config } from "../base/config.js";
import { errorName, logger, metrics } from "../base/observability.js";
import { jobRunKey } from "../store/keys.js";

export interface JobRunRecord {
  job: string;
  runKey: string;
  /** A code: `completed`, `intact`, `broken`, `missed` … */
  outcome: string;
  counts: Record<string, number>;
  /** Counts also published as metrics (name → count key). */
  metrics?: Record<string, string>;
  now: Date;
  /** Who the audit entry names: `job` for routine runs, `system` for a finding that needs a person. */
  actor?: "job" | "system";
}

export async function recordJobRun(run: JobRunRecord, audit: AuditSink): Promise<void> {
  await documentClient().send(new PutCommand({
    TableName: config.table("Audit"),
    Item: { ...jobRunKey(run.job, run.runKey), job: run.job, outcome: run.outcome, ...run.counts, recordedAt: run.now.toISOString() },
  }));
  try {
    for (const [name, key] of Object.entries(run.metrics ?? {})) metrics.addMetric(name, MetricUnit.Count, run.counts[key] ?? 0);
  } catch (error) {
    logger.warn("job metric not published", { job: run.job, errorName: errorName(error) });
  }
  await audit.append({ actor: run.actor ?? "job", action: `job.${run.job}`, outcome: run.outcome });
  logger.info("job run recorded", { job: run.job, runKey: run.runKey, outcome: run.outcome, ...run.counts });
}

/** The record of a finished run, if any (a second run of a finished run key answers with it). */
export async function readJobRun(job: string, runKey: string): Promise<Record<string, unknown> | undefined> {
  const { Item } = await documentClient().send(new GetCommand({ TableName: config.table("Audit"), Key: jobRunKey(job, runKey), ConsistentRead: true }));
  return Item;
}
