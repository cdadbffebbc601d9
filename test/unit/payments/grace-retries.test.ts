import { describe, expect, it } from "vitest";
import {
  applyFact,
  DAY_MS,
  eventMetaOf,
  expireGrace,
  extractStripeFacts,
  initialPaymentState,
  parseStripeEvent,
  type PaymentState,
  type StripeFactsConfig,
} from "@paysync/core/payments";
import { graceEndsAtWithRetry, MAX_RETRY_GRACE_MS, RETRY_MARGIN_MS } from "@paysync/core/payments/grace";
import { entitlementsFor } from "@paysync/core/payments/entitlements";
import { invoiceEvent, subscriptionEvent, type InvoiceEventType, type StripeEventObject } from "../../helpers/stripe-factories.js";

/** SPEC §3.1: a grace period never ends before Stripe's next scheduled retry (plus a day's margin). */
const config: StripeFactsConfig = { priceTiers: { price_basic: "basic", price_premium: "premium" } };
const T0 = 1_750_000_000; // seconds
const DAY = 86_400;
const ms = (seconds: number): number => seconds * 1000;

const basicSince = (created: number) => subscriptionEvent({ type: "customer.subscription.created", status: "active", customer: "cus_1", created, priceId: "price_basic" });
const pastDue = (created: number) => subscriptionEvent({ type: "customer.subscription.updated", status: "past_due", customer: "cus_1", created, priceId: "price_basic" });
const canceled = (created: number) => subscriptionEvent({ type: "customer.subscription.deleted", status: "canceled", customer: "cus_1", created, priceId: "price_basic" });
const invoice = (type: InvoiceEventType, created: number, nextPaymentAttempt: number | null = null) =>
  invoiceEvent({ type, customer: "cus_1", subscription: "sub_1", shape: "current", created, priceId: "price_basic", nextPaymentAttempt });

function applyAll(events: StripeEventObject[]): PaymentState {
  return events.reduce<PaymentState>(
    (state, event) => applyFact(state, extractStripeFacts(event, config), eventMetaOf(parseStripeEvent(event)), ms(event.created)).state,
    initialPaymentState(),
  );
}

describe("grace periods and Stripe's retries", () => {
  it("a basic user whose failed invoice says Stripe retries in 12 days stays in grace at least until then", () => {
    // Prepare
    const failedAt = T0 + DAY;
    const retryAt = failedAt + 12 * DAY;
    const state = applyAll([basicSince(T0), invoice("invoice.payment_failed", failedAt, retryAt), pastDue(failedAt + 1)]);

    // Act
    const atRetry = entitlementsFor(state, ms(retryAt));
    const expiredAtRetry = expireGrace(state, ms(retryAt));
    const expiredAfterMargin = expireGrace(state, ms(retryAt) + RETRY_MARGIN_MS);

    // Assess: the SPEC formula alone (basic: 7 days) would have ended it 5 days before the retry.
    expect(state).toMatchObject({ tier: "grace_period", paidTier: "basic", graceEndsAt: ms(retryAt) + RETRY_MARGIN_MS });
    expect(atRetry).toMatchObject({ tier: "grace_period", graceEndsAt: new Date(ms(retryAt) + RETRY_MARGIN_MS).toISOString() });
    expect(Date.parse(atRetry.validUntil)).toBeLessThanOrEqual(ms(retryAt) + RETRY_MARGIN_MS);
    expect(expiredAtRetry.changed).toBe(false);
    expect(expiredAfterMargin.state.tier).toBe("free");
  });

  it.each([
    { name: "no retry scheduled keeps the SPEC formula", retryInDays: null, endsInDays: 7 },
    { name: "a retry inside the formula's grace changes nothing", retryInDays: 2, endsInDays: 7 },
    { name: "a retry just before the formula's end still adds the margin", retryInDays: 6.5, endsInDays: 7.5 },
    { name: "a retry past the formula's end extends it to the retry plus the margin", retryInDays: 12, endsInDays: 13 },
    { name: "a retry beyond Stripe's longest schedule is capped at 60 days", retryInDays: 90, endsInDays: 60 },
  ])("$name", ({ retryInDays, endsInDays }) => {
    // Prepare
    const start = ms(T0);
    const retryAt = retryInDays === null ? null : start + retryInDays * DAY_MS;

    // Act
    const endsAt = graceEndsAtWithRetry("basic", [], start, retryAt);

    // Assess
    expect(endsAt - start).toBe(endsInDays * DAY_MS);
    expect(MAX_RETRY_GRACE_MS).toBe(60 * DAY_MS);
  });

  it("the newest failure's schedule wins: Stripe's last attempt (no next retry) ends the extension", () => {
    // Prepare
    const f1 = T0 + DAY;
    const f2 = f1 + 12 * DAY;

    // Act
    const waiting = applyAll([basicSince(T0), invoice("invoice.payment_failed", f1, f1 + 12 * DAY)]);
    const lastAttempt = applyAll([basicSince(T0), invoice("invoice.payment_failed", f2, null), invoice("invoice.payment_failed", f1, f1 + 12 * DAY)]);

    // Assess: the grace still starts at the first failure; without a scheduled retry only the formula counts (7 days from f1, already past).
    expect(waiting.graceEndsAt).toBe(ms(f1 + 12 * DAY) + RETRY_MARGIN_MS);
    expect(lastAttempt.graceEndsAt).toBe(ms(f1) + 7 * DAY_MS);
  });

  it("a canceled subscription is not retried: its grace follows the formula alone", () => {
    // Prepare
    const failedAt = T0 + DAY;

    // Act
    const state = applyAll([basicSince(T0), invoice("invoice.payment_failed", failedAt, failedAt + 12 * DAY), canceled(failedAt + 60)]);

    // Assess
    expect(state).toMatchObject({ tier: "grace_period", status: "canceled", graceEndsAt: ms(failedAt) + 7 * DAY_MS });
  });

  it("a recovery closes the episode: a later failure without a retry does not inherit the old schedule", () => {
    // Prepare
    const f1 = T0 + DAY;
    const paid = f1 + DAY;
    const f2 = paid + 30 * DAY;

    // Act
    const state = applyAll([basicSince(T0), invoice("invoice.payment_failed", f1, f1 + 12 * DAY), invoice("invoice.paid", paid), invoice("invoice.payment_failed", f2)]);
    const reordered = applyAll([invoice("invoice.payment_failed", f2), invoice("invoice.paid", paid), basicSince(T0), invoice("invoice.payment_failed", f1, f1 + 12 * DAY)]);

    // Assess: one earlier failure in 180 days shortens basic's 7 days by a quarter.
    expect(state).toMatchObject({ tier: "grace_period", graceEndsAt: ms(f2) + 5.25 * DAY_MS });
    expect(reordered.graceEndsAt).toBe(state.graceEndsAt);
  });

  it("a stored state from before the retry register reads as no retry scheduled", async () => {
    // Prepare
    const { paymentStateSchema } = await import("@paysync/core/payments");
    const stored = applyAll([basicSince(T0), invoice("invoice.payment_failed", T0 + DAY)]);
    const { retryAt: _retryAt, retryKey: _retryKey, ...olderRegisters } = stored.registers;

    // Act
    const parsed = paymentStateSchema.parse({ ...stored, registers: olderRegisters });

    // Assess
    expect(parsed.registers).toMatchObject({ retryAt: null, retryKey: null });
  });
});
