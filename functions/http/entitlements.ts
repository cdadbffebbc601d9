import { EntitlementsResponseSchema } from "@paysync/core/api";
import { entitlementsETag, entitlementsFor, etagMatches } from "@paysync/core/payments/entitlements";
import { callerId, header, httpHandler, json } from "@paysync/aws/base/http";
import { userKeyFor } from "@paysync/aws/crypto/pseudonyms";
import { wiring } from "@paysync/aws/wiring";

/**
 * Per user, so never in a shared cache; `no-cache` makes a device revalidate with the ETag
 * rather than trust a stored copy past `refreshAfter` without asking.
 */
const CACHE_CONTROL = "private, no-cache";

/**
 * `GET /v1/me/entitlements`: tier, status, grace end, feature flags, the full policy,
 * `crisisAccess: true`, `paymentCurrent`, the offline contract (SPEC §3.1: `refreshAfter`,
 * `validUntil`, `billingIssueDetectedAt`, an ETag and `304` for an unchanged state) and
 * `signedEntitlements`, the same claims as an ES256 JWS. A user Stripe never heard of is
 * `free`; a grace period past its end reads as `free` even before the expiry job has run.
 * A `304` costs no signature; a signing fault answers unsigned, without an ETag.
 */
export const handler = httpHandler(async (event) => {
  const userKey = userKeyFor(callerId(event));
  const stored = await wiring.paymentState().get(userKey);
  await wiring.readAudit().record({ actor: "device", action: "read.entitlements", userKey, outcome: "ok", count: stored === undefined ? 0 : 1 });
  const now = Date.now();
  const claims = EntitlementsResponseSchema.parse(entitlementsFor(stored?.state, now));
  const etag = entitlementsETag(claims);
  if (etagMatches(header(event, "if-none-match"), etag)) return { statusCode: 304, headers: { etag, "cache-control": CACHE_CONTROL } };
  const { body, signed } = await wiring.entitlementSigning().answer(userKey, etag, claims, now);
  return signed ? json(200, body, { etag, "cache-control": CACHE_CONTROL }) : json(200, body);
});
