import { MetricUnit } from "@aws-lambda-powertools/metrics";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { logger, metrics } from "@paysync/aws/base/observability";
import { fifoWorker } from "@paysync/aws/base/worker";
import type { AuditLog } from "@paysync/aws/store/audit-log";
import { wiring } from "@paysync/aws/wiring";

/**
 * The `Audit` lane's consumer: appends the audit entries kept while the Audit table was down,
 * marked late (`AuditLog.appendKept`), once each however often a message is delivered. A
 * message group is one original chain: an entry that cannot be appended yet (the table is
 * still down) fails the rest of its group in the batch, so a chain's entries go in in order.
 *
 * @example
 * export const handler = createAuditDrain(wiring.audit());
 */
export function createAuditDrain(audit: Pick<AuditLog, "appendKept">) {
  return fifoWorker(async (record: SQSRecord) => {
    const outcome = await audit.appendKept(JSON.parse(record.body));
    metrics.addMetric(outcome === "appended" ? "AuditLateAppended" : "AuditLateDuplicate", MetricUnit.Count, 1);
    logger.info("kept audit entry drained", { outcome });
  });
}

let drain: ReturnType<typeof createAuditDrain> | undefined;

export const handler = (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  drain ??= createAuditDrain(wiring.audit());
  return drain(event, context);
};
