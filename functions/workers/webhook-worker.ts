import { MetricUnit } from "@aws-lambda-powertools/metrics";
import type { SQSRecord } from "aws-lambda";
import { logger, metrics } from "@paysync/aws/base/observability";
import { fifoWorker } from "@paysync/aws/base/worker";
import { WebhookMessageSchema } from "@paysync/aws/payments/webhook-message";
import { wiring } from "@paysync/aws/wiring";

/** Audit action codes allow `[A-Za-z0-9_.:-]{1,64}`; Stripe's event types fit, anything else is `other`. */
const auditAction = (eventType: string): string => {
  const action = `stripe.${eventType}`;
  return /^[A-Za-z0-9_.:-]{1,64}$/.test(action) ? action : "stripe.other";
};

/**
 * The `Webhooks` lane's consumer. Messages are grouped by Stripe customer; a failed message
 * fails the rest of its group in the batch (so one customer's events never apply out of
 * order), other customers go on, and the lane's redrive sends a message that keeps failing
 * to the DLQ.
 */
export const handler = fifoWorker(async (record: SQSRecord) => {
  const message = WebhookMessageSchema.parse(JSON.parse(record.body));
  const result = await wiring.webhookProcessor().process(message);
  const latencyMs = Math.max(0, Date.now() - message.enqueuedAtMs);
  await wiring.audit().append({
    actor: "stripe", action: auditAction(message.eventType), entityType: "payment_state", priority: 7,
    ...(result.userKey ? { userKey: result.userKey } : {}), outcome: result.outcome, latencyMs,
  });
  metrics.addMetric("WebhookApplyLatency", MetricUnit.Milliseconds, latencyMs);
  logger.info("stripe event processed", {
    eventType: message.eventType, outcome: result.outcome, changed: result.changed, released: result.released, latencyMs,
  });
});
