import type { Context, ScheduledEvent } from "aws-lambda";
import { jobClock } from "@paysync/core/jobs/day-window";
import { runAuditVerify } from "@paysync/aws/jobs/audit-verify";

/**
 * Scheduled daily (`JOBS.AuditVerify`): verifies the audit hash chains (sealed days against
 * their seal), seals the days that are over, and raises `AuditChainsBroken` plus an error
 * log and a `system` audit entry when anything is broken. Run key: the event's `time`. The
 * clock is that time but never later than the wall clock: a day is sealed only once it is
 * really over, whatever time an event claims.
 */
export const handler = async (event: Partial<ScheduledEvent>, context?: Context) => {
  const scheduled = jobClock(event.time, new Date());
  return runAuditVerify({
    now: new Date(Math.min(scheduled.getTime(), Date.now())),
    runKey: scheduled.toISOString(),
    ...(context ? { remainingMs: () => context.getRemainingTimeInMillis() } : {}),
  });
};
