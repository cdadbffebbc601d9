import { jobClock } from "@paysync/core/jobs/day-window";
import { utcDayKey } from "@paysync/core/sync";
import { scheduledJob } from "@paysync/aws/base/job";
import { runRetentionPurge } from "@paysync/aws/jobs/retention-purge";
import { wiring } from "@paysync/aws/wiring";

/**
 * Scheduled daily (`JOBS.RetentionPurge`): removes change-feed entries past the user's tier's
 * offline retention, and every entry of a removed device. The clock is the event's `time`
 * (the scheduled time; tests and operators inject one there). The run key is that time's UTC
 * day: one purge a day, and any later invocation the same day resumes a run that stopped
 * (Lambda's deadline, a failure) or does nothing.
 */
export const handler = scheduledJob("retention-purge", (event, context) => {
  const now = jobClock(event.time, new Date());
  return runRetentionPurge({
    now,
    runKey: utcDayKey(now.getTime()),
    tiers: wiring.tiers(),
    audit: wiring.audit(),
    ...(context ? { remainingMs: () => context.getRemainingTimeInMillis() } : {}),
  });
});
