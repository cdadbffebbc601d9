import type { Context, ScheduledEvent } from "aws-lambda";
import { logger } from "@paysync/aws/observability";
import { runGraceExpiry } from "@paysync/aws/payments/grace-expiry-job";

/**
 * Scheduled every 15 minutes (`JOBS.GraceExpiry`). The clock is the later of the scheduled
 * time and the wall clock, so a late invocation still expires everyone due by now, and a test
 * (or an operator replaying a tick) can inject a clock through the event's `time`.
 */
export const handler = async (event: Partial<ScheduledEvent>, context?: Context) => {
  const scheduled = event.time ? Date.parse(event.time) : Number.NaN;
  const now = new Date(Number.isNaN(scheduled) ? Date.now() : Math.max(scheduled, Date.now()));
  const outcome = await runGraceExpiry({
    now,
    runKey: Number.isNaN(scheduled) ? now.toISOString() : new Date(scheduled).toISOString(),
    ...(context ? { remainingMs: () => context.getRemainingTimeInMillis() } : {}),
  });
  logger.info("grace expiry", { ...outcome });
  return outcome;
};
