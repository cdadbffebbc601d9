import { describe, expect, it } from "vitest";
import { ValidationError } from "@paysync/core/errors";
import {
  eventMetaOf,
  extractStripeFacts,
  parseStripeEvent,
  priceTiersSchema,
  resolvePriceTier,
  type StripeFactsConfig,
} from "@paysync/core/payments";
import {
  checkoutCompletedEvent,
  customerEvent,
  fixture,
  invoiceEvent,
  stripeEvent,
  subscriptionEvent,
  type SubscriptionEventType,
} from "../../helpers/stripe-factories.js";

const config: StripeFactsConfig = { priceTiers: { price_mapped_basic: "basic", price_mapped_premium: "premium" } };
const T0 = 1_750_000_000;

describe("price → tier", () => {
  it.each([
    { name: "metadata.tier wins over lookup_key and the map", price: { id: "price_mapped_basic", lookup_key: "basic_monthly", metadata: { tier: "premium" } }, tier: "premium", source: "metadata" },
    { name: "metadata.tier is case-insensitive", price: { id: "p", metadata: { tier: " Trial " } }, tier: "trial", source: "metadata" },
    { name: "an invalid metadata.tier falls through to lookup_key", price: { id: "p", lookup_key: "basic_yearly", metadata: { tier: "gold" } }, tier: "basic", source: "lookup_key" },
    { name: "lookup_key prefix premium", price: { id: "price_mapped_basic", lookup_key: "premium_monthly", metadata: {} }, tier: "premium", source: "lookup_key" },
    { name: "lookup_key prefix basic", price: { id: "p", lookup_key: "BASIC-annual", metadata: {} }, tier: "basic", source: "lookup_key" },
    { name: "an unrelated lookup_key falls through to the map", price: { id: "price_mapped_premium", lookup_key: "family_plan", metadata: {} }, tier: "premium", source: "price_map" },
    { name: "a bare price id is resolved by the map", price: "price_mapped_basic", tier: "basic", source: "price_map" },
  ])("$name", ({ price, tier, source }) => {
    // Act
    const resolution = resolvePriceTier(price, config.priceTiers);

    // Assess
    expect(resolution).toMatchObject({ tier, source });
    expect(resolution.configurationError).toBeUndefined();
  });

  it.each([
    { name: "an unknown price is a configuration error carrying its id", price: { id: "price_unknown", lookup_key: null, metadata: {} } },
    { name: "a map key inherited from Object.prototype is not a price", price: "toString" },
  ])("$name", ({ price }) => {
    // Act
    const resolution = resolvePriceTier(price, config.priceTiers);

    // Assess
    expect(resolution).toEqual({ tier: undefined, priceId: typeof price === "string" ? price : price.id, configurationError: "unknown_price" });
  });

  it("the configured price map only accepts paid tiers", () => {
    // Act
    const valid = priceTiersSchema.safeParse({ price_a: "premium" });
    const invalid = priceTiersSchema.safeParse({ price_a: "grace_period" });

    // Assess
    expect(valid.success).toBe(true);
    expect(invalid.success).toBe(false);
  });
});

describe("Stripe event → fact", () => {
  it.each([
    { name: "a checkout session links by client_reference_id", event: checkoutCompletedEvent({ customer: "cus_1", clientReferenceId: "user-1", created: T0 }), userId: "user-1", via: "checkout_session" },
    { name: "a checkout session links by metadata.userId", event: checkoutCompletedEvent({ customer: "cus_1", userId: "user-2", created: T0 }), userId: "user-2", via: "checkout_session" },
    { name: "a created customer links by metadata.userId", event: customerEvent({ type: "customer.created", customer: "cus_1", userId: "user-3", created: T0 }), userId: "user-3", via: "customer" },
    { name: "an updated customer links by metadata.userId", event: customerEvent({ type: "customer.updated", customer: "cus_1", userId: "user-4", created: T0 }), userId: "user-4", via: "customer" },
  ])("$name", ({ event, userId, via }) => {
    // Act
    const fact = extractStripeFacts(event, config);

    // Assess
    expect(fact).toEqual({ kind: "customer_link", eventType: event.type, customerId: "cus_1", userId, via });
  });

  it.each([
    { name: "a customer without metadata.userId links nothing", event: customerEvent({ type: "customer.updated", customer: "cus_1", created: T0 }), reason: "no_user_id" },
    { name: "a checkout session without a user links nothing", event: checkoutCompletedEvent({ customer: "cus_1", created: T0 }), reason: "no_user_id" },
    { name: "a checkout session without a customer links nothing", event: checkoutCompletedEvent({ customer: null, userId: "u", created: T0 }), reason: "no_customer" },
    { name: "an unhandled event type is ignored", event: stripeEvent("plan.created", fixture("price"), { created: T0 }), reason: "unhandled_type" },
    { name: "the fixture event (plan.created) is ignored", event: fixture("event"), reason: "unhandled_type" },
    { name: "an invoice without a subscription is ignored", event: invoiceEvent({ type: "invoice.paid", customer: "cus_1", subscription: null, shape: "current", created: T0 }), reason: "not_a_subscription_invoice" },
    { name: "a subscription status Stripe adds later is ignored", event: subscriptionEvent({ type: "customer.subscription.updated", status: "frozen", customer: "cus_1", created: T0 }), reason: "unknown_status" },
  ])("$name", ({ event, reason }) => {
    // Act
    const fact = extractStripeFacts(event, config);

    // Assess
    expect(fact).toMatchObject({ kind: "ignored", reason });
  });

  it.each<{ type: SubscriptionEventType; status: string; action: string }>([
    { type: "customer.subscription.created", status: "trialing", action: "created" },
    { type: "customer.subscription.updated", status: "past_due", action: "updated" },
    { type: "customer.subscription.resumed", status: "active", action: "resumed" },
    { type: "customer.subscription.paused", status: "paused", action: "paused" },
    { type: "customer.subscription.deleted", status: "canceled", action: "deleted" },
    { type: "customer.subscription.trial_will_end", status: "trialing", action: "trial_will_end" },
  ])("$type becomes a subscription fact ($status)", ({ type, status, action }) => {
    // Prepare
    const event = subscriptionEvent({ type, status, customer: "cus_1", userId: "user-1", priceLookupKey: "premium_monthly", created: T0, trialEnd: T0 + 100 });

    // Act
    const fact = extractStripeFacts(event, config);

    // Assess
    expect(fact).toEqual({
      kind: "subscription", eventType: type, action, customerId: "cus_1", userId: "user-1", status,
      price: { tier: "premium", priceId: "price_test_default", source: "lookup_key" },
      trialEndsAt: (T0 + 100) * 1000,
    });
  });

  it("a subscription on an unknown price reports the price id as a configuration error", () => {
    // Prepare
    const event = subscriptionEvent({ type: "customer.subscription.updated", status: "active", customer: "cus_1", priceId: "price_nobody_knows", created: T0 });

    // Act
    const fact = extractStripeFacts(event, config);

    // Assess
    expect(fact).toMatchObject({ kind: "subscription", price: { tier: undefined, priceId: "price_nobody_knows", configurationError: "unknown_price" } });
    expect(fact).not.toHaveProperty("userId");
  });

  it("a subscription with an expanded customer object is read by id", () => {
    // Prepare
    const event = subscriptionEvent({ type: "customer.subscription.updated", status: "active", customer: "cus_1", created: T0 });
    event.data.object["customer"] = { id: "cus_expanded", object: "customer" };

    // Act
    const fact = extractStripeFacts(event, config);

    // Assess
    expect(fact).toMatchObject({ customerId: "cus_expanded" });
  });

  it.each([
    { shape: "current" as const, type: "invoice.payment_failed" as const, action: "payment_failed" },
    { shape: "current" as const, type: "invoice.payment_succeeded" as const, action: "payment_succeeded" },
    { shape: "current" as const, type: "invoice.paid" as const, action: "paid" },
    { shape: "legacy" as const, type: "invoice.payment_failed" as const, action: "payment_failed" },
    { shape: "legacy" as const, type: "invoice.paid" as const, action: "paid" },
  ])("a $shape-shape $type reads subscription, user and price", ({ shape, type, action }) => {
    // Prepare
    const event = invoiceEvent({ type, customer: "cus_1", subscription: "sub_1", shape, userId: "user-1", priceId: "price_mapped_premium", created: T0 });

    // Act
    const fact = extractStripeFacts(event, config);

    // Assess
    expect(fact).toEqual({
      kind: "invoice", eventType: type, action, customerId: "cus_1", subscriptionId: "sub_1", userId: "user-1",
      price: { tier: "premium", priceId: "price_mapped_premium", source: "price_map" },
      firstInvoice: false, zeroTotal: false, nextPaymentAttemptAt: null,
    });
  });

  it.each([
    { name: "an expanded current-shape price resolves by lookup_key", shape: "current" as const, opts: { priceLookupKey: "basic_monthly" }, tier: "basic" },
    { name: "a legacy line price resolves by metadata.tier", shape: "legacy" as const, opts: { priceMetadataTier: "premium" }, tier: "premium" },
    { name: "an unexpanded unknown price id stays unknown", shape: "current" as const, opts: { priceId: "price_x" }, tier: undefined },
  ])("$name", ({ shape, opts, tier }) => {
    // Prepare
    const event = invoiceEvent({ type: "invoice.paid", customer: "cus_1", subscription: "sub_1", shape, created: T0, ...opts });

    // Act
    const fact = extractStripeFacts(event, config);

    // Assess
    expect(fact).toMatchObject({ kind: "invoice", price: { tier } });
  });

  it.each([
    { shape: "current" as const },
    { shape: "legacy" as const },
  ])("a $shape downgrade invoice resolves to the new price, not the credited one", ({ shape }) => {
    // Prepare: a credit for unused premium time and a prorated charge for basic.
    const event = invoiceEvent({
      type: "invoice.paid", customer: "cus_1", subscription: "sub_1", shape, created: T0, billingReason: "subscription_update",
      lines: [
        { priceId: "price_mapped_premium", amount: -1500, proration: true },
        { priceId: "price_mapped_basic", amount: 500, proration: true },
      ],
    });

    // Act
    const fact = extractStripeFacts(event, config);

    // Assess
    expect(fact).toMatchObject({ price: { tier: "basic" } });
  });

  it("an invoice's billing reason and zero total are surfaced, not its amounts", () => {
    // Prepare
    const event = invoiceEvent({ type: "invoice.paid", customer: "cus_1", subscription: "sub_1", shape: "current", created: T0, billingReason: "subscription_create", total: 0 });

    // Act
    const fact = extractStripeFacts(event, config);

    // Assess
    expect(fact).toMatchObject({ firstInvoice: true, zeroTotal: true });
    expect(JSON.stringify(fact)).not.toMatch(/amount|total":/);
  });

  it.each([
    { name: "a body that is not an event", input: { hello: "world" } },
    { name: "an event with a fractional created", input: { ...subscriptionEvent({ type: "customer.subscription.updated", status: "active", customer: "c", created: T0 }), created: 1.5 } },
    { name: "a subscription without a customer", input: (() => { const e = subscriptionEvent({ type: "customer.subscription.updated", status: "active", customer: "c", created: T0 }); delete e.data.object["customer"]; return e; })() },
  ])("$name is a validation error", ({ input }) => {
    // Act
    const act = (): unknown => extractStripeFacts(input, config);

    // Assess
    expect(act).toThrow(ValidationError);
  });

  it("the event meta is the event id and created second", () => {
    // Prepare
    const event = customerEvent({ type: "customer.created", customer: "cus_1", created: T0, id: "evt_meta" });

    // Act
    const meta = eventMetaOf(parseStripeEvent(event));

    // Assess
    expect(meta).toEqual({ eventId: "evt_meta", createdSeconds: T0 });
  });
});
