import middy from "@middy/core";
import { FullBatchFailureError, SqsFifoPartialProcessorAsync, processPartialResponse } from "@aws-lambda-powertools/batch";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import { captureLambdaHandler } from "@aws-lambda-powertools/tracer/middleware";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { logger, metrics, tracer } from "./observability.js";

/**
 * A FIFO lane's consumer, wrapped once for every lane: a trace segment, the logger's Lambda
 * context (never the records), one metrics flush with a cold-start metric and the batch's
 * processed/failed counts, and Powertools' FIFO partial processor with `skipGroupOnError` —
 * a failed record fails the rest of its message group in this batch (so one group's records
 * never apply out of order), other groups go on, and the failures return to the lane.
 * A batch's message groups are independent (FIFO orders within a group only), so each group
 * runs through a processor of its own, concurrently with the others: a batch of ten users'
 * ops takes about one op's time, not ten, and the lane drains faster at the same concurrency.
 *
 * @example
 * export const handler = fifoWorker(async (record) => apply(JSON.parse(record.body)));
 */
export function fifoWorker(processRecord: (record: SQSRecord) => Promise<void>) {
  // No early abort: a batch that runs out of time fails as a whole and returns to the lane, as a Lambda timeout does.
  return middy<SQSEvent, SQSBatchResponse>({ timeoutEarlyInMillis: 0 })
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(injectLambdaContext(logger, { logEvent: false, resetKeys: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }))
    .handler(async (event: SQSEvent, context: Context) => {
      const groups = messageGroups(event.Records);
      const processors = groups.map(() => new SqsFifoPartialProcessorAsync());
      const responses = await Promise.all(groups.map((Records, i) =>
        processPartialResponse({ Records }, processRecord, processors[i]!, { context, skipGroupOnError: true, throwOnFullBatchFailure: false })));
      const response: SQSBatchResponse = { batchItemFailures: responses.flatMap((r) => r.batchItemFailures) };
      const failed = response.batchItemFailures.length;
      // As one processor would: a batch that failed entirely is an error, and returns to the lane whole.
      if (failed > 0 && failed === event.Records.length) throw new FullBatchFailureError(processors.flatMap((p) => p.errors));
      metrics.addMetric("RecordsProcessed", MetricUnit.Count, event.Records.length - failed);
      metrics.addMetric("RecordsFailed", MetricUnit.Count, failed);
      return response;
    });
}

/** The batch's records by message group, each group in its received (FIFO) order. */
function messageGroups(records: SQSRecord[]): SQSRecord[][] {
  const groups = new Map<string, SQSRecord[]>();
  for (const record of records) {
    const group = record.attributes.MessageGroupId ?? "";
    const members = groups.get(group);
    if (members) members.push(record);
    else groups.set(group, [record]);
  }
  return [...groups.values()];
}
