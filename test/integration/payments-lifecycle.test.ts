import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import { nowSeconds, paymentsHarness, uid } from "../helpers/payments.js";
import { useRuntime } from "../helpers/runtime.js";
import { checkoutCompletedEvent, invoiceEvent, subscriptionEvent, type InvoiceEventType } from "../helpers/stripe-factories.js";
import { paymentStateKey } from "@paysync/aws/store/keys";

const rt = useRuntime();
const pay = paymentsHarness(rt);
const DAY_MS = 86_400_000;
const PREMIUM = { priceId: "price_it_premium", priceLookupKey: "premium_monthly" };

function customer() {
  const a = { customer: uid("cus"), userId: uid("user"), t: nowSeconds() - 7_200 };
  return {
    ...a,
    link: (dt = 0) => checkoutCompletedEvent({ customer: a.customer, userId: a.userId, created: a.t + dt, id: uid("evt") }),
    created: (dt: number) => subscriptionEvent({ type: "customer.subscription.created", status: "active", customer: a.customer, created: a.t + dt, id: uid("evt"), ...PREMIUM }),
    invoice: (type: InvoiceEventType, dt: number) =>
      invoiceEvent({ type, customer: a.customer, subscription: "sub_it", shape: "current", created: a.t + dt, id: uid("evt"), ...PREMIUM }),
  };
}

describe("payment lifecycle", () => {
  it("parks subscription events that arrive before the checkout link, then applies them in order", async () => {
    // Prepare
    const c = customer();
    const phone = uid("phone");
    await pay.registerDevices(c.userId, [phone]);
    await pay.deliver(c.created(10), c.invoice("invoice.payment_failed", 20));
    await pay.laneDrained();
    const parked = await pay.parked(c.customer);
    const before = await pay.entitlements(c.userId);

    // Act
    await pay.deliver(c.link(30));
    await pay.laneDrained();

    // Assess
    expect(parked).toHaveLength(2);
    expect(before.tier).toBe("free");
    expect(await pay.parked(c.customer)).toEqual([]);
    const after = await pay.entitlements(c.userId);
    expect(after).toMatchObject({ tier: "grace_period", status: "past_due", paymentCurrent: false });
    const states = (await pay.feedOf(c.userId, phone)).filter((f) => f.entityType === "payment_state").map((f) => f.payload as { tier: string });
    expect(states.map((s) => s.tier)).toEqual(["premium", "grace_period"]);
  });

  it("payment_failed starts a grace period with the right end, payment_succeeded restores, a later failure shortens it", async () => {
    // Prepare
    const c = customer();
    await pay.deliver(c.link(), c.created(10));
    await pay.laneDrained();
    const steps: { event: ReturnType<typeof c.invoice>; expected: Record<string, unknown> }[] = [
      { event: c.invoice("invoice.payment_failed", 100), expected: { tier: "grace_period", status: "past_due", paymentCurrent: false, graceEndsAt: new Date((c.t + 100) * 1000 + 14 * DAY_MS).toISOString() } },
      { event: c.invoice("invoice.payment_succeeded", 200), expected: { tier: "premium", status: "active", paymentCurrent: true, graceEndsAt: null } },
      // One earlier failure in the last 180 days: 14 × 0.75 = 10.5 days.
      { event: c.invoice("invoice.payment_failed", 300), expected: { tier: "grace_period", status: "past_due", paymentCurrent: false, graceEndsAt: new Date((c.t + 300) * 1000 + 10.5 * DAY_MS).toISOString() } },
    ];

    for (const step of steps) {
      // Act
      await pay.deliver(step.event);
      await pay.laneDrained();

      // Assess
      expect(await pay.entitlements(c.userId)).toMatchObject(step.expected);
    }
  });

  it("a late, older event changes nothing", async () => {
    // Prepare
    const c = customer();
    await pay.deliver(c.link(), c.created(10), c.invoice("invoice.payment_failed", 100), c.invoice("invoice.payment_succeeded", 200));
    await pay.laneDrained();
    const before = await pay.storedState(c.userId);

    // Act: a payment from before the failure, delivered last
    await pay.deliver(c.invoice("invoice.payment_succeeded", 50));
    await pay.laneDrained();

    // Assess
    expect(await pay.storedState(c.userId)).toEqual(before);
  });
});

describe("state items written by others", () => {
  it("a state item with only top-level tier and status (as the sync suite seeds it) reads and takes the next event", async () => {
    // Prepare
    const c = customer();
    await rt.dynamo.send(new PutCommand({
      TableName: rt.resources.tables.Payments,
      Item: { ...paymentStateKey(pay.userKeyOf(c.userId)), tier: "premium", status: "active" },
    }));
    const seeded = await pay.entitlements(c.userId);

    // Act
    await pay.deliver(c.link(), c.invoice("invoice.payment_failed", 100));
    await pay.laneDrained();

    // Assess
    expect(seeded).toMatchObject({ tier: "premium", status: "active" });
    expect(await pay.entitlements(c.userId)).toMatchObject({
      tier: "grace_period", status: "past_due", graceEndsAt: new Date((c.t + 100) * 1000 + 14 * DAY_MS).toISOString(),
    });
  });
});

describe("webhook rejections", () => {
  const STALE_SECONDS = 301;
  const cases = [
    { name: "a signature made with another secret", options: { secret: "whsec_forged_forged_forged" }, reason: "invalid_signature" },
    { name: "a stale signature timestamp", options: { timestamp: nowSeconds() - STALE_SECONDS }, reason: "stale_signature" },
    { name: "a signature timestamp an hour in the future", options: { timestamp: nowSeconds() + 3_600 }, reason: "stale_signature" },
    { name: "a signature timestamp past the tolerance ahead (by a margin that survives a slow collection)", options: { timestamp: nowSeconds() + STALE_SECONDS + 90 }, reason: "stale_signature" },
    { name: "no signature header", options: { header: null }, reason: "invalid_signature" },
    { name: "a garbage signature header", options: { header: "t=1,v1=deadbeef" }, reason: "invalid_signature" },
    { name: "a correctly signed body that is not JSON", options: {}, body: (id: string) => `{"id":"${id}","type":"checkout.session.completed",`, reason: "malformed_json" },
    { name: "a correctly signed handled event with a malformed object", options: {}, body: (id: string) => JSON.stringify({ id, type: "customer.subscription.created", created: nowSeconds(), data: { object: { status: "active" } } }) },
    { name: "a correctly signed body that is no Stripe event", options: {}, body: (id: string) => JSON.stringify({ id, created: "yesterday" }) },
  ];

  it.each(cases)("rejects $name with 400 and stores nothing", async ({ options, body, reason }) => {
    // Prepare
    const c = customer();
    const event = c.link();
    const payload = body ? body(event.id) : event;

    // Act
    const response = await pay.post(payload, options);
    await pay.laneDrained();

    // Assess
    expect(response.status).toBe(400);
    expect(response.json.error.code).toBe("validation_error");
    if (reason) expect(response.json.error.details).toEqual({ reason });
    expect(await pay.eventRecord(event.id)).toBeUndefined();
    expect(await pay.customerLink(c.customer)).toBeUndefined();
    expect(await pay.parked(c.customer)).toEqual([]);
    expect(await pay.storedState(c.userId)).toBeUndefined();
  });
});
