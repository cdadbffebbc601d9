import { SqsFifoPartialProcessorAsync, processPartialResponse } from "@aws-lambda-powertools/batch";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import type { Context, SQSEvent, SQSRecord } from "aws-lambda";
import { appendAudit } from "@paysync/aws/audit/audit-log";
import { logger, metrics } from "@paysync/aws/observability";
import { configuredPriceTiers } from "@paysync/aws/payments/price-tiers-config";
import { WebhookMessageSchema } from "@paysync/aws/payments/webhook-message";
import { WebhookProcessor } from "@paysync/aws/payments/webhook-processor";

const processor = new WebhookProcessor(configuredPriceTiers);

/** Audit action codes allow `[A-Za-z0-9_.:-]{1,64}`; Stripe's event types fit, anything else is `other`. */
const auditAction = (eventType: string): string => {
  const action = `stripe.${eventType}`;
  return /^[A-Za-z0-9_.:-]{1,64}$/.test(action) ? action : "stripe.other";
};

async function processRecord(record: SQSRecord): Promise<void> {
  const message = WebhookMessageSchema.parse(JSON.parse(record.body));
  const result = await processor.process(message);
  const latencyMs = Math.max(0, Date.now() - message.enqueuedAtMs);
  await appendAudit({
    actor: "stripe", action: auditAction(message.eventType), entityType: "payment_state", priority: 7,
    ...(result.userKey ? { userKey: result.userKey } : {}), outcome: result.outcome, latencyMs,
  });
  metrics.addMetric("WebhookApplyLatency", MetricUnit.Milliseconds, latencyMs);
  metrics.publishStoredMetrics();
  logger.info("stripe event processed", {
    eventType: message.eventType, outcome: result.outcome, changed: result.changed, released: result.released, latencyMs,
  });
}

/**
 * The `Webhooks` lane's consumer. Messages are grouped by Stripe customer; a failed message
 * fails the rest of its group in the batch (so one customer's events never apply out of
 * order), other customers go on, and the lane's redrive sends a message that keeps failing
 * to the DLQ.
 */
export const handler = async (event: SQSEvent, context: Context) => {
  const batch = new SqsFifoPartialProcessorAsync();
  return processPartialResponse(event, processRecord, batch, { context, skipGroupOnError: true });
};
