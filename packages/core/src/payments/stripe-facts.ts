import { z } from "zod";
import { ValidationError } from "../errors.js";
import {
  type PriceLike,
  type PriceTierMap,
  type PriceTierResolution,
  resolveHighestTier,
} from "./price-tiers.js";

/**
 * Turns a verified Stripe event into one normalised fact, reading only the fields the payment
 * domain needs and tolerating both the current API shapes and older ones.
 *
 * @example
 * const fact = extractStripeFacts(event, { priceTiers: {} });
 * if (fact.kind === "subscription") fact.status; // "active"
 */
export interface StripeFactsConfig {
  priceTiers: PriceTierMap;
}

/**
 * Stripe ids are at most 255 characters (its API reference); a longer one is malformed, and
 * would not fit a DynamoDB key (`EVENT#<id>`) or a lane message either.
 */
const stripeIdSchema = z.string().min(1).max(255);

/** The event envelope; `data.object` is parsed per event type. */
export const stripeEventSchema = z.object({
  id: stripeIdSchema,
  type: z.string().min(1).max(255),
  // Ordering keys pad seconds to 12 digits, so anything beyond is malformed rather than "late".
  created: z.number().int().nonnegative().lt(1e12),
  data: z.object({ object: z.unknown() }),
});
export type StripeEvent = z.infer<typeof stripeEventSchema>;

/** What the state machine needs to order an event. */
export interface EventMeta {
  eventId: string;
  createdSeconds: number;
}

export const SUBSCRIPTION_STATUSES = [
  "trialing", "active", "past_due", "unpaid", "canceled", "paused", "incomplete", "incomplete_expired",
] as const;
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

const SUBSCRIPTION_ACTIONS = {
  "customer.subscription.created": "created",
  "customer.subscription.updated": "updated",
  "customer.subscription.resumed": "resumed",
  "customer.subscription.paused": "paused",
  "customer.subscription.deleted": "deleted",
  "customer.subscription.trial_will_end": "trial_will_end",
} as const;
export type SubscriptionAction = (typeof SUBSCRIPTION_ACTIONS)[keyof typeof SUBSCRIPTION_ACTIONS];

const INVOICE_ACTIONS = {
  "invoice.payment_failed": "payment_failed",
  "invoice.payment_succeeded": "payment_succeeded",
  "invoice.paid": "paid",
} as const;
export type InvoiceAction = (typeof INVOICE_ACTIONS)[keyof typeof INVOICE_ACTIONS];

export type IgnoredReason =
  | "unhandled_type"
  | "no_user_id"
  | "no_customer"
  | "not_a_subscription_invoice"
  | "unknown_status";

export type StripeFact =
  | { kind: "customer_link"; eventType: string; customerId: string; userId: string; via: "checkout_session" | "customer" }
  | {
      kind: "subscription";
      eventType: string;
      action: SubscriptionAction;
      customerId: string;
      userId?: string;
      status: SubscriptionStatus;
      /** `undefined` when the subscription carries no price at all. */
      price?: PriceTierResolution;
      /** Epoch ms. */
      trialEndsAt: number | null;
    }
  | {
      kind: "invoice";
      eventType: string;
      action: InvoiceAction;
      customerId: string;
      subscriptionId: string;
      userId?: string;
      price?: PriceTierResolution;
      /** `billing_reason: subscription_create`: the first payment of a new subscription. */
      firstInvoice: boolean;
      /** A zero-total invoice (trial start, full discount) proves no payment. */
      zeroTotal: boolean;
      /** Epoch ms of Stripe's next scheduled retry of this invoice (`next_payment_attempt`), or null: none scheduled. */
      nextPaymentAttemptAt: number | null;
    }
  | { kind: "ignored"; eventType: string; reason: IgnoredReason };

// --- wire shapes: only what is read; unknown keys are stripped, never kept ---

/** Expandable references arrive as an id or as the expanded object. */
const idRef = z.union([stripeIdSchema, z.object({ id: stripeIdSchema })]).transform((v) =>
  typeof v === "string" ? v : v.id,
);
const metadataSchema = z.record(z.string(), z.unknown()).nullish();
const priceSchema = z.object({
  id: stripeIdSchema,
  lookup_key: z.string().nullish(),
  metadata: metadataSchema,
});
const priceRef = z.union([stripeIdSchema, priceSchema]);
// Stripe metadata is set by our own backend; a user id must still look like one to be trusted.
const userIdSchema = z.string().trim().min(1).max(256).regex(/^[^\s]+$/);

const subscriptionSchema = z.object({
  customer: idRef,
  status: z.string(),
  metadata: metadataSchema,
  trial_end: z.number().int().nullish(),
  items: z.object({ data: z.array(z.object({ price: priceRef.nullish(), plan: priceRef.nullish() })) }).nullish(),
  plan: priceRef.nullish(), // pre-2018 single-plan subscriptions
});

const prorationFlag = z.object({ proration: z.boolean().nullish() }).nullish();
const invoiceLineSchema = z.object({
  amount: z.number().nullish(),
  proration: z.boolean().nullish(), // before 2025-03-31
  price: priceRef.nullish(), // before 2025-03-31
  plan: priceRef.nullish(), // older still
  pricing: z.object({ price_details: z.object({ price: priceRef.nullish() }).nullish() }).nullish(),
  parent: z
    .object({ subscription_item_details: prorationFlag, invoice_item_details: prorationFlag })
    .nullish(),
});
const invoiceSchema = z.object({
  customer: idRef,
  subscription: idRef.nullish(), // before 2025-03-31
  subscription_details: z.object({ metadata: metadataSchema }).nullish(), // 2022-11 .. 2025-03
  parent: z
    .object({ subscription_details: z.object({ subscription: idRef.nullish(), metadata: metadataSchema }).nullish() })
    .nullish(),
  billing_reason: z.string().nullish(),
  total: z.number().nullish(),
  next_payment_attempt: z.number().int().nonnegative().lt(1e12).nullish(),
  lines: z.object({ data: z.array(invoiceLineSchema) }).nullish(),
});

const checkoutSchema = z.object({
  customer: idRef.nullish(),
  client_reference_id: z.string().nullish(),
  metadata: metadataSchema,
});
const customerSchema = z.object({ id: stripeIdSchema, metadata: metadataSchema });

function parse<T extends z.ZodType>(schema: T, value: unknown, what: string): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  // Paths and codes only: messages of a third-party payload must not echo its values into logs.
  const issues = result.error.issues.map((i) => ({ path: i.path.join("."), code: i.code }));
  throw new ValidationError(`Malformed Stripe ${what}`, { issues });
}

function userIdFrom(...candidates: unknown[]): string | undefined {
  for (const candidate of candidates) {
    const parsed = userIdSchema.safeParse(candidate);
    if (parsed.success) return parsed.data;
  }
  return undefined;
}

const withUser = (userId: string | undefined): { userId?: string } => (userId === undefined ? {} : { userId });
const withPrice = (price: PriceTierResolution | undefined): { price?: PriceTierResolution } =>
  price === undefined ? {} : { price };

/** Parses the envelope; throws `ValidationError` when it is not a Stripe event. */
export function parseStripeEvent(input: unknown): StripeEvent {
  return parse(stripeEventSchema, input, "event");
}

/** The ordering facts of an event: its id and its `created` second. */
export function eventMetaOf(event: StripeEvent): EventMeta {
  return { eventId: event.id, createdSeconds: event.created };
}

/**
 * Normalises one Stripe event. Handled types whose object is malformed throw `ValidationError`;
 * unhandled types give `{ kind: "ignored" }`.
 */
export function extractStripeFacts(input: unknown, config: StripeFactsConfig): StripeFact {
  const event = parseStripeEvent(input);
  const { type: eventType, data } = event;

  if (eventType === "checkout.session.completed") {
    const session = parse(checkoutSchema, data.object, "checkout session");
    const userId = userIdFrom(session.client_reference_id, session.metadata?.["userId"]);
    if (!session.customer) return { kind: "ignored", eventType, reason: "no_customer" };
    if (!userId) return { kind: "ignored", eventType, reason: "no_user_id" };
    return { kind: "customer_link", eventType, customerId: session.customer, userId, via: "checkout_session" };
  }

  if (eventType === "customer.created" || eventType === "customer.updated") {
    const customer = parse(customerSchema, data.object, "customer");
    const userId = userIdFrom(customer.metadata?.["userId"]);
    if (!userId) return { kind: "ignored", eventType, reason: "no_user_id" };
    return { kind: "customer_link", eventType, customerId: customer.id, userId, via: "customer" };
  }

  if (Object.hasOwn(SUBSCRIPTION_ACTIONS, eventType)) {
    const action = SUBSCRIPTION_ACTIONS[eventType as keyof typeof SUBSCRIPTION_ACTIONS];
    const sub = parse(subscriptionSchema, data.object, "subscription");
    const status = (SUBSCRIPTION_STATUSES as readonly string[]).includes(sub.status)
      ? (sub.status as SubscriptionStatus)
      : undefined;
    // A status Stripe adds later must not be guessed at: the event is recorded and skipped.
    if (!status) return { kind: "ignored", eventType, reason: "unknown_status" };
    const prices = (sub.items?.data ?? []).flatMap((item) => {
      const price = item.price ?? item.plan; // items carried `plan` before prices existed
      return price ? [price] : [];
    });
    if (prices.length === 0 && sub.plan) prices.push(sub.plan);
    return {
      kind: "subscription",
      eventType,
      action,
      customerId: sub.customer,
      ...withUser(userIdFrom(sub.metadata?.["userId"])),
      status,
      ...withPrice(resolveHighestTier(prices, config.priceTiers)),
      trialEndsAt: sub.trial_end == null ? null : sub.trial_end * 1000,
    };
  }

  if (Object.hasOwn(INVOICE_ACTIONS, eventType)) {
    const action = INVOICE_ACTIONS[eventType as keyof typeof INVOICE_ACTIONS];
    const invoice = parse(invoiceSchema, data.object, "invoice");
    const details = invoice.parent?.subscription_details;
    const subscriptionId = details?.subscription ?? invoice.subscription;
    // A one-off invoice says nothing about the subscription that pays for a tier.
    if (!subscriptionId) return { kind: "ignored", eventType, reason: "not_a_subscription_invoice" };
    return {
      kind: "invoice",
      eventType,
      action,
      customerId: invoice.customer,
      subscriptionId,
      ...withUser(userIdFrom(details?.metadata?.["userId"], invoice.subscription_details?.metadata?.["userId"])),
      ...withPrice(resolveHighestTier(invoiceLinePrices(invoice.lines?.data ?? []), config.priceTiers)),
      firstInvoice: invoice.billing_reason === "subscription_create",
      zeroTotal: invoice.total === 0,
      nextPaymentAttemptAt: invoice.next_payment_attempt == null ? null : invoice.next_payment_attempt * 1000,
    };
  }

  return { kind: "ignored", eventType, reason: "unhandled_type" };
}

type InvoiceLine = z.infer<typeof invoiceLineSchema>;

/**
 * The prices an invoice charges for. Credit lines (negative amounts, e.g. unused time on the
 * old price after a downgrade) are dropped, and proration lines are used only when nothing
 * else is left, so a downgrade invoice does not resolve to the tier being left.
 */
function invoiceLinePrices(lines: readonly InvoiceLine[]): (PriceLike | string)[] {
  const charged = lines.filter((line) => line.amount == null || line.amount >= 0);
  const isProration = (line: InvoiceLine): boolean =>
    Boolean(
      line.proration ??
        line.parent?.subscription_item_details?.proration ??
        line.parent?.invoice_item_details?.proration,
    );
  const regular = charged.filter((line) => !isProration(line));
  const chosen = regular.length > 0 ? regular : charged;
  return chosen.flatMap((line) => {
    const price = line.pricing?.price_details?.price ?? line.price ?? line.plan;
    return price ? [price] : [];
  });
}
