import { jobClock, previousUtcDay } from "@paysync/core/jobs/day-window";
import { scheduledJob } from "@paysync/aws/base/job";
import { runUsageAggregation } from "@paysync/aws/jobs/usage-aggregation";
import { wiring } from "@paysync/aws/wiring";

/**
 * Scheduled daily after midnight UTC (`JOBS.UsageAggregation`): aggregates the day before the
 * event's `time` — bytes and ops by priority per user — into the Audit table. The day is the
 * run key: a second run of an aggregated day does nothing.
 */
export const handler = scheduledJob("usage-aggregation", (event, context) => {
  const now = jobClock(event.time, new Date());
  return runUsageAggregation({
    day: previousUtcDay(now),
    now,
    audit: wiring.audit(),
    ...(context ? { remainingMs: () => context.getRemainingTimeInMillis() } : {}),
  });
});
