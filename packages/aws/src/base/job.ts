import middy from "@middy/core";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import { captureLambdaHandler } from "@aws-lambda-powertools/tracer/middleware";
import type { Context, ScheduledEvent } from "aws-lambda";
import { logger, metrics, tracer } from "./observability.js";

/** What a job handler gets: the scheduled event (its `time` may be injected) and, in Lambda, a context. */
export type JobEvent = Partial<ScheduledEvent>;

/**
 * A scheduled job's handler, wrapped once for every job: a trace segment, the logger's Lambda
 * context, one metrics flush (the job's own counts, a cold-start metric and `JobInvocations`).
 * The local job CLI calls handlers without a context; the job then has no deadline.
 *
 * @example
 * export const handler = scheduledJob("retention-purge", (event, context) => runRetentionPurge({ … }));
 */
export function scheduledJob<R>(name: string, run: (event: JobEvent, context: Context | undefined) => Promise<R>) {
  // No early abort: jobs stop taking pages before their deadline themselves (`remainingMs`): no early abort mid-page.
  const wrapped = middy<JobEvent, R>({ timeoutEarlyInMillis: 0 })
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(injectLambdaContext(logger, { logEvent: false, resetKeys: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }))
    .handler(async (event: JobEvent, context: Context) => {
      metrics.addDimensions({ job: name });
      metrics.addMetric("JobInvocations", MetricUnit.Count, 1);
      return run(event, context.getRemainingTimeInMillis === undefined ? undefined : context);
    });
  return (event: JobEvent, context?: Context): Promise<R> => wrapped(event, context ?? ({} as Context));
}
