import type { Context, ScheduledEvent } from "aws-lambda";
import { jobClock, previousUtcDay } from "@paysync/core/jobs/day-window";
import { runSloReport } from "@paysync/aws/jobs/slo-report";

/**
 * Scheduled daily after midnight UTC (`JOBS.SloReport`): the SLO report of the day before the
 * event's `time` — apply latency per priority against its target, crisis calls and their
 * breaches — stored, logged as text and returned. The day is the run key.
 */
export const handler = async (event: Partial<ScheduledEvent>, context?: Context) => {
  const now = jobClock(event.time, new Date());
  return runSloReport({
    day: previousUtcDay(now),
    now,
    ...(context ? { remainingMs: () => context.getRemainingTimeInMillis() } : {}),
  });
};
