import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { SyncOpMessageSchema } from "@paysync/core/sync/op-message";
import { logger } from "@paysync/aws/base/observability";
import { fifoWorker } from "@paysync/aws/base/worker";
import { isDeferredCrisisWrite, type DeferredCrisisWrites } from "@paysync/aws/crisis/deferred-writes";
import type { OpApplier } from "@paysync/aws/sync/op-applier";
import type { SyncTelemetry } from "@paysync/aws/sync/sync-telemetry";
import { wiring } from "@paysync/aws/wiring";

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
 * Crisis writes deferred by the crisis function while storage was down are applied through
 * the crisis path (`DeferredCrisisWrites`), never the generic applier.
 *
 * @example
 * export const handler = createSyncWorker(wiring.opApplier(), wiring.syncTelemetry());
 */
export function createSyncWorker(applier: Applier, telemetry: SyncTelemetry, deferredCrisis?: Pick<DeferredCrisisWrites, "apply">) {
  return fifoWorker(async (record: SQSRecord) => {
    const op = SyncOpMessageSchema.parse(JSON.parse(record.body));
    if (deferredCrisis && isDeferredCrisisWrite(op)) {
      // A crisis write the crisis function kept while storage was down (degraded mode).
      const outcome = await deferredCrisis.apply(op);
      logger.info("deferred crisis write", { outcome, entityType: op.entityType, latencyMs: Date.now() - op.enqueuedAtMs });
      return;
    }
    const result = await applier.apply(op);
    const latencyMs = Date.now() - op.enqueuedAtMs;
    logger.debug("op applied", { outcome: result.outcome, priority: op.priority, entityType: op.entityType, latencyMs });
    await telemetry.recordApply({ userKey: op.userKey, entityType: op.entityType, priority: op.priority, outcome: result.outcome, latencyMs });
  });
}

let worker: ReturnType<typeof createSyncWorker> | undefined;

export const handler = (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  worker ??= createSyncWorker(wiring.opApplier(), wiring.syncTelemetry(), wiring.deferredCrisisWrites());
  return worker(event, context);
};
