import { priceTiersSchema, type PriceTierMap } from "@paysync/core/payments";
import { config } from "../base/config.js";

let priceTiers: PriceTierMap | undefined;

/**
 * The configured Stripe price → tier map (`PRICE_TIERS`, JSON), validated once per cold start.
 * A malformed map fails every message loudly (and lands them in the DLQ) rather than
 * silently mapping nothing.
 */
export function configuredPriceTiers(): PriceTierMap {
  priceTiers ??= priceTiersSchema.parse(JSON.parse(config.parameter("PRICE_TIERS")));
  return priceTiers;
}
