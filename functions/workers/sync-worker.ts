import { SqsFifoPartialProcessorAsync, processPartialResponse } from "@aws-lambda-powertools/batch";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import type { Context, SQSEvent, SQSRecord } from "aws-lambda";
import { logger, metrics } from "@paysync/aws/observability";
import { OpApplier } from "@paysync/aws/sync/op-applier";
import { SyncOpMessageSchema } from "@paysync/aws/sync/op-message";

const applier = new OpApplier();

async function applyRecord(record: SQSRecord): Promise<void> {
  const op = SyncOpMessageSchema.parse(JSON.parse(record.body));
  const result = await applier.apply(op);
  const latencyMs = Date.now() - op.enqueuedAtMs;
  metrics.addDimensions({ priority: String(op.priority) });
  metrics.addMetric("ApplyLatency", MetricUnit.Milliseconds, latencyMs);
  metrics.publishStoredMetrics();
  logger.debug("op applied", { outcome: result.outcome, priority: op.priority, entityType: op.entityType, latencyMs });
}

/**
 * The sync lanes' consumer (one deployment per lane). A failed op fails the rest of its
 * message group in this batch, so one entity's ops never apply out of order; other
 * groups go on.
 */
export const handler = async (event: SQSEvent, context: Context) => {
  const processor = new SqsFifoPartialProcessorAsync();
  return processPartialResponse(event, applyRecord, processor, { context, skipGroupOnError: true });
};
