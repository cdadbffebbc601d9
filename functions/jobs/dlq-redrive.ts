import { scheduledJob } from "@paysync/aws/base/job";
import { redrivePage, type RedriveCheckpoint } from "@paysync/aws/jobs/dlq-redrive";
import { runJob } from "@paysync/aws/jobs/job-runner";
import { wiring } from "@paysync/aws/wiring";

/** Scheduled: moves dead-lettered webhook and sync messages back to their lanes, capped. */
export const handler = scheduledJob("dlq-redrive", (event, context) =>
  runJob<RedriveCheckpoint>({
    name: "dlq-redrive",
    // Each scheduled run is its own period; a duplicate delivery of the same event does nothing.
    runKey: event.time ?? new Date().toISOString(),
    page: (checkpoint) => redrivePage(wiring.audit(), checkpoint),
    ...(context ? { remainingMs: () => context.getRemainingTimeInMillis() } : {}),
  }));
