import { fixture, type StripeObject } from "./stripe-fixtures.js";

/**
 * Stripe webhook events built from real object shapes (`stripe-fixtures.ts`: the shared
 * fixtures, or the built-in copy) with only ids, status, metadata, prices and times
 * overridden. Used by the simulator CLI (`npx paysync stripe …`) and, through
 * `test/helpers/stripe-factories.ts`, by the unit and integration tests.
 *
 * @example
 * const event = subscriptionEvent({
 *   type: "customer.subscription.created", status: "active", customer: "cus_1",
 *   priceLookupKey: "premium_monthly", created: 1_750_000_000,
 * });
 */
export { fixture, fixtureSource, type StripeObject } from "./stripe-fixtures.js";

export interface StripeEventObject {
  id: string;
  object: "event";
  type: string;
  created: number;
  api_version: string | null;
  livemode: boolean;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  data: { object: StripeObject };
}

/** API versions whose shapes the factories produce. */
export const CURRENT_API_VERSION = "2025-03-31.basil";
export const LEGACY_API_VERSION = "2024-06-20";

type StripeObjectObserver = (object: StripeObject) => void;
const observers: StripeObjectObserver[] = [];
/** Calls `observer` with the object of every event built (the tests record the PII in it). */
export function observeStripeObjects(observer: StripeObjectObserver): void {
  observers.push(observer);
}

let sequence = 0;
/** Unique, deterministic-per-run ids (`evt_test000001`, …). */
export function testId(prefix: string): string {
  sequence += 1;
  return `${prefix}_test${String(sequence).padStart(6, "0")}`;
}

/** Wraps an object in the envelope of `fixtures/stripe/event.json`. */
export function stripeEvent(
  type: string,
  object: StripeObject,
  options: { id?: string; created: number; apiVersion?: string | null },
): StripeEventObject {
  const envelope = fixture("event") as unknown as StripeEventObject;
  for (const observe of observers) observe(object);
  return {
    ...envelope,
    id: options.id ?? testId("evt"),
    type,
    created: options.created,
    api_version: options.apiVersion === undefined ? CURRENT_API_VERSION : options.apiVersion,
    livemode: false,
    data: { object },
  };
}

export interface PriceOptions {
  priceId?: string;
  priceLookupKey?: string | null;
  priceMetadataTier?: string;
}

/** A full price object from `price.json`. */
export function priceObject(options: PriceOptions = {}): StripeObject {
  const price = fixture("price");
  price["id"] = options.priceId ?? "price_test_default";
  price["lookup_key"] = options.priceLookupKey ?? null;
  price["metadata"] = options.priceMetadataTier === undefined ? {} : { tier: options.priceMetadataTier };
  return price;
}

const withUserId = (userId: string | undefined): StripeObject => (userId === undefined ? {} : { userId });

export type SubscriptionEventType =
  | "customer.subscription.created"
  | "customer.subscription.updated"
  | "customer.subscription.resumed"
  | "customer.subscription.paused"
  | "customer.subscription.deleted"
  | "customer.subscription.trial_will_end";

export interface SubscriptionEventOptions extends PriceOptions {
  type: SubscriptionEventType;
  status: string;
  customer: string;
  created: number;
  userId?: string;
  subscriptionId?: string;
  /** Epoch seconds; defaults to 14 days after `created` while trialing, else `null`. */
  trialEnd?: number | null;
  id?: string;
}

export function subscriptionEvent(options: SubscriptionEventOptions): StripeEventObject {
  const sub = fixture("subscription");
  const subscriptionId = options.subscriptionId ?? "sub_test_default";
  const price = priceObject(options);
  const items = sub["items"] as { data: StripeObject[]; url: string };
  const item = items.data[0]!;
  item["price"] = price;
  item["plan"] = { ...(item["plan"] as StripeObject), id: price["id"], metadata: price["metadata"] };
  item["subscription"] = subscriptionId;
  items.url = `/v1/subscription_items?subscription=${subscriptionId}`;
  Object.assign(sub, {
    id: subscriptionId,
    customer: options.customer,
    status: options.status,
    metadata: withUserId(options.userId),
    created: options.created,
    trial_end:
      options.trialEnd !== undefined
        ? options.trialEnd
        : options.status === "trialing"
          ? options.created + 14 * 86_400
          : null,
    canceled_at: options.status === "canceled" ? options.created : null,
    ended_at: options.status === "canceled" ? options.created : null,
    cancel_at: null,
    cancel_at_period_end: false,
  });
  return stripeEvent(options.type, sub, { id: options.id, created: options.created });
}

export type InvoiceEventType = "invoice.payment_failed" | "invoice.payment_succeeded" | "invoice.paid";

export interface InvoiceLineOptions extends PriceOptions {
  /** Minor units; negative for credits. */
  amount?: number;
  proration?: boolean;
}

export interface InvoiceEventOptions extends InvoiceLineOptions {
  type: InvoiceEventType;
  customer: string;
  subscription: string | null;
  /** `current`: `parent.subscription_details` and `pricing.price_details`; `legacy`: top-level `subscription`, `lines.data[].price`. */
  shape: "current" | "legacy";
  created: number;
  userId?: string;
  billingReason?: string;
  total?: number;
  /** Replaces the single default line. */
  lines?: InvoiceLineOptions[];
  /** Epoch seconds of Stripe's next retry (`next_payment_attempt`); default none, as on a paid invoice or a last attempt. */
  nextPaymentAttempt?: number | null;
  id?: string;
}

function invoiceLine(base: StripeObject, shape: "current" | "legacy", subscription: string | null, line: InvoiceLineOptions): StripeObject {
  const out: StripeObject = { ...structuredClone(base), id: testId("il"), amount: line.amount ?? 2000 };
  const proration = line.proration ?? false;
  if (shape === "legacy") {
    delete out["parent"];
    delete out["pricing"];
    const price = priceObject(line);
    Object.assign(out, { type: "subscription", subscription, proration, price, plan: price });
    return out;
  }
  // Webhooks carry the price unexpanded (an id); when a test sets a lookup key or metadata tier
  // it gets the expanded form, as returned with `expand[]=lines.data.pricing.price_details.price`.
  const expanded = line.priceLookupKey != null || line.priceMetadataTier !== undefined;
  out["pricing"] = {
    type: "price_details",
    price_details: { price: expanded ? priceObject(line) : (line.priceId ?? "price_test_default"), product: "prod_test" },
    unit_amount_decimal: "2000",
  };
  out["parent"] = {
    type: "subscription_item_details",
    invoice_item_details: null,
    subscription_item_details: {
      invoice_item: null,
      proration,
      proration_details: { credited_items: null },
      subscription,
      subscription_item: "si_test_default",
    },
  };
  return out;
}

export function invoiceEvent(options: InvoiceEventOptions): StripeEventObject {
  const invoice = fixture("invoice");
  const lines = invoice["lines"] as { data: StripeObject[] };
  const baseLine = lines.data[0]!;
  lines.data = (options.lines ?? [options]).map((line) => invoiceLine(baseLine, options.shape, options.subscription, line));
  const paid = options.type !== "invoice.payment_failed";
  const total = options.total ?? 2000;
  Object.assign(invoice, {
    id: testId("in"),
    customer: options.customer,
    created: options.created,
    billing_reason: options.billingReason ?? "subscription_cycle",
    status: paid ? "paid" : "open",
    attempted: true,
    attempt_count: 1,
    total,
    subtotal: total,
    amount_due: total,
    amount_paid: paid ? total : 0,
    amount_remaining: paid ? 0 : total,
    next_payment_attempt: options.nextPaymentAttempt ?? null,
  });
  if (options.shape === "current") {
    invoice["subscription"] = null;
    invoice["parent"] = {
      type: "subscription_details",
      quote_details: null,
      subscription_details: { subscription: options.subscription, metadata: withUserId(options.userId) },
    };
  } else {
    delete invoice["parent"];
    invoice["subscription"] = options.subscription;
    invoice["subscription_details"] = { metadata: withUserId(options.userId) };
  }
  return stripeEvent(options.type, invoice, {
    id: options.id,
    created: options.created,
    apiVersion: options.shape === "current" ? CURRENT_API_VERSION : LEGACY_API_VERSION,
  });
}

export interface CheckoutCompletedOptions {
  customer: string | null;
  created: number;
  clientReferenceId?: string | null;
  userId?: string;
  subscription?: string | null;
  id?: string;
}

export function checkoutCompletedEvent(options: CheckoutCompletedOptions): StripeEventObject {
  const session = fixture("checkout.session");
  Object.assign(session, {
    customer: options.customer,
    client_reference_id: options.clientReferenceId ?? null,
    metadata: withUserId(options.userId),
    created: options.created,
    mode: "subscription",
    status: "complete",
    payment_status: "paid",
    payment_intent: null,
    subscription: options.subscription ?? "sub_test_default",
  });
  return stripeEvent("checkout.session.completed", session, { id: options.id, created: options.created });
}

export interface CustomerEventOptions {
  type: "customer.created" | "customer.updated";
  customer: string;
  created: number;
  userId?: string;
  id?: string;
}

export function customerEvent(options: CustomerEventOptions): StripeEventObject {
  const customer = fixture("customer");
  Object.assign(customer, { id: options.customer, metadata: withUserId(options.userId), created: options.created });
  return stripeEvent(options.type, customer, { id: options.id, created: options.created });
}
