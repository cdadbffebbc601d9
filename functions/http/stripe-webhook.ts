import { PaysyncError } from "@paysync/core/errors";
import { errorResponse, header, httpHandler, json, rawBody } from "@paysync/aws/base/http";
import { logger } from "@paysync/aws/base/observability";
import { wiring } from "@paysync/aws/wiring";

/**
 * `POST /webhooks/stripe` (no JWT: the Stripe signature is the authentication). Answers within
 * Stripe's timeout: verify, record, enqueue, 200. A 400 stores nothing; a 5xx makes Stripe retry.
 * Every outcome is audited (actor `stripe`, codes only).
 */
export const handler = httpHandler(async (event) => {
  const started = performance.now();
  const audit = wiring.audit();
  try {
    const result = await wiring.webhookIntake().receive(rawBody(event), header(event, "stripe-signature"));
    const latencyMs = performance.now() - started;
    await audit.append({ actor: "stripe", action: "stripe.webhook", entityType: "payment_state", outcome: result.outcome, latencyMs });
    logger.info("stripe webhook", { outcome: result.outcome, eventType: result.eventType, latencyMs });
    return json(200, { received: true, duplicate: result.outcome === "duplicate" });
  } catch (error) {
    if (error instanceof PaysyncError && error.code === "validation_error") {
      const reason = (error.details as { reason?: string } | undefined)?.reason ?? "malformed_event";
      // The rejection is answered whatever happens to its audit entry (the audit log logs a failure itself).
      await audit.append({ actor: "stripe", action: "stripe.webhook", outcome: `rejected_${reason}`, latencyMs: performance.now() - started }).catch(() => undefined);
      logger.warn("stripe webhook rejected", { reason });
    }
    return errorResponse(error);
  }
});
