import type { AuditSink } from "@paysync/core/ports";
import type { PaymentApplier } from "../payments/payment-applier.js";
import type { PaymentStateRepository } from "../store/payment-state.js";
import { runJob, type JobOutcome } from "./job-runner.js";

export interface GraceExpiryOptions {
  /** The job's clock: users whose grace ended at or before it become `free`. */
  now: Date;
  /** What this run covers; the scheduled time, so a retried invocation of the same tick does nothing twice. */
  runKey: string;
  remainingMs?: () => number;
  pageSize?: number;
  payments: PaymentApplier;
  paymentState: PaymentStateRepository;
  audit: AuditSink;
}

export type GraceExpiryOutcome = JobOutcome & { expired: number };

type Cursor = Record<string, unknown>;

/**
 * The grace-expiry job: pages through the `GRACE` index partition (users in a grace period,
 * sorted by its end) up to `now`, and moves each due user to `free` with the same device
 * changes as any tier change. Runs under `runJob` (lease, checkpoint per page). Idempotent:
 * an expired user leaves the index, and expiring again finds nothing to change.
 *
 * @example
 * await runGraceExpiry({ now: new Date(), runKey: event.time, payments, paymentState, audit });
 */
export async function runGraceExpiry(options: GraceExpiryOptions): Promise<GraceExpiryOutcome> {
  const { payments: applier, paymentState: repository, audit } = options;
  const pageSize = options.pageSize ?? 25;
  let expired = 0;
  const outcome = await runJob<Cursor>({
    name: "grace-expiry",
    runKey: options.runKey,
    now: options.now,
    ...(options.remainingMs ? { remainingMs: options.remainingMs } : {}),
    page: async (cursor) => {
      const { userKeys, next } = await repository.dueGracePage(options.now, pageSize, cursor);
      const results = await Promise.all(userKeys.map(async (userKey) => {
        const result = await applier.expireGrace(userKey, options.now);
        if (result.changed) {
          await audit.append({ actor: "job", action: "payment.grace_expired", userKey, entityType: "payment_state", priority: 7, outcome: "applied" });
        }
        return result;
      }));
      expired += results.filter((result) => result.changed).length;
      return { processed: userKeys.length, next };
    },
  });
  return { ...outcome, expired };
}
