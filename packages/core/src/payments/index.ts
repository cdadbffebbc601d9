/**
 * The payment domain: Stripe events in, a convergent per-user payment state out. Pure: no AWS,
 * no I/O.
 */
export {
  PAID_TIERS,
  priceTiersSchema,
  resolveHighestTier,
  resolvePriceTier,
  type PaidTier,
  type PriceLike,
  type PriceTierMap,
  type PriceTierResolution,
} from "./price-tiers.js";
export {
  eventMetaOf,
  extractStripeFacts,
  parseStripeEvent,
  stripeEventSchema,
  SUBSCRIPTION_STATUSES,
  type EventMeta,
  type IgnoredReason,
  type InvoiceAction,
  type StripeEvent,
  type StripeFact,
  type StripeFactsConfig,
  type SubscriptionAction,
  type SubscriptionStatus,
} from "./stripe-facts.js";
export {
  DAY_MS,
  earlierFailureCount,
  FAILURE_LOOKBACK_MS,
  GRACE_BASE_DAYS,
  graceDurationMs,
  graceEndsAtFor,
  MIN_GRACE_MS,
  SHORTENING_PER_FAILURE,
} from "./grace.js";
export {
  effectiveTier,
  initialPaymentState,
  orderKeyFor,
  PAYMENT_STATUSES,
  paymentStateEntity,
  paymentStateSchema,
  STATUS_PRECEDENCE,
  type PaymentState,
  type PaymentStatus,
} from "./payment-state.js";
export { applyFact, expireGrace, type ApplyOutcome, type ApplyResult, type PaymentNotice } from "./state-machine.js";
