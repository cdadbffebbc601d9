/**
 * The audit-chain verification job (SPEC.md §5, §6): `verifyAuditTrail` over the whole
 * trail — days already sealed are checked against their seal, the others read entry by
 * entry, and a day over and intact is sealed. Every run publishes `AuditChainsBroken`
 * (0 when intact, so an alarm can also treat a missing value as a missed run), keeps a run
 * record and an audit entry (`job.audit-verify`, `intact`, or `broken` by actor `system`);
 * a broken trail is logged as an error naming each broken chain, seq and reason — codes
 * and chain ids only. Run key: the scheduled time.
 *
 * @example
 * const outcome = await runAuditVerify({ now: new Date(event.time), runKey: event.time, audit });
 */
import type { BrokenChain } from "@paysync/core/audit/report";
import { verifyAuditTrail, type TrailVerification } from "../audit/verification.js";
import { logger } from "../base/observability.js";
import type { AuditLog } from "../store/audit-log.js";
import { recordJobRun } from "./job-report.js";
import { runJob, type JobOutcome } from "./job-runner.js";

export const AUDIT_VERIFY_JOB = "audit-verify";

export interface AuditVerifyOptions {
  now: Date;
  runKey: string;
  remainingMs?: () => number;
  /** Re-verify every entry of every day, seals notwithstanding. */
  full?: boolean;
  audit: AuditLog;
}

export interface AuditVerifySummary {
  intact: boolean;
  days: number;
  chains: number;
  entries: number;
  broken: BrokenChain[];
  sealedNow: string[];
}

export type AuditVerifyOutcome = JobOutcome & { verification?: AuditVerifySummary };

export async function runAuditVerify(options: AuditVerifyOptions): Promise<AuditVerifyOutcome> {
  let verification: AuditVerifySummary | undefined;
  const outcome = await runJob<never>({
    name: AUDIT_VERIFY_JOB,
    runKey: options.runKey,
    // The lease runs on the wall clock: how long a run may hold it is real time, whatever the job's clock says.
    ...(options.remainingMs ? { remainingMs: options.remainingMs } : {}),
    // One page: verifyAuditTrail walks the trail itself, cheaply for sealed days.
    page: async () => {
      const result = summarise(await verifyAuditTrail(options.audit, { now: options.now, ...(options.full ? { full: true } : {}) }));
      if (!result.intact) logger.error("audit chain broken", { broken: result.broken, days: result.days, chains: result.chains });
      await recordJobRun({
        job: AUDIT_VERIFY_JOB, runKey: options.runKey, now: options.now,
        outcome: result.intact ? "intact" : "broken",
        actor: result.intact ? "job" : "system",
        counts: { days: result.days, chains: result.chains, entries: result.entries, broken: result.broken.length, sealed: result.sealedNow.length },
        metrics: { AuditChainsBroken: "broken" },
      }, options.audit);
      verification = result;
      return { processed: result.entries, next: null };
    },
  });
  return verification ? { ...outcome, verification } : outcome;
}

function summarise(result: TrailVerification): AuditVerifySummary {
  return {
    intact: result.intact, days: result.days.length, chains: result.chains, entries: result.entries,
    broken: result.broken, sealedNow: result.sealedNow,
  };
}
