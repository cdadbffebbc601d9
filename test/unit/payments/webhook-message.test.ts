import { describe, expect, it } from "vitest";
import { EntitlementsResponseSchema } from "@paysync/core/api/account";
import {
  applyFact,
  eventMetaOf,
  extractStripeFacts,
  initialPaymentState,
  parseStripeEvent,
  type PriceTierMap,
  type StripeFact,
} from "@paysync/core/payments";
import { entitlementsFor, serverEntityChanges } from "@paysync/core/payments/entitlements";
import { coreFactOf, recordingPriceMap, webhookMessageOf, WebhookMessageSchema } from "@paysync/aws/payments/webhook-message";
import {
  checkoutCompletedEvent,
  invoiceEvent,
  subscriptionEvent,
  type StripeEventObject,
} from "../../helpers/stripe-factories.js";

const priceTiers: PriceTierMap = { price_map_basic: "basic", price_map_premium: "premium" };
const T0 = 1_750_000_000;
const pseudonym = (id: string, prefix: "u" | "c") => `${prefix}_${Buffer.from(id).toString("hex").padEnd(32, "0").slice(0, 32)}`;

/** What the webhook function enqueues for an event, and what the worker makes of it. */
function throughTheLane(event: StripeEventObject): { fact: StripeFact; body: string } {
  const recorder = recordingPriceMap();
  const fact = extractStripeFacts(event, { priceTiers: recorder.map });
  if (fact.kind === "ignored") throw new Error("expected a handled event");
  const meta = { ...eventMetaOf(parseStripeEvent(event)), eventType: event.type };
  const message = webhookMessageOf(fact, meta, { customerKey: pseudonym(fact.customerId, "c"), userKeyOf: (id) => pseudonym(id, "u") }, recorder.askedFor(), 0);
  const body = JSON.stringify(message);
  return { fact: coreFactOf(WebhookMessageSchema.parse(JSON.parse(body)), priceTiers), body };
}

describe("the Webhooks lane message", () => {
  it.each([
    { name: "a price resolved by lookup_key", event: subscriptionEvent({ type: "customer.subscription.created", status: "active", customer: "cus_1", created: T0, priceId: "price_x", priceLookupKey: "basic_monthly" }) },
    { name: "a price only the configured map knows", event: subscriptionEvent({ type: "customer.subscription.updated", status: "active", customer: "cus_1", created: T0, priceId: "price_map_premium" }) },
    { name: "an unknown price", event: subscriptionEvent({ type: "customer.subscription.updated", status: "past_due", customer: "cus_1", created: T0, priceId: "price_nobody_knows" }) },
    { name: "an unexpanded invoice price (current shape)", event: invoiceEvent({ type: "invoice.paid", customer: "cus_1", subscription: "sub_1", shape: "current", created: T0, priceId: "price_map_basic" }) },
    {
      name: "an invoice where the map's premium line beats the metadata's basic line",
      event: invoiceEvent({ type: "invoice.payment_succeeded", customer: "cus_1", subscription: "sub_1", shape: "legacy", created: T0, lines: [{ priceId: "price_md", priceMetadataTier: "basic" }, { priceId: "price_map_premium" }] }),
    },
    { name: "a legacy invoice with metadata userId", event: invoiceEvent({ type: "invoice.payment_failed", customer: "cus_1", subscription: "sub_1", shape: "legacy", created: T0, userId: "user-1", priceId: "price_map_basic" }) },
  ])("resolves $name exactly as the price map would at the edge", ({ event }) => {
    // Prepare
    const direct = extractStripeFacts(event, { priceTiers });

    // Act
    const { fact } = throughTheLane(event);

    // Assess
    expect(fact.kind).toBe(direct.kind);
    if (fact.kind === "ignored" || fact.kind === "customer_link" || direct.kind === "ignored" || direct.kind === "customer_link") return;
    expect(fact.price?.tier).toBe(direct.price?.tier);
    expect(fact.price?.configurationError).toBe(direct.price?.configurationError);
    expect(applyFact(undefined, fact, { eventId: "evt_1", createdSeconds: T0 }, T0 * 1000).state)
      .toEqual(applyFact(undefined, direct, { eventId: "evt_1", createdSeconds: T0 }, T0 * 1000).state);
  });

  it("carries Stripe's next retry of a failed invoice, and a message enqueued before it carried one reads as none", () => {
    // Prepare
    const event = invoiceEvent({ type: "invoice.payment_failed", customer: "cus_1", subscription: "sub_1", shape: "current", created: T0, priceId: "price_map_basic", nextPaymentAttempt: T0 + 12 * 86_400 });
    const { body } = throughTheLane(event);
    const older = JSON.parse(body) as { fact: Record<string, unknown> };
    delete older.fact["nextPaymentAttemptAt"];

    // Act
    const { fact } = throughTheLane(event);
    const fromOlder = coreFactOf(WebhookMessageSchema.parse(older), priceTiers);

    // Assess
    expect(fact).toMatchObject({ kind: "invoice", nextPaymentAttemptAt: (T0 + 12 * 86_400) * 1000 });
    expect(fromOlder).toMatchObject({ kind: "invoice", nextPaymentAttemptAt: null });
  });

  it("carries no email, Stripe customer, subscription or user id", () => {
    // Prepare
    const events = [
      checkoutCompletedEvent({ customer: "cus_secret", clientReferenceId: "user-secret", created: T0 }),
      subscriptionEvent({ type: "customer.subscription.created", status: "active", customer: "cus_secret", userId: "user-secret", subscriptionId: "sub_secret", created: T0 }),
      invoiceEvent({ type: "invoice.payment_failed", customer: "cus_secret", subscription: "sub_secret", shape: "current", userId: "user-secret", created: T0 }),
    ];

    // Act
    const bodies = events.map((event) => throughTheLane(event).body).join("\n");

    // Assess
    for (const secret of ["cus_secret", "user-secret", "sub_secret", "@"]) expect(bodies).not.toContain(secret);
  });
});

describe("what devices are told", () => {
  const active = applyFact(undefined, extractStripeFacts(subscriptionEvent({ type: "customer.subscription.created", status: "active", customer: "c", created: T0, priceLookupKey: "premium_m" }), { priceTiers }), { eventId: "e1", createdSeconds: T0 }, T0 * 1000).state;
  const failed = applyFact(active, extractStripeFacts(invoiceEvent({ type: "invoice.payment_failed", customer: "c", subscription: "s", shape: "current", created: T0 + 60, priceLookupKey: "premium_m" }), { priceTiers }), { eventId: "e2", createdSeconds: T0 + 60 }, T0 * 1000).state;

  it.each([
    { name: "a user Stripe never heard of", state: undefined, tier: "free" },
    { name: "an initial state", state: initialPaymentState(), tier: "free" },
    { name: "an active premium subscription", state: active, tier: "premium" },
    { name: "a grace period", state: failed, tier: "grace_period" },
  ])("entitlements of $name validate against the wire schema", ({ state, tier }) => {
    // Act
    const body = entitlementsFor(state, T0 * 1000 + 120_000);

    // Assess
    expect(EntitlementsResponseSchema.parse(body)).toEqual(body);
    expect(body.tier).toBe(tier);
    expect(body.crisisAccess).toBe(true);
  });

  it("a grace period that ran out reads as free before the job runs", () => {
    // Act
    const body = entitlementsFor(failed, (failed.graceEndsAt ?? 0) + 1);

    // Assess
    expect(body).toMatchObject({ tier: "free", graceEndsAt: null, paymentCurrent: false });
  });

  it("payment_state carries only tier, status, grace end and paymentCurrent", () => {
    // Act
    const changes = serverEntityChanges(failed, T0 * 1000 + 120_000);
    const notice = serverEntityChanges(active, T0 * 1000, "trial_will_end");

    // Assess
    expect(changes.map((c) => c.entityType)).toEqual(["payment_state", "feature_flags", "sync_policy"]);
    expect(Object.keys(changes[0]!.payload).sort()).toEqual(["graceEndsAt", "paymentCurrent", "status", "tier"]);
    expect(notice).toEqual([{ entityType: "payment_state", payload: { tier: "premium", status: "active", graceEndsAt: null, paymentCurrent: true, notice: "trial_will_end" } }]);
  });
});
