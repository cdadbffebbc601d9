import { randomUUID } from "node:crypto";
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { documentClient } from "../base/clients.js";
import { config } from "../base/config.js";
import { logger } from "../base/observability.js";
import { jobStateKey } from "../store/keys.js";

/** One page of a job's work: what it did and where the next page starts (`null`: finished). */
export interface PageResult<C> {
  processed: number;
  next: C | null;
}

export interface JobRun<C> {
  /** Stable job name, e.g. `grace-expiry`. */
  name: string;
  /**
   * What this run covers: a daily job uses the day it reports on, so a second run of a
   * finished day does nothing; continuous jobs use a constant.
   */
  runKey: string;
  /** One bounded page from the checkpoint (`undefined` on a fresh run). Must be idempotent. */
  page(checkpoint: C | undefined): Promise<PageResult<C>>;
  now?: Date;
  /** Stop taking new pages when less than this much Lambda time is left. */
  remainingMs?: () => number;
  leaseMs?: number;
}

export type JobOutcome =
  | { status: "completed"; processed: number; pages: number }
  | { status: "already_completed" }
  | { status: "lease_held" }
  | { status: "paused"; processed: number; pages: number };

const STOP_MARGIN_MS = 30_000;

/**
 * Runs a maintenance job safely: a lease (conditional write) lets one run work at a time,
 * a checkpoint after every page lets an interrupted run resume where it stopped, and a
 * completed run key is never run again. Pages must be idempotent, since a crash between a
 * page's writes and its checkpoint repeats that page.
 */
export async function runJob<C>(job: JobRun<C>): Promise<JobOutcome> {
  const table = config.table("Audit");
  const key = jobStateKey(job.name);
  const holder = randomUUID();
  const leaseMs = job.leaseMs ?? 15 * 60_000;
  const now = () => (job.now ?? new Date()).getTime();

  const state = (await documentClient().send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item;
  if (state?.completedRunKey === job.runKey) return { status: "already_completed" };

  try {
    await documentClient().send(new UpdateCommand({
      TableName: table,
      Key: key,
      UpdateExpression: "SET holder = :holder, leaseUntil = :until",
      ConditionExpression: "attribute_not_exists(holder) OR leaseUntil < :now OR holder = :none",
      ExpressionAttributeValues: { ":holder": holder, ":until": now() + leaseMs, ":now": now(), ":none": "none" },
    }));
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return { status: "lease_held" };
    throw error;
  }

  const fresh = (await documentClient().send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item;
  if (fresh?.completedRunKey === job.runKey) {
    await release(table, key, holder, {});
    return { status: "already_completed" };
  }
  // A checkpoint belongs to the run key it was taken for; a new period starts afresh.
  let checkpoint = fresh?.runKey === job.runKey ? (fresh.checkpoint as C | undefined) : undefined;
  let processed = 0;
  let pages = 0;
  for (;;) {
    if (job.remainingMs && job.remainingMs() < STOP_MARGIN_MS) {
      await release(table, key, holder, { runKey: job.runKey, checkpoint });
      logger.info("job paused", { job: job.name, processed, pages });
      return { status: "paused", processed, pages };
    }
    let result: PageResult<C>;
    try {
      result = await job.page(checkpoint);
    } catch (error) {
      // Keep the progress so far and free the lease: the next run resumes from here.
      await release(table, key, holder, { runKey: job.runKey, checkpoint });
      throw error;
    }
    processed += result.processed;
    pages += 1;
    if (result.next === null) {
      await release(table, key, holder, { runKey: job.runKey, completedRunKey: job.runKey, completedAt: new Date(now()).toISOString() }, true);
      logger.info("job completed", { job: job.name, processed, pages });
      return { status: "completed", processed, pages };
    }
    checkpoint = result.next;
    await saveCheckpoint(table, key, holder, job.runKey, checkpoint, now() + leaseMs);
  }
}

async function saveCheckpoint(table: string, key: { pk: string; sk: string }, holder: string, runKey: string, checkpoint: unknown, leaseUntil: number) {
  await documentClient().send(new UpdateCommand({
    TableName: table,
    Key: key,
    UpdateExpression: "SET runKey = :runKey, checkpoint = :checkpoint, leaseUntil = :until",
    ConditionExpression: "holder = :holder",
    ExpressionAttributeValues: { ":runKey": runKey, ":checkpoint": checkpoint, ":until": leaseUntil, ":holder": holder },
  }));
}

async function release(table: string, key: { pk: string; sk: string }, holder: string, fields: Record<string, unknown>, clearCheckpoint = false) {
  const entries = Object.entries(fields).filter(([, v]) => v !== undefined);
  const sets = ["holder = :none", ...entries.map(([name]) => `${name} = :${name}`)];
  await documentClient().send(new UpdateCommand({
    TableName: table,
    Key: key,
    UpdateExpression: `SET ${sets.join(", ")}${clearCheckpoint ? " REMOVE checkpoint" : ""}`,
    ConditionExpression: "holder = :holder",
    ExpressionAttributeValues: { ":none": "none", ":holder": holder, ...Object.fromEntries(entries.map(([name, v]) => [`:${name}`, v])) },
  }));
}
