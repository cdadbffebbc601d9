import { describe, expect, it } from "vitest";
import {
  applyFact,
  eventMetaOf,
  extractStripeFacts,
  initialPaymentState,
  parseStripeEvent,
  type PaymentNotice,
  type PaymentState,
  type StripeFactsConfig,
} from "@paysync/core/payments";
import { serverEntityChanges } from "@paysync/core/payments/entitlements";
import { invoiceEvent, subscriptionEvent, type InvoiceEventType, type StripeEventObject } from "../../helpers/stripe-factories.js";

/** The billing-issue notice (issue 16): sent to devices once per episode of unpaid invoices. */
const config: StripeFactsConfig = { priceTiers: { price_basic: "basic" } };
const T0 = 1_750_000_000;
const HOUR = 3_600;

const active = subscriptionEvent({ type: "customer.subscription.created", status: "active", customer: "cus_1", created: T0, priceId: "price_basic" });
const invoice = (type: InvoiceEventType, created: number) => invoiceEvent({ type, customer: "cus_1", subscription: "sub_1", shape: "current", created, priceId: "price_basic" });

/** The notices a stream gives, in delivery order. */
function noticesOf(events: StripeEventObject[]): (PaymentNotice | undefined)[] {
  let state: PaymentState = initialPaymentState();
  return events.map((event) => {
    const result = applyFact(state, extractStripeFacts(event, config), eventMetaOf(parseStripeEvent(event)), event.created * 1000);
    state = result.state;
    return result.notice;
  });
}

describe("the billing-issue notice", () => {
  const f1 = invoice("invoice.payment_failed", T0 + HOUR);
  const retry = invoice("invoice.payment_failed", T0 + 3 * HOUR);
  const paid = invoice("invoice.paid", T0 + 4 * HOUR);
  const f2 = invoice("invoice.payment_failed", T0 + 5 * HOUR);

  it.each([
    { name: "the first failure of an episode carries it", events: [active, f1], expected: [undefined, "billing_issue"] },
    { name: "a redelivery and Stripe's failed retries do not", events: [active, f1, f1, retry], expected: [undefined, "billing_issue", undefined, undefined] },
    { name: "an older failure arriving late does not repeat it", events: [active, retry, f1], expected: [undefined, "billing_issue", undefined] },
    { name: "a recovery ends the episode; the next failure opens a new one", events: [active, f1, paid, f2], expected: [undefined, "billing_issue", undefined, "billing_issue"] },
  ])("$name", ({ events, expected }) => {
    // Act
    const notices = noticesOf(events);

    // Assess
    expect(notices).toEqual(expected);
  });

  it("rides on the failure's tier change: payment_state with the notice, and the new flags and policy", () => {
    // Prepare
    const state = [active, f1].reduce<PaymentState>((s, e) => applyFact(s, extractStripeFacts(e, config), eventMetaOf(parseStripeEvent(e)), e.created * 1000).state, initialPaymentState());

    // Act
    const changes = serverEntityChanges(state, (T0 + HOUR) * 1000, "billing_issue");

    // Assess
    expect(changes.map((c) => c.entityType)).toEqual(["payment_state", "feature_flags", "sync_policy"]);
    expect(changes[0]!.payload).toMatchObject({ tier: "grace_period", paymentCurrent: false, notice: "billing_issue" });
    expect(serverEntityChanges(state, (T0 + HOUR) * 1000, "trial_will_end").map((c) => c.entityType)).toEqual(["payment_state"]);
  });
});
