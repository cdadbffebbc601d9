import type { Context, ScheduledEvent } from "aws-lambda";
import { jobClock, previousUtcDay } from "@paysync/core/jobs/day-window";
import { runUsageAggregation } from "@paysync/aws/jobs/usage-aggregation";

/**
 * Scheduled daily after midnight UTC (`JOBS.UsageAggregation`): aggregates the day before the
 * event's `time` — bytes and ops by priority per user — into the Audit table. The day is the
 * run key: a second run of an aggregated day does nothing.
 */
export const handler = async (event: Partial<ScheduledEvent>, context?: Context) => {
  const now = jobClock(event.time, new Date());
  return runUsageAggregation({
    day: previousUtcDay(now),
    now,
    ...(context ? { remainingMs: () => context.getRemainingTimeInMillis() } : {}),
  });
};
