import { SqsFifoPartialProcessorAsync, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { Context, SQSEvent, SQSRecord } from "aws-lambda";
import { logger } from "@paysync/aws/observability";
import { OpApplier } from "@paysync/aws/sync/op-applier";
import { SyncOpMessageSchema } from "@paysync/aws/sync/op-message";
import { recordApply } from "@paysync/aws/sync/sync-telemetry";

/** What the worker needs of an applier (an interface, so tests can inject faults). */
export interface Applier {
  apply: OpApplier["apply"];
}

/**
 * The sync lanes' consumer (one deployment per lane). Each op is applied exactly once
 * (op record in the apply transaction), its offline-queue slot released in that same
 * transaction, and its enqueue → applied latency recorded per priority. A failed op fails
 * the rest of its message group in this batch, so one entity's ops never apply out of
 * order; other groups go on. A redelivered op that had already committed is a duplicate.
 *
 * @example
 * export const handler = createSyncWorker(new OpApplier());
 */
export function createSyncWorker(applier: Applier) {
  async function applyRecord(record: SQSRecord): Promise<void> {
    const op = SyncOpMessageSchema.parse(JSON.parse(record.body));
    const result = await applier.apply(op);
    const latencyMs = Date.now() - op.enqueuedAtMs;
    logger.debug("op applied", { outcome: result.outcome, priority: op.priority, entityType: op.entityType, latencyMs });
    await recordApply({ userKey: op.userKey, entityType: op.entityType, priority: op.priority, outcome: result.outcome, latencyMs });
  }

  return async (event: SQSEvent, context: Context) => {
    const processor = new SqsFifoPartialProcessorAsync();
    return processPartialResponse(event, applyRecord, processor, { context, skipGroupOnError: true });
  };
}

let applier: OpApplier | undefined;

export const handler = (event: SQSEvent, context: Context) => {
  applier ??= new OpApplier();
  return createSyncWorker(applier)(event, context);
};
