import { describe, expect, it } from "vitest";
import {
  applyFact,
  DAY_MS,
  effectiveTier,
  eventMetaOf,
  expireGrace,
  extractStripeFacts,
  initialPaymentState,
  parseStripeEvent,
  paymentStateEntity,
  paymentStateSchema,
  type ApplyResult,
  type PaymentState,
  type StripeFactsConfig,
} from "@paysync/core/payments";
import {
  checkoutCompletedEvent,
  customerEvent,
  invoiceEvent,
  subscriptionEvent,
  type InvoiceEventType,
  type StripeEventObject,
  type SubscriptionEventType,
} from "../../helpers/stripe-factories.js";

const config: StripeFactsConfig = { priceTiers: { price_basic: "basic", price_premium: "premium" } };
const T0 = 1_750_000_000; // seconds
const DAY = 86_400;
const ms = (seconds: number): number => seconds * 1000;

type Price = "basic" | "premium" | "unknown";
const priceOf = (price: Price): { priceId: string } => ({ priceId: price === "unknown" ? "price_unmapped" : `price_${price}` });

function sub(type: SubscriptionEventType, status: string, created: number, price: Price = "premium"): StripeEventObject {
  return subscriptionEvent({ type, status, customer: "cus_1", created, ...priceOf(price) });
}

function invoice(type: InvoiceEventType, created: number, price: Price = "premium", extra: { billingReason?: string; total?: number } = {}): StripeEventObject {
  return invoiceEvent({ type, customer: "cus_1", subscription: "sub_1", shape: "current", created, ...priceOf(price), ...extra });
}

/** Extract and apply, as the webhook worker does; by default the event is processed as it happens. */
function apply(state: PaymentState | undefined, event: StripeEventObject, nowMs = ms(event.created)): ApplyResult {
  return applyFact(state, extractStripeFacts(event, config), eventMetaOf(parseStripeEvent(event)), nowMs);
}

function applyAll(events: StripeEventObject[], nowMs?: number): PaymentState {
  return events.reduce<PaymentState>((state, event) => apply(state, event, nowMs ?? ms(event.created)).state, initialPaymentState());
}

const premiumSince = (created: number): PaymentState => applyAll([sub("customer.subscription.created", "active", created)]);

describe("payment state machine", () => {
  it("a user Stripe never heard of is free and owes nothing", () => {
    // Act
    const state = initialPaymentState();

    // Assess
    expect(state).toMatchObject({ tier: "free", status: "none", paidTier: null, graceEndsAt: null, paymentCurrent: true, entitlementVersion: 0 });
  });

  const T1 = T0 + DAY;
  it.each([
    { name: "a trialing subscription gives trial", event: sub("customer.subscription.created", "trialing", T1), expected: { tier: "trial", status: "trialing", paidTier: "trial", paymentCurrent: true, graceEndsAt: null } },
    { name: "an active subscription gives its price's tier", event: sub("customer.subscription.updated", "active", T1, "basic"), expected: { tier: "basic", status: "active", paidTier: "basic", paymentCurrent: true } },
    { name: "a resumed subscription gives its price's tier", event: sub("customer.subscription.resumed", "active", T1, "premium"), expected: { tier: "premium", status: "active" } },
    { name: "past_due starts a grace period keeping the paid tier", event: sub("customer.subscription.updated", "past_due", T1), expected: { tier: "grace_period", status: "past_due", paidTier: "premium", paymentCurrent: false, graceEndsAt: ms(T1) + 14 * DAY_MS } },
    { name: "unpaid starts a grace period", event: sub("customer.subscription.updated", "unpaid", T1), expected: { tier: "grace_period", status: "unpaid", paymentCurrent: false } },
    { name: "a paused subscription starts a grace period", event: sub("customer.subscription.paused", "paused", T1), expected: { tier: "grace_period", status: "paused", paymentCurrent: false, graceEndsAt: ms(T1) + 14 * DAY_MS } },
    { name: "a deleted subscription starts a grace period", event: sub("customer.subscription.deleted", "canceled", T1), expected: { tier: "grace_period", status: "canceled", paidTier: "premium", paymentCurrent: true, graceEndsAt: ms(T1) + 14 * DAY_MS } },
    { name: "a failed payment starts a grace period and is recorded", event: invoice("invoice.payment_failed", T1), expected: { tier: "grace_period", status: "past_due", paidTier: "premium", paymentCurrent: false, graceEndsAt: ms(T1) + 14 * DAY_MS, failureTimes: [ms(T1)] } },
    { name: "a paid invoice for another price moves to that tier", event: invoice("invoice.paid", T1, "basic"), expected: { tier: "basic", status: "active", paidTier: "basic" } },
    { name: "an unknown price keeps the tier", event: sub("customer.subscription.updated", "active", T1, "unknown"), expected: { tier: "premium", status: "active", paidTier: "premium" } },
  ])("$name", ({ event, expected }) => {
    // Prepare
    const before = premiumSince(T0);

    // Act
    const result = apply(before, event);

    // Assess
    expect(result.outcome).toBe("applied");
    expect(result.state).toMatchObject(expected);
  });

  it.each([
    { name: "an incomplete subscription changes nothing", event: sub("customer.subscription.updated", "incomplete", T1, "basic"), outcome: "no_effect", notice: undefined },
    { name: "an expired incomplete subscription changes nothing", event: sub("customer.subscription.deleted", "incomplete_expired", T1, "basic"), outcome: "no_effect", notice: undefined },
    { name: "a failed first invoice (never paid) gives no grace", event: invoice("invoice.payment_failed", T1, "premium", { billingReason: "subscription_create" }), outcome: "no_effect", notice: undefined },
    { name: "a zero-total paid invoice proves no payment", event: invoice("invoice.paid", T1, "basic", { total: 0 }), outcome: "no_effect", notice: undefined },
    { name: "a checkout session only links", event: checkoutCompletedEvent({ customer: "cus_1", userId: "u1", created: T1 }), outcome: "no_effect", notice: undefined },
    { name: "a customer update only links", event: customerEvent({ type: "customer.updated", customer: "cus_1", userId: "u1", created: T1 }), outcome: "no_effect", notice: undefined },
    { name: "trial_will_end is a notice, not a tier change", event: sub("customer.subscription.trial_will_end", "trialing", T1), outcome: "no_effect", notice: "trial_will_end" },
    { name: "a trial_will_end older than the state gives no notice", event: sub("customer.subscription.trial_will_end", "trialing", T0 - DAY), outcome: "stale", notice: undefined },
  ])("$name", ({ event, outcome, notice }) => {
    // Prepare
    const before = premiumSince(T0);

    // Act
    const result = apply(before, event);

    // Assess
    expect(result).toEqual({ state: before, changed: false, outcome, ...(notice ? { notice } : {}) });
  });

  it("a failed payment gives grace until the right end and a paid invoice restores the tier", () => {
    // Prepare
    const start = premiumSince(T0);
    const firstFailure = T0 + 30 * DAY;

    // Act
    const failed = apply(start, invoice("invoice.payment_failed", firstFailure));
    const retried = apply(failed.state, invoice("invoice.payment_failed", firstFailure + 3 * DAY));
    const paid = apply(retried.state, invoice("invoice.payment_succeeded", firstFailure + 5 * DAY));
    const laterFailure = firstFailure + 60 * DAY;
    const failedAgain = apply(paid.state, invoice("invoice.payment_failed", laterFailure));

    // Assess
    expect(failed).toMatchObject({ changed: true, state: { tier: "grace_period", graceEndsAt: ms(firstFailure) + 14 * DAY_MS, paidTier: "premium" } });
    // A retry of the same lapse does not restart the clock.
    expect(retried.state.graceEndsAt).toBe(ms(firstFailure) + 14 * DAY_MS);
    expect(paid).toMatchObject({ changed: true, state: { tier: "premium", status: "active", graceEndsAt: null, paymentCurrent: true } });
    // Two earlier failures in the last 180 days: 14 × 0.75².
    expect(failedAgain.state.graceEndsAt).toBe(ms(laterFailure) + 7.875 * DAY_MS);
    expect(failedAgain.state.entitlementVersion).toBe(start.entitlementVersion + 3);
  });

  it("a paid invoice without a resolvable price restores the paid tier", () => {
    // Prepare
    const lapsed = applyAll([sub("customer.subscription.created", "active", T0, "basic"), invoice("invoice.payment_failed", T0 + DAY)]);

    // Act
    const result = apply(lapsed, invoice("invoice.paid", T0 + 2 * DAY, "unknown"));

    // Assess
    expect(result.state).toMatchObject({ tier: "basic", status: "active", paymentCurrent: true });
  });

  it("a trial whose first real payment fails gets the trial's grace and recovers to the price's tier", () => {
    // Prepare
    const trialStart = invoice("invoice.paid", T0, "premium", { billingReason: "subscription_create", total: 0 });
    const trial = applyAll([sub("customer.subscription.created", "trialing", T0), trialStart]);

    // Act
    const failed = apply(trial, invoice("invoice.payment_failed", T0 + 14 * DAY));
    const paid = apply(failed.state, invoice("invoice.paid", T0 + 15 * DAY, "premium"));

    // Assess
    expect(trial).toMatchObject({ tier: "trial", paidTier: "trial" });
    expect(failed.state).toMatchObject({ tier: "grace_period", graceEndsAt: ms(T0 + 14 * DAY) + 3 * DAY_MS });
    expect(paid.state).toMatchObject({ tier: "premium", paidTier: "premium" });
  });

  it("a cancellation after unpaid invoices continues the grace instead of restarting it", () => {
    // Prepare
    const failure = T0 + DAY;
    const lapsed = applyAll([sub("customer.subscription.created", "active", T0, "basic"), invoice("invoice.payment_failed", failure, "basic")]);

    // Act
    const result = apply(lapsed, sub("customer.subscription.deleted", "canceled", failure + 5 * DAY, "basic"));

    // Assess
    expect(result.state).toMatchObject({ tier: "grace_period", status: "canceled", paymentCurrent: false, graceEndsAt: ms(failure) + 7 * DAY_MS });
  });

  it("a deleted subscription gives grace, then free via expireGrace", () => {
    // Prepare
    const deletedAt = T0 + 30 * DAY;
    const deleted = apply(premiumSince(T0), sub("customer.subscription.deleted", "canceled", deletedAt)).state;
    const endsAt = ms(deletedAt) + 14 * DAY_MS;

    // Act
    const early = expireGrace(deleted, endsAt - 1);
    const due = expireGrace(deleted, endsAt);
    const again = expireGrace(due.state, endsAt + DAY_MS);

    // Assess
    expect(deleted).toMatchObject({ tier: "grace_period", graceEndsAt: endsAt });
    expect(early).toEqual({ state: deleted, changed: false });
    expect(due.changed).toBe(true);
    expect(due.state).toMatchObject({ tier: "free", graceEndsAt: null, status: "canceled", entitlementVersion: deleted.entitlementVersion + 1 });
    expect(again.changed).toBe(false);
  });

  it("an older event cannot resurrect an expired grace, a newer one overrides it", () => {
    // Prepare: fail, (recover), fail; the recovery arrives late, after the job ended the grace.
    const f1 = T0 + DAY;
    const recovered = T0 + 2 * DAY;
    const f2 = T0 + 10 * DAY;
    const lapsed = applyAll([sub("customer.subscription.created", "active", T0), invoice("invoice.payment_failed", f1), invoice("invoice.payment_failed", f2)]);
    const now = ms(f1) + 14 * DAY_MS;
    const expired = expireGrace(lapsed, now).state;

    const lateRecovery = invoice("invoice.paid", recovered);

    // Act
    const withoutJob = apply(lapsed, lateRecovery, now);
    const late = apply(expired, lateRecovery, now);
    const newer = apply(late.state, sub("customer.subscription.updated", "active", f2 + 10 * DAY, "basic"), now + DAY_MS);

    // Assess
    expect(expired.tier).toBe("free");
    // Without the job's decision, the late recovery moves the grace start to f2 (14 × 0.75 days).
    expect(withoutJob.state).toMatchObject({ tier: "grace_period", graceEndsAt: ms(f2) + 10.5 * DAY_MS });
    expect(late.state).toMatchObject({ tier: "free", graceEndsAt: null });
    expect(newer.state).toMatchObject({ tier: "basic", status: "active" });
  });

  it("a grace period that has run out reads as free before the job runs", () => {
    // Prepare
    const lapsed = apply(premiumSince(T0), invoice("invoice.payment_failed", T0 + DAY)).state;

    // Act
    const during = effectiveTier(lapsed, ms(T0 + DAY) + 14 * DAY_MS - 1);
    const after = effectiveTier(lapsed, ms(T0 + DAY) + 14 * DAY_MS);

    // Assess
    expect([during, after]).toEqual(["grace_period", "free"]);
    expect(paymentStateEntity(lapsed, ms(T0 + DAY) + 14 * DAY_MS)).toEqual({ tier: "free", status: "past_due", graceEndsAt: null, paymentCurrent: false });
  });

  it("an event processed after its grace would have ended lands on free", () => {
    // Act
    const result = apply(premiumSince(T0), sub("customer.subscription.deleted", "canceled", T0 + DAY), ms(T0 + 20 * DAY));

    // Assess
    expect(result.state).toMatchObject({ tier: "free", status: "canceled", graceEndsAt: null });
  });

  it("a stale Stripe event changes nothing", () => {
    // Prepare
    const state = applyAll([sub("customer.subscription.created", "active", T0, "basic"), sub("customer.subscription.updated", "active", T0 + 2 * DAY, "premium")]);

    // Act
    const result = apply(state, sub("customer.subscription.updated", "past_due", T0 + DAY, "basic"));

    // Assess
    expect(result).toEqual({ state, changed: false, outcome: "stale" });
  });

  it("a duplicate Stripe event changes nothing", () => {
    // Prepare
    const event = invoice("invoice.payment_failed", T0 + DAY);
    const once = apply(premiumSince(T0), event).state;

    // Act
    const result = apply(once, event);

    // Assess
    expect(result).toEqual({ state: once, changed: false, outcome: "duplicate" });
  });

  it.each([
    { name: "active wins over trialing", first: "trialing", second: "active", tier: "premium" },
    { name: "canceled wins over active", first: "canceled", second: "active", tier: "grace_period" },
    { name: "past_due wins over active", first: "active", second: "past_due", tier: "grace_period" },
  ])("within one second, status precedence decides: $name", ({ first, second, tier }) => {
    // Prepare
    const a = sub(first === "canceled" ? "customer.subscription.deleted" : "customer.subscription.updated", first, T0);
    const b = sub(second === "canceled" ? "customer.subscription.deleted" : "customer.subscription.updated", second, T0);

    // Act
    const forward = applyAll([a, b]);
    const backward = applyAll([b, a]);

    // Assess
    expect(forward.tier).toBe(tier);
    expect({ ...backward, entitlementVersion: 0 }).toEqual({ ...forward, entitlementVersion: 0 });
  });

  it("a late failure still counts toward a later grace even though its status is stale", () => {
    // Prepare
    const inOrder = [sub("customer.subscription.created", "active", T0, "basic"), invoice("invoice.payment_failed", T0 + DAY, "basic"), invoice("invoice.paid", T0 + 2 * DAY, "basic"), invoice("invoice.payment_failed", T0 + 40 * DAY, "basic")];
    const withoutFirstFailure = applyAll([inOrder[0]!, inOrder[2]!, inOrder[3]!]);

    // Act
    const result = apply(withoutFirstFailure, inOrder[1]!);

    // Assess
    expect(result.outcome).toBe("applied");
    expect(result.state.graceEndsAt).toBe(ms(T0 + 40 * DAY) + 5.25 * DAY_MS);
    expect({ ...result.state, entitlementVersion: 0 }).toEqual({ ...applyAll(inOrder), entitlementVersion: 0 });
  });

  it("the stored state is JSON, parses with its schema and holds no Stripe ids", () => {
    // Prepare
    const state = applyAll([sub("customer.subscription.created", "trialing", T0), invoice("invoice.payment_failed", T0 + DAY)]);

    // Act
    const json = JSON.stringify(state);

    // Assess
    expect(paymentStateSchema.parse(JSON.parse(json))).toEqual(state);
    expect(json).not.toMatch(/cus_|sub_|evt_|price_|in_test/);
  });
});
