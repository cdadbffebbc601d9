import { EntitlementsResponseSchema } from "@paysync/core/api";
import { entitlementsFor } from "@paysync/core/payments/entitlements";
import { callerId, httpHandler, json } from "@paysync/aws/base/http";
import { userKeyFor } from "@paysync/aws/crypto/pseudonyms";
import { wiring } from "@paysync/aws/wiring";

/**
 * `GET /v1/me/entitlements`: tier, status, grace end, feature flags, the full policy,
 * `crisisAccess: true` and `paymentCurrent`. A user Stripe never heard of is `free`; a grace
 * period past its end reads as `free` even before the expiry job has run.
 */
export const handler = httpHandler(async (event) => {
  const userKey = userKeyFor(callerId(event));
  const stored = await wiring.paymentState().get(userKey);
  await wiring.readAudit().record({ actor: "device", action: "read.entitlements", userKey, outcome: "ok", count: stored === undefined ? 0 : 1 });
  return json(200, EntitlementsResponseSchema.parse(entitlementsFor(stored?.state, Date.now())));
});
