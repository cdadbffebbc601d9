import {
  PAID_TIERS,
  resolvePriceTier,
  SUBSCRIPTION_STATUSES,
  type EventMeta,
  type InvoiceAction,
  type PaidTier,
  type PriceTierMap,
  type PriceTierResolution,
  type StripeFact,
  type SubscriptionAction,
} from "@paysync/core/payments";
import { z } from "zod";

/**
 * A verified Stripe event on its way through the `Webhooks` lane, normalised and free of
 * personal data: the customer and user appear only as HMAC pseudonyms (`c_…`, `u_…`); no
 * email, name, amount, card or Stripe customer/subscription id travels. The event id stays:
 * it is the dedup id and the reducer's tie-break, and names no person.
 *
 * Prices are resolved in two steps. The webhook function resolves what the event itself says
 * (`metadata.tier`, `lookup_key`); the configured price map (`PRICE_TIERS`) is bound to the
 * worker only, so the message lists the price ids that only the map could resolve
 * (`mapPriceIds`), and the worker finishes the resolution (`coreFactOf`). The result is
 * exactly `resolveHighestTier` with the map.
 *
 * @example
 * const message = WebhookMessageSchema.parse(JSON.parse(record.body));
 * const fact = coreFactOf(message, priceTiers);
 */
const SUBSCRIPTION_ACTIONS = [
  "created", "updated", "resumed", "paused", "deleted", "trial_will_end",
] as const satisfies readonly SubscriptionAction[];
const INVOICE_ACTIONS = ["payment_failed", "payment_succeeded", "paid"] as const satisfies readonly InvoiceAction[];

const PriceResolutionSchema = z.object({
  tier: z.enum(PAID_TIERS).optional(),
  priceId: z.string().min(1),
  source: z.enum(["metadata", "lookup_key", "price_map"]).optional(),
  configurationError: z.literal("unknown_price").optional(),
});

const KeySchema = z.string().regex(/^[uc]_[0-9a-f]{32}$/, "must be a pseudonymous key");

export const WebhookFactSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("customer_link"), via: z.enum(["checkout_session", "customer"]), userKey: KeySchema }),
  z.object({
    kind: z.literal("subscription"),
    action: z.enum(SUBSCRIPTION_ACTIONS),
    userKey: KeySchema.optional(),
    status: z.enum(SUBSCRIPTION_STATUSES),
    price: PriceResolutionSchema.optional(),
    trialEndsAt: z.number().int().nullable(),
  }),
  z.object({
    kind: z.literal("invoice"),
    action: z.enum(INVOICE_ACTIONS),
    userKey: KeySchema.optional(),
    price: PriceResolutionSchema.optional(),
    firstInvoice: z.boolean(),
    zeroTotal: z.boolean(),
    /** Absent in messages enqueued before it was carried: no retry known. */
    nextPaymentAttemptAt: z.number().int().nullable().optional(),
  }),
]);
export type WebhookFact = z.infer<typeof WebhookFactSchema>;

export const WebhookMessageSchema = z.object({
  v: z.literal(1),
  eventId: z.string().min(1).max(128),
  eventType: z.string().min(1),
  createdSeconds: z.number().int().nonnegative(),
  customerKey: KeySchema,
  fact: WebhookFactSchema,
  /** Price ids neither `metadata.tier` nor `lookup_key` resolved: the worker asks the price map. */
  mapPriceIds: z.array(z.string().min(1)),
  enqueuedAtMs: z.number().int(),
});
export type WebhookMessage = z.infer<typeof WebhookMessageSchema>;

/**
 * A price map that knows nothing and remembers which price ids were looked up in it. Passed to
 * `extractStripeFacts`, it yields the resolution the event alone allows plus the ids that only
 * the configured map can decide (the extractor asks the map last, through `Object.hasOwn`).
 */
export function recordingPriceMap(): { map: PriceTierMap; askedFor: () => string[] } {
  const asked = new Set<string>();
  const map = new Proxy({} as PriceTierMap, {
    getOwnPropertyDescriptor(_target, property) {
      if (typeof property === "string") asked.add(property);
      return undefined;
    },
  });
  return { map, askedFor: () => [...asked] };
}

type PseudonymKeys = { customerKey: string; userKeyOf: (userId: string) => string };
type LinkableFact = Exclude<StripeFact, { kind: "ignored" }>;

/** The lane message for a fact: ids replaced by pseudonyms, Stripe ids other than the event's dropped. */
export function webhookMessageOf(
  fact: LinkableFact,
  meta: EventMeta & { eventType: string },
  keys: PseudonymKeys,
  mapPriceIds: string[],
  nowMs: number,
): WebhookMessage {
  const userKey = fact.userId === undefined ? {} : { userKey: keys.userKeyOf(fact.userId) };
  const price = fact.kind !== "customer_link" && fact.price ? { price: fact.price } : {};
  let body: WebhookFact;
  if (fact.kind === "customer_link") body = { kind: "customer_link", via: fact.via, userKey: keys.userKeyOf(fact.userId) };
  else if (fact.kind === "subscription") {
    body = { kind: "subscription", action: fact.action, ...userKey, status: fact.status, ...price, trialEndsAt: fact.trialEndsAt };
  } else {
    body = {
      kind: "invoice", action: fact.action, ...userKey, ...price, firstInvoice: fact.firstInvoice, zeroTotal: fact.zeroTotal,
      nextPaymentAttemptAt: fact.nextPaymentAttemptAt,
    };
  }
  return {
    v: 1,
    eventId: meta.eventId,
    eventType: meta.eventType,
    createdSeconds: meta.createdSeconds,
    customerKey: keys.customerKey,
    fact: body,
    mapPriceIds,
    enqueuedAtMs: nowMs,
  };
}

const rank = (tier: PaidTier): number => PAID_TIERS.indexOf(tier);

/** The event's own resolution joined with the price map's answers: the highest known tier wins. */
export function resolveWithPriceMap(
  own: PriceTierResolution | undefined,
  mapPriceIds: readonly string[],
  priceTiers: PriceTierMap,
): PriceTierResolution | undefined {
  let best = own?.tier === undefined ? undefined : own;
  for (const priceId of mapPriceIds) {
    const resolution = resolvePriceTier(priceId, priceTiers);
    if (resolution.tier !== undefined && (best?.tier === undefined || rank(resolution.tier) > rank(best.tier))) {
      best = resolution;
    }
  }
  return best ?? own;
}

/**
 * The core fact the reducer applies. Its `customerId`/`userId` carry the pseudonyms (the reducer
 * never reads them), and an invoice's subscription id, which the reducer does not read either,
 * is not carried at all.
 */
export function coreFactOf(message: WebhookMessage, priceTiers: PriceTierMap): StripeFact {
  const { fact, customerKey, eventType } = message;
  if (fact.kind === "customer_link") {
    return { kind: "customer_link", eventType, customerId: customerKey, userId: fact.userKey, via: fact.via };
  }
  const own = fact.price === undefined ? undefined : { ...fact.price, tier: fact.price.tier };
  const price = resolveWithPriceMap(own, message.mapPriceIds, priceTiers);
  const common = {
    eventType,
    customerId: customerKey,
    ...(fact.userKey === undefined ? {} : { userId: fact.userKey }),
    ...(price === undefined ? {} : { price }),
  };
  if (fact.kind === "subscription") {
    return { kind: "subscription", ...common, action: fact.action, status: fact.status, trialEndsAt: fact.trialEndsAt };
  }
  return {
    kind: "invoice", ...common, action: fact.action, subscriptionId: "", firstInvoice: fact.firstInvoice, zeroTotal: fact.zeroTotal,
    nextPaymentAttemptAt: fact.nextPaymentAttemptAt ?? null,
  };
}

export const eventMetaOfMessage = (message: WebhookMessage): EventMeta => ({
  eventId: message.eventId,
  createdSeconds: message.createdSeconds,
});
