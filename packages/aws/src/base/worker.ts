import middy from "@middy/core";
import { SqsFifoPartialProcessorAsync, processPartialResponse } from "@aws-lambda-powertools/batch";
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
      const response = await processPartialResponse(event, processRecord, new SqsFifoPartialProcessorAsync(), { context, skipGroupOnError: true });
      const failed = response.batchItemFailures.length;
      metrics.addMetric("RecordsProcessed", MetricUnit.Count, event.Records.length - failed);
      metrics.addMetric("RecordsFailed", MetricUnit.Count, failed);
      return response;
    });
}
