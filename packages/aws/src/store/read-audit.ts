/**
 * Audit entries of reads of a user's data (SPEC.md §5: pull and each bootstrap page, crisis
 * resources, entitlements, handoff delivery), off the read's critical path.
 *
 * `record` starts the append at once and never rejects: a failed append is logged by the audit
 * log itself (`auditEntryNotWritten`, `AuditAppendFailed`) and swallowed here, so a read still
 * answers when the audit table is down. A Lambda handler awaits the returned promise before
 * it returns — an invocation's unfinished promises freeze with it and may never run — but only
 * once its own reads are done, so the read pays one `PutItem` and never a failure. `settled`
 * awaits everything in flight (a process serving many requests, and tests).
 *
 * @example
 * await wiring.readAudit().record({ actor: "device", action: "read.pull", userKey, deviceKey, count: 12, bytes: 3400, outcome: "ok" });
 */
import type { AuditRecord } from "@paysync/core/audit/chain";
import type { AuditSink } from "@paysync/core/ports";
import { errorName, logger } from "../base/observability.js";

export class ReadAudit {
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly sink: AuditSink) {}

  /** Starts one entry's append; the promise resolves once it is written or logged as not written. */
  record(entry: AuditRecord): Promise<void> {
    const append = this.sink.append(entry).catch((error: unknown) => {
      logger.error("read audit entry not written", { action: entry.action, errorName: errorName(error) });
    }).finally(() => this.pending.delete(append));
    this.pending.add(append);
    return append;
  }

  /** Resolves once every append started so far has finished (written or logged as not written). */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }
}
