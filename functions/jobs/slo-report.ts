import { jobClock, previousUtcDay } from "@paysync/core/jobs/day-window";
import { scheduledJob } from "@paysync/aws/base/job";
import { runSloReport } from "@paysync/aws/jobs/slo-report";
import { wiring } from "@paysync/aws/wiring";

/**
 * Scheduled daily after midnight UTC (`JOBS.SloReport`): the SLO report of the day before the
 * event's `time` — apply latency per priority against its target, crisis calls and their
 * breaches — stored, logged as text and returned. The day is the run key.
 */
export const handler = scheduledJob("slo-report", (event, context) => {
  const now = jobClock(event.time, new Date());
  return runSloReport({
    day: previousUtcDay(now),
    now,
    audit: wiring.audit(),
    ...(context ? { remainingMs: () => context.getRemainingTimeInMillis() } : {}),
  });
});
