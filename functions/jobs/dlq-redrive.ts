import type { Context, ScheduledEvent } from "aws-lambda";
import { redrivePage } from "@paysync/aws/jobs/dlq-redrive";
import { runJob } from "@paysync/aws/jobs/job-runner";

/** Scheduled: moves dead-lettered webhook and sync messages back to their lanes, capped. */
export const handler = async (event: ScheduledEvent, context: Context) =>
  runJob({
    name: "dlq-redrive",
    // Each scheduled run is its own period; a duplicate delivery of the same event does nothing.
    runKey: event.time,
    page: redrivePage,
    remainingMs: () => context.getRemainingTimeInMillis(),
  });
