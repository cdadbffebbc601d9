import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import { featureFlagsFor, policyFor } from "@paysync/core/tiers";
import { encodeCursor } from "@paysync/core/sync/cursor";
import { nowSeconds, paymentsHarness, uid } from "../helpers/payments.js";
import { useRuntime } from "../helpers/runtime.js";
import {
  checkoutCompletedEvent,
  customerEvent,
  invoiceEvent,
  stripeEvent,
  subscriptionEvent,
  type InvoiceEventType,
  type PriceOptions,
  type StripeEventObject,
  type SubscriptionEventType,
} from "../helpers/stripe-factories.js";

const rt = useRuntime();
const pay = paymentsHarness(rt);
const DAY_MS = 86_400_000;

const PREMIUM: PriceOptions = { priceId: "price_it_premium", priceLookupKey: "premium_monthly" };
const BASIC: PriceOptions = { priceId: "price_it_basic", priceMetadataTier: "basic" };
const UNKNOWN: PriceOptions = { priceId: "price_it_unknown" };

/** One Stripe customer and the app user behind it; event times count from `t` (epoch seconds). */
function customer() {
  const a = { customer: uid("cus"), userId: uid("user"), t: nowSeconds() - 3_600 };
  return {
    ...a,
    link: () => checkoutCompletedEvent({ customer: a.customer, clientReferenceId: a.userId, created: a.t, id: uid("evt") }),
    sub: (type: SubscriptionEventType, status: string, dt: number, price = PREMIUM) =>
      subscriptionEvent({ type, status, customer: a.customer, created: a.t + dt, id: uid("evt"), ...price }),
    invoice: (type: InvoiceEventType, dt: number, options: { shape?: "current" | "legacy"; price?: PriceOptions } = {}) =>
      invoiceEvent({ type, customer: a.customer, subscription: "sub_it", shape: options.shape ?? "current", created: a.t + dt, id: uid("evt"), ...(options.price ?? PREMIUM) }),
  };
}
type Customer = ReturnType<typeof customer>;

interface Expected {
  tier: string;
  status: string;
  paymentCurrent: boolean;
  /** Grace end as (seconds after `t` of the event that started it, days long). */
  grace?: [number, number];
}

const cases: { name: string; events: (c: Customer) => StripeEventObject[]; expected: Expected }[] = [
  { name: "checkout.session.completed links the customer and grants nothing by itself", events: (c) => [c.link()], expected: { tier: "free", status: "none", paymentCurrent: true } },
  { name: "customer.subscription.created (active) grants the price's tier", events: (c) => [c.link(), c.sub("customer.subscription.created", "active", 10)], expected: { tier: "premium", status: "active", paymentCurrent: true } },
  { name: "customer.subscription.created (trialing) grants the trial", events: (c) => [c.link(), c.sub("customer.subscription.created", "trialing", 10)], expected: { tier: "trial", status: "trialing", paymentCurrent: true } },
  { name: "customer.subscription.updated to a basic price moves to basic", events: (c) => [c.link(), c.sub("customer.subscription.created", "active", 10), c.sub("customer.subscription.updated", "active", 20, BASIC)], expected: { tier: "basic", status: "active", paymentCurrent: true } },
  { name: "customer.subscription.updated (past_due) starts a grace period", events: (c) => [c.link(), c.sub("customer.subscription.created", "active", 10), c.sub("customer.subscription.updated", "past_due", 20)], expected: { tier: "grace_period", status: "past_due", paymentCurrent: false, grace: [20, 14] } },
  { name: "customer.subscription.paused starts a grace period", events: (c) => [c.link(), c.sub("customer.subscription.created", "active", 10), c.sub("customer.subscription.paused", "paused", 20)], expected: { tier: "grace_period", status: "paused", paymentCurrent: false, grace: [20, 14] } },
  { name: "customer.subscription.resumed restores the tier", events: (c) => [c.link(), c.sub("customer.subscription.created", "active", 10), c.sub("customer.subscription.paused", "paused", 20), c.sub("customer.subscription.resumed", "active", 30)], expected: { tier: "premium", status: "active", paymentCurrent: true } },
  { name: "customer.subscription.deleted starts a grace period with nothing owed", events: (c) => [c.link(), c.sub("customer.subscription.created", "active", 10, BASIC), c.sub("customer.subscription.deleted", "canceled", 20, BASIC)], expected: { tier: "grace_period", status: "canceled", paymentCurrent: true, grace: [20, 7] } },
  { name: "invoice.payment_failed starts a grace period keeping the tier to return to", events: (c) => [c.link(), c.sub("customer.subscription.created", "active", 10, BASIC), c.invoice("invoice.payment_failed", 20, { price: BASIC })], expected: { tier: "grace_period", status: "past_due", paymentCurrent: false, grace: [20, 7] } },
  { name: "invoice.payment_succeeded recovers to the tier the price says", events: (c) => [c.link(), c.sub("customer.subscription.created", "active", 10), c.invoice("invoice.payment_failed", 20), c.invoice("invoice.payment_succeeded", 30)], expected: { tier: "premium", status: "active", paymentCurrent: true } },
  { name: "invoice.paid in the older shape (top-level subscription) recovers too", events: (c) => [c.link(), c.sub("customer.subscription.created", "active", 10), c.invoice("invoice.payment_failed", 20, { shape: "legacy" }), c.invoice("invoice.paid", 30, { shape: "legacy" })], expected: { tier: "premium", status: "active", paymentCurrent: true } },
  { name: "an unknown price keeps the user's tier", events: (c) => [c.link(), c.sub("customer.subscription.created", "active", 10), c.sub("customer.subscription.updated", "active", 20, UNKNOWN)], expected: { tier: "premium", status: "active", paymentCurrent: true } },
  { name: "customer.subscription.trial_will_end changes no entitlement", events: (c) => [c.link(), c.sub("customer.subscription.created", "trialing", 10), c.sub("customer.subscription.trial_will_end", "trialing", 20)], expected: { tier: "trial", status: "trialing", paymentCurrent: true } },
];

describe("Stripe events through the gateway", () => {
  it.each(cases)("$name", async ({ events, expected }) => {
    // Prepare
    const c = customer();

    // Act
    await pay.deliver(...events(c));
    await pay.laneDrained();

    // Assess
    const body = await pay.entitlements(c.userId);
    expect({ tier: body.tier, status: body.status, paymentCurrent: body.paymentCurrent }).toEqual({
      tier: expected.tier, status: expected.status, paymentCurrent: expected.paymentCurrent,
    });
    const graceEndsAt = expected.grace ? new Date((c.t + expected.grace[0]) * 1000 + expected.grace[1] * DAY_MS).toISOString() : null;
    expect(body.graceEndsAt).toBe(graceEndsAt);
    expect(body.featureFlags).toEqual(featureFlagsFor(body.tier));
    expect(body.policy).toEqual(policyFor(body.tier));
    expect(body.crisisAccess).toBe(true);
    expect((await pay.customerLink(c.customer))?.userKey).toBe(pay.userKeyOf(c.userId));
  });

  it("links a customer from customer.created metadata and from subscription metadata", async () => {
    // Prepare
    const viaCustomer = customer();
    const viaSubscription = customer();

    // Act
    await pay.deliver(
      customerEvent({ type: "customer.created", customer: viaCustomer.customer, userId: viaCustomer.userId, created: viaCustomer.t, id: uid("evt") }),
      viaCustomer.sub("customer.subscription.created", "active", 10),
      subscriptionEvent({ type: "customer.subscription.created", status: "active", customer: viaSubscription.customer, userId: viaSubscription.userId, created: viaSubscription.t, id: uid("evt"), ...BASIC }),
    );
    await pay.laneDrained();

    // Assess
    expect((await pay.entitlements(viaCustomer.userId)).tier).toBe("premium");
    expect((await pay.entitlements(viaSubscription.userId)).tier).toBe("basic");
    expect((await pay.customerLink(viaSubscription.customer))?.userKey).toBe(pay.userKeyOf(viaSubscription.userId));
  });

  it("records an unhandled event type and acknowledges it with no effect", async () => {
    // Prepare
    const c = customer();
    const event = stripeEvent("charge.succeeded", { id: uid("ch"), object: "charge", customer: c.customer, amount: 2000 }, { id: uid("evt"), created: c.t });

    // Act
    const response = await pay.post(event);

    // Assess
    expect(response.status).toBe(200);
    expect(await pay.eventRecord(event.id)).toMatchObject({ status: "ignored", eventType: "charge.succeeded", customerKey: pay.customerKeyOf(c.customer) });
    expect((await pay.entitlements(c.userId)).tier).toBe("free");
  });

  it("sends every change to all the user's devices, with only tier, status, grace end and paymentCurrent (and the episode's notice)", async () => {
    // Prepare
    const c = customer();
    const [phone, tablet] = [uid("phone"), uid("tablet")];
    await pay.registerDevices(c.userId, [phone, tablet]);

    // Act
    await pay.deliver(c.link(), c.sub("customer.subscription.created", "active", 10), c.invoice("invoice.payment_failed", 20));
    await pay.laneDrained();

    // Assess
    for (const deviceId of [phone, tablet]) {
      const feed = await pay.feedOf(c.userId, deviceId);
      expect(feed.map((f) => [f.entityType, f.priority, f.originDeviceId])).toEqual([
        ...["payment_state", "feature_flags", "sync_policy"].map((t) => [t, 7, "server"]),
        ...["payment_state", "feature_flags", "sync_policy"].map((t) => [t, 7, "server"]),
      ]);
      const states = feed.filter((f) => f.entityType === "payment_state");
      expect(states.map((s) => s.payload)).toEqual([
        { tier: "premium", status: "active", graceEndsAt: null, paymentCurrent: true },
        { tier: "grace_period", status: "past_due", graceEndsAt: new Date((c.t + 20) * 1000 + 14 * DAY_MS).toISOString(), paymentCurrent: false, notice: "billing_issue" },
      ]);
      expect(feed.filter((f) => f.entityType === "sync_policy").map((f) => f.payload)).toEqual([policyFor("premium"), policyFor("grace_period")]);
      expect(feed.filter((f) => f.entityType === "feature_flags").map((f) => f.payload)).toEqual([featureFlagsFor("premium"), featureFlagsFor("grace_period")]);
    }
    const stored = JSON.stringify([await pay.storedState(c.userId), await pay.customerLink(c.customer), await pay.feedOf(c.userId, phone)]);
    for (const secret of [c.customer, c.userId, "sub_it", "example@example.com", "cus_", "evt_"]) expect(stored).not.toContain(secret);
  });

  it("a device pulls its tier change through /v1/sync/pull", async () => {
    // Prepare
    const c = customer();
    const phone = uid("phone");
    await pay.registerDevices(c.userId, [phone]);
    await pay.deliver(c.link(), c.sub("customer.subscription.created", "active", 10, BASIC));
    await pay.laneDrained();

    // Act
    const response = await rt.request("GET", `/v1/sync/pull?cursor=${encodeCursor(0)}`, { token: await rt.token(c.userId), headers: { "x-device-id": phone } });

    // Assess
    expect(response.status, response.text).toBe(200);
    // The cursor names no crisis directory version, so the page carries the directory first.
    expect(response.json.changes.map((ch: any) => [ch.entityType, ch.priority, ch.originDeviceId])).toEqual(
      ["crisis_directory", "payment_state", "feature_flags", "sync_policy"].map((t) => [t, 7, null]),
    );
    expect(response.json.changes[1].payload).toEqual({ tier: "basic", status: "active", graceEndsAt: null, paymentCurrent: true });
    expect(response.json.minIntervalMs).toBe(policyFor("basic").minPullIntervalMs);
  });

  it("syncs customer.subscription.trial_will_end to devices as a notice", async () => {
    // Prepare
    const c = customer();
    const phone = uid("phone");
    await pay.registerDevices(c.userId, [phone]);
    await pay.deliver(c.link(), c.sub("customer.subscription.created", "trialing", 10));

    // Act
    await pay.deliver(c.sub("customer.subscription.trial_will_end", "trialing", 20));
    await pay.laneDrained();

    // Assess
    const notices = (await pay.feedOf(c.userId, phone)).filter((f) => f.entityType === "payment_state").map((f) => f.payload);
    expect(notices.at(-1)).toEqual({ tier: "trial", status: "trialing", graceEndsAt: null, paymentCurrent: true, notice: "trial_will_end" });
  });

  it("the billing-issue notice reaches devices once per episode: the first failure, not its retries or redeliveries", async () => {
    // Prepare
    const c = customer();
    const phone = uid("phone");
    await pay.registerDevices(c.userId, [phone]);
    const firstFailure = c.invoice("invoice.payment_failed", 20, { price: BASIC });
    await pay.deliver(c.link(), c.sub("customer.subscription.created", "active", 10, BASIC));

    // Act: a failure, its redelivery and Stripe's failed retry; then a recovery and a new failure.
    await pay.deliver(firstFailure, firstFailure, c.invoice("invoice.payment_failed", 30, { price: BASIC }));
    await pay.laneDrained();
    const duringFirst = (await pay.feedOf(c.userId, phone)).filter((f) => f.entityType === "payment_state").map((f) => f.payload);
    await pay.deliver(c.invoice("invoice.paid", 40, { price: BASIC }), c.invoice("invoice.payment_failed", 50, { price: BASIC }));
    await pay.laneDrained();
    const all = (await pay.feedOf(c.userId, phone)).filter((f) => f.entityType === "payment_state").map((f) => f.payload);

    // Assess
    const withNotice = (payloads: unknown[]) => payloads.filter((p) => (p as { notice?: string }).notice === "billing_issue");
    expect(withNotice(duringFirst)).toEqual([
      { tier: "grace_period", status: "past_due", graceEndsAt: expect.any(String), paymentCurrent: false, notice: "billing_issue" },
    ]);
    expect(withNotice(all)).toHaveLength(2);
    expect((await pay.entitlements(c.userId)).billingIssueDetectedAt).toBe(new Date((c.t + 50) * 1000).toISOString());
  });

  it("a duplicate Stripe event changes nothing", async () => {
    // Prepare
    const c = customer();
    const phone = uid("phone");
    await pay.registerDevices(c.userId, [phone]);
    const created = c.sub("customer.subscription.created", "active", 10);
    await pay.deliver(c.link(), created);
    await pay.laneDrained();
    const before = { state: await pay.storedState(c.userId), feed: await pay.feedOf(c.userId, phone) };

    // Act
    const again = await pay.post(created);
    await pay.laneDrained();

    // Assess
    expect(again.status).toBe(200);
    expect(again.json).toEqual({ received: true, duplicate: true });
    expect({ state: await pay.storedState(c.userId), feed: await pay.feedOf(c.userId, phone) }).toEqual(before);
  });

  it("a message delivered twice past the edge is applied once", async () => {
    // Prepare: the same lane message under two dedup ids, as after a lost acknowledgement
    const c = customer();
    await pay.deliver(c.link());
    await pay.laneDrained();
    const message = {
      v: 1, eventId: uid("evt"), eventType: "customer.subscription.created", createdSeconds: c.t + 10,
      customerKey: pay.customerKeyOf(c.customer), mapPriceIds: [], enqueuedAtMs: Date.now(),
      fact: { kind: "subscription", action: "created", status: "active", price: { tier: "premium", priceId: "price_it_premium", source: "lookup_key" }, trialEndsAt: null },
    };

    // Act
    for (const dedup of ["first", "second"]) {
      await rt.sqs.send(new SendMessageCommand({
        QueueUrl: rt.resources.queues.Webhooks.url, MessageBody: JSON.stringify(message),
        MessageGroupId: message.customerKey, MessageDeduplicationId: `${message.eventId}-${dedup}`,
      }));
    }
    await pay.laneDrained();

    // Assess
    const stored = await pay.storedState(c.userId);
    expect(stored).toMatchObject({ tier: "premium", version: 1, entitlementVersion: 1 });
  });
});

describe("entitlements caching (SPEC 3.1)", () => {
  it("a failed payment carries billingIssueDetectedAt and a validUntil within the grace period", async () => {
    // Prepare
    const c = customer();
    await pay.deliver(c.link(), c.sub("customer.subscription.created", "active", 10, BASIC), c.invoice("invoice.payment_failed", 20, { price: BASIC }));
    await pay.laneDrained();

    // Act
    const body = await pay.entitlements(c.userId);

    // Assess
    expect(body.tier).toBe("grace_period");
    expect(body.billingIssueDetectedAt).toBe(new Date((c.t + 20) * 1000).toISOString());
    expect(Date.parse(body.validUntil)).toBeLessThanOrEqual(Date.parse(body.graceEndsAt));
  });

  it("a basic user whose failed invoice says Stripe retries in 12 days stays in grace at least until then", async () => {
    // Prepare: basic's own grace is 7 days; Stripe's Smart Retries may still collect on day 12.
    const c = customer();
    const retryAt = c.t + 20 + 12 * 86_400;
    const failed = invoiceEvent({
      type: "invoice.payment_failed", customer: c.customer, subscription: "sub_it", shape: "current", created: c.t + 20, id: uid("evt"),
      nextPaymentAttempt: retryAt, ...BASIC,
    });
    await pay.deliver(c.link(), c.sub("customer.subscription.created", "active", 10, BASIC), failed);
    await pay.laneDrained();

    // Act
    const body = await pay.entitlements(c.userId);

    // Assess
    expect(body.tier).toBe("grace_period");
    expect(Date.parse(body.graceEndsAt)).toBeGreaterThanOrEqual(retryAt * 1000);
    expect((await pay.storedState(c.userId))?.graceEndsAt).toBe(Date.parse(body.graceEndsAt));
  });
});
