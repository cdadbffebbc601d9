import { jobClock } from "@paysync/core/jobs/day-window";
import { scheduledJob } from "@paysync/aws/base/job";
import { runAuditVerify } from "@paysync/aws/jobs/audit-verify";
import { wiring } from "@paysync/aws/wiring";

/**
 * Scheduled daily (`JOBS.AuditVerify`): verifies the audit hash chains (sealed days against
 * their seal), seals the days that are over, and raises `AuditChainsBroken` plus an error
 * log and a `system` audit entry when anything is broken. Run key: the event's `time`. The
 * clock is that time but never later than the wall clock: a day is sealed only once it is
 * really over, whatever time an event claims.
 */
export const handler = scheduledJob("audit-verify", (event, context) => {
  const scheduled = jobClock(event.time, new Date());
  return runAuditVerify({
    now: new Date(Math.min(scheduled.getTime(), Date.now())),
    runKey: scheduled.toISOString(),
    audit: wiring.audit(),
    ...(context ? { remainingMs: () => context.getRemainingTimeInMillis() } : {}),
  });
});
