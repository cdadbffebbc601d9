import { logger } from "@paysync/aws/base/observability";
import { scheduledJob } from "@paysync/aws/base/job";
import { runGraceExpiry } from "@paysync/aws/jobs/grace-expiry";
import { wiring } from "@paysync/aws/wiring";

/**
 * Scheduled every 15 minutes (`JOBS.GraceExpiry`). The clock is the later of the scheduled
 * time and the wall clock, so a late invocation still expires everyone due by now, and a test
 * (or an operator replaying a tick) can inject a clock through the event's `time`.
 */
export const handler = scheduledJob("grace-expiry", async (event, context) => {
  const scheduled = event.time ? Date.parse(event.time) : Number.NaN;
  const now = new Date(Number.isNaN(scheduled) ? Date.now() : Math.max(scheduled, Date.now()));
  const outcome = await runGraceExpiry({
    now,
    runKey: Number.isNaN(scheduled) ? now.toISOString() : new Date(scheduled).toISOString(),
    payments: wiring.paymentApplier(),
    paymentState: wiring.paymentState(),
    audit: wiring.audit(),
    ...(context ? { remainingMs: () => context.getRemainingTimeInMillis() } : {}),
  });
  logger.info("grace expiry", { ...outcome });
  return outcome;
});
