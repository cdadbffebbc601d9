import { createHash, randomBytes } from "node:crypto";
import type { Context, Output } from "./commands.js";
import { CliError } from "./service.js";
import type { PaidTier } from "./state.js";
import {
  checkoutCompletedEvent, fixtureSource, invoiceEvent, subscriptionEvent, type StripeEventObject,
} from "./stripe-events.js";

/**
 * Stripe's side of a subscription, as signed webhooks built from the real object shapes:
 * `subscribe` (checkout + subscription created), `upgrade` (subscription updated to another
 * price), `fail` (a renewal invoice fails), `recover` (it is paid), `cancel` (subscription
 * deleted). The customer and subscription ids are derived from the user id, so every command
 * speaks of the same subscription; each then waits for the tier the service should reach.
 */
const PRICES: Record<Exclude<PaidTier, "trial">, { priceId: string; priceLookupKey: string; priceMetadataTier: string }> = {
  basic: { priceId: "price_sim_basic_monthly", priceLookupKey: "basic_monthly", priceMetadataTier: "basic" },
  premium: { priceId: "price_sim_premium_monthly", priceLookupKey: "premium_monthly", priceMetadataTier: "premium" },
};
const WAIT_MS = 15_000;

/** Event ids are the service's exactly-once key, so they must be unique across runs (the factories' counter is not). */
const eventId = (): string => `evt_sim${Date.now().toString(36)}${randomBytes(6).toString("hex")}`;

function stripeIds(userId: string) {
  const digest = createHash("sha256").update(`paysync-simulator:${userId}`).digest("hex").slice(0, 14);
  return { customer: `cus_sim${digest}`, subscriptionId: `sub_sim${digest}` };
}

function paidTier(ctx: Context, fallback: "basic" | "premium"): "basic" | "premium" {
  const given = ctx.options.tier;
  if (given === undefined) return fallback;
  if (given === "basic" || given === "premium") return given;
  throw new CliError("--tier must be basic or premium (add --trial to subscribe with a trial)", 2);
}

/** The paid tier the user's subscription is on, as the simulator remembers it (basic if unknown). */
function currentPrice(ctx: Context): "basic" | "premium" {
  const tier = ctx.store.user(ctx.user).tier;
  return tier === "premium" ? "premium" : "basic";
}

function plan(ctx: Context, action: string | undefined): { events: StripeEventObject[]; expect: string; remember?: PaidTier } {
  const { customer, subscriptionId } = stripeIds(ctx.user);
  const common = { customer, userId: ctx.user, subscriptionId };
  const at = () => ctx.store.nextEventTime();
  switch (action) {
    case "subscribe": {
      const tier = paidTier(ctx, "basic");
      const trial = ctx.options.trial === true;
      return {
        events: [
          checkoutCompletedEvent({ customer, clientReferenceId: ctx.user, subscription: subscriptionId, created: at(), id: eventId() }),
          subscriptionEvent({ ...common, ...PRICES[tier], type: "customer.subscription.created", status: trial ? "trialing" : "active", created: at(), id: eventId() }),
        ],
        expect: trial ? "trial" : tier,
        remember: tier,
      };
    }
    case "upgrade": {
      const tier = paidTier(ctx, "premium");
      return { events: [subscriptionEvent({ ...common, ...PRICES[tier], type: "customer.subscription.updated", status: "active", created: at(), id: eventId() })], expect: tier, remember: tier };
    }
    case "fail": {
      const tier = currentPrice(ctx);
      const event = invoiceEvent({ ...common, ...PRICES[tier], subscription: subscriptionId, type: "invoice.payment_failed", shape: "current", billingReason: "subscription_cycle", created: at(), id: eventId() });
      return { events: [event], expect: "grace_period" };
    }
    case "recover": {
      const tier = currentPrice(ctx);
      const event = invoiceEvent({ ...common, ...PRICES[tier], subscription: subscriptionId, type: "invoice.payment_succeeded", shape: "current", billingReason: "subscription_cycle", created: at(), id: eventId() });
      return { events: [event], expect: tier };
    }
    case "cancel": {
      const tier = currentPrice(ctx);
      return { events: [subscriptionEvent({ ...common, ...PRICES[tier], type: "customer.subscription.deleted", status: "canceled", created: at(), id: eventId() })], expect: "grace_period" };
    }
    default:
      throw new CliError("usage: paysync stripe subscribe|upgrade|fail|recover|cancel [--tier basic|premium] [--trial] [--no-wait]", 2);
  }
}

async function waitForTier(ctx: Context, tier: string): Promise<{ tier: string; status: string; graceEndsAt: string | null; waitedMs: number }> {
  const started = Date.now();
  for (;;) {
    const answer = await ctx.client.call("GET", "/v1/me/entitlements", [200], { user: ctx.user });
    const e = answer.json as { tier: string; status: string; graceEndsAt: string | null };
    if (e.tier === tier) return { tier: e.tier, status: e.status, graceEndsAt: e.graceEndsAt, waitedMs: Date.now() - started };
    if (Date.now() - started > WAIT_MS) {
      throw new CliError(`the events were accepted, but after ${WAIT_MS / 1000} s user ${ctx.user} is on ${e.tier}, not ${tier} (is the Webhooks lane draining? see /ops)`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function stripe(ctx: Context, action: string | undefined): Promise<Output> {
  const { events, expect, remember } = plan(ctx, action);
  const sent = [];
  const lines = [];
  for (const event of events) {
    const answer = await ctx.client.sendStripeEvent(event);
    const duplicate = (answer.json as { duplicate?: boolean } | undefined)?.duplicate === true;
    sent.push({ id: event.id, type: event.type, created: event.created, duplicate });
    lines.push(`sent ${event.type} (${event.id}, signed) → 200${duplicate ? " duplicate" : ""}`);
  }
  if (remember) ctx.store.setTier(ctx.user, remember);
  const data: Record<string, unknown> = { user: ctx.user, events: sent, expectedTier: expect, fixtures: fixtureSource() };
  if (ctx.options["no-wait"] === true) return { data, lines: [...lines, `expected tier once applied: ${expect}`] };
  const reached = await waitForTier(ctx, expect);
  const grace = reached.graceEndsAt ? `, grace period ends ${reached.graceEndsAt}` : "";
  return {
    data: { ...data, ...reached },
    lines: [...lines, `user ${ctx.user}: tier ${reached.tier} (${reached.status})${grace} — applied in ${(reached.waitedMs / 1000).toFixed(1)} s`],
  };
}
