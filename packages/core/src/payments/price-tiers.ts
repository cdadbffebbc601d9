import { z } from "zod";

/**
 * The tiers a Stripe price can buy, and how a price is mapped to one (SPEC.md section 3).
 *
 * @example
 * resolvePriceTier({ id: "price_1", lookup_key: "premium_monthly" }, {});
 * // { tier: "premium", priceId: "price_1", source: "lookup_key" }
 */
export const PAID_TIERS = ["trial", "basic", "premium"] as const;
export type PaidTier = (typeof PAID_TIERS)[number];

/** The configured map of Stripe price id to tier (`PAYSYNC_PRICE_TIERS`), validated once at cold start. */
export const priceTiersSchema = z.record(z.string().min(1), z.enum(PAID_TIERS));
export type PriceTierMap = z.infer<typeof priceTiersSchema>;

/** The parts of a Stripe price (or legacy plan) object that decide its tier. */
export interface PriceLike {
  id: string;
  lookup_key?: string | null | undefined;
  metadata?: Record<string, unknown> | null | undefined;
}

export interface PriceTierResolution {
  /** `undefined` when the price is unknown: the caller keeps the user's tier. */
  tier: PaidTier | undefined;
  /** The price id, so a configuration error can be logged; a price id is not PII. */
  priceId: string;
  source?: "metadata" | "lookup_key" | "price_map";
  configurationError?: "unknown_price";
}

const RANK: Record<PaidTier, number> = { trial: 0, basic: 1, premium: 2 };

function asPaidTier(value: unknown): PaidTier | undefined {
  if (typeof value !== "string") return undefined;
  const normalised = value.trim().toLowerCase();
  return (PAID_TIERS as readonly string[]).includes(normalised) ? (normalised as PaidTier) : undefined;
}

/**
 * Maps a price to a tier: `metadata.tier`, else a `lookup_key` starting with `basic`/`premium`,
 * else the configured map. A price given only by id (unexpanded, as in current invoice lines)
 * can only be resolved by the map.
 */
export function resolvePriceTier(price: PriceLike | string, priceTiers: PriceTierMap): PriceTierResolution {
  const p: PriceLike = typeof price === "string" ? { id: price } : price;
  // An invalid metadata value (e.g. "gold") falls through to the next rule rather than
  // failing: the other rules may still know the price.
  const fromMetadata = asPaidTier(p.metadata?.["tier"]);
  if (fromMetadata) return { tier: fromMetadata, priceId: p.id, source: "metadata" };

  const lookupKey = p.lookup_key?.trim().toLowerCase() ?? "";
  if (lookupKey.startsWith("premium")) return { tier: "premium", priceId: p.id, source: "lookup_key" };
  if (lookupKey.startsWith("basic")) return { tier: "basic", priceId: p.id, source: "lookup_key" };

  const fromMap = Object.hasOwn(priceTiers, p.id) ? priceTiers[p.id] : undefined;
  if (fromMap) return { tier: fromMap, priceId: p.id, source: "price_map" };

  return { tier: undefined, priceId: p.id, configurationError: "unknown_price" };
}

/**
 * Resolves several prices (subscription items, invoice lines) to one: the highest resolved tier
 * wins, because a customer holding a premium item is entitled to premium. When none resolves,
 * the first unknown price is reported; `undefined` means there was no price at all.
 */
export function resolveHighestTier(
  prices: readonly (PriceLike | string)[],
  priceTiers: PriceTierMap,
): PriceTierResolution | undefined {
  let best: PriceTierResolution | undefined;
  let firstUnknown: PriceTierResolution | undefined;
  for (const price of prices) {
    const resolution = resolvePriceTier(price, priceTiers);
    if (resolution.tier === undefined) {
      firstUnknown ??= resolution;
    } else if (best?.tier === undefined || RANK[resolution.tier] > RANK[best.tier]) {
      best = resolution;
    }
  }
  return best ?? firstUnknown;
}
