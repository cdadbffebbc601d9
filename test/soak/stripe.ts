import Stripe from "stripe";
import {
  checkoutCompletedEvent, customerEvent, invoiceEvent, subscriptionEvent, type StripeEventObject,
} from "@paysync/local/simulator/stripe-events";
import type { SoakUser } from "./devices.js";
import type { SoakService } from "./service.js";

/**
 * Stripe's side of the soak: per user a subscription's life (link, subscribe, a failed and a
 * recovered payment, then a final change), delivered shuffled, some events two or three
 * times, each delivery retried on 5xx as Stripe retries. The final state must be the last
 * event's (by Stripe's `created`), whatever the order and the duplicates.
 */
export interface StripeStream {
  user: SoakUser;
  events: StripeEventObject[];
  expected: { tier: string; status: string };
}

const FINALS = [
  { status: "active", lookupKey: "basic_monthly", expected: { tier: "basic", status: "active" } },
  { status: "past_due", lookupKey: "premium_monthly", expected: { tier: "grace_period", status: "past_due" } },
  { status: "active", lookupKey: "premium_monthly", expected: { tier: "premium", status: "active" } },
] as const;

export function stripeStream(user: SoakUser, index: number, runId: string): StripeStream {
  const customer = `cus_soak_${runId}_${index}`;
  const subscription = `sub_soak_${runId}_${index}`;
  const t0 = Math.floor(Date.now() / 1000) - 3_600;
  const id = (n: number) => `evt_soak_${runId}_${index}_${n}`;
  const final = FINALS[index % FINALS.length]!;
  const base = { customer, subscriptionId: subscription, userId: user.userId };
  const events = [
    customerEvent({ type: "customer.created", customer, userId: user.userId, created: t0, id: id(1) }),
    checkoutCompletedEvent({ customer, userId: user.userId, subscription, created: t0 + 5, id: id(2) }),
    subscriptionEvent({ ...base, type: "customer.subscription.created", status: "active", priceLookupKey: "premium_monthly", created: t0 + 10, id: id(3) }),
    invoiceEvent({ type: "invoice.payment_failed", customer, subscription, shape: "current", created: t0 + 20, priceLookupKey: "premium_monthly", id: id(4) }),
    invoiceEvent({ type: "invoice.paid", customer, subscription, shape: "legacy", created: t0 + 30, priceLookupKey: "premium_monthly", id: id(5) }),
    subscriptionEvent({ ...base, type: "customer.subscription.updated", status: final.status, priceLookupKey: final.lookupKey, created: t0 + 40, id: id(6) }),
  ];
  return { user, events, expected: final.expected };
}

export interface StripeStats {
  deliveries: number;
  faults: number;
  violations: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Delivers a stream over `spreadMs`: shuffled, 30 % of events twice and 10 % three times,
 * each delivery retried (fresh signature) until a 2xx or `giveUpAt`.
 */
export async function deliver(svc: SoakService, stream: StripeStream, spreadMs: number, giveUpAt: number, stats: StripeStats) {
  const deliveries = stream.events.flatMap((event) => [event, ...(Math.random() < 0.3 ? [event] : []), ...(Math.random() < 0.1 ? [event] : [])]);
  await Promise.all(deliveries.map(async (event) => {
    await sleep(Math.random() * spreadMs);
    const payload = JSON.stringify(event);
    for (let attempt = 0; Date.now() < giveUpAt; attempt++) {
      stats.deliveries += 1;
      const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret: svc.secrets.stripeWebhookSecret });
      const answer = await svc.request("POST", "/webhooks/stripe", { body: payload, headers: { "stripe-signature": signature } });
      if (answer.status >= 200 && answer.status < 300) return;
      if (answer.status !== 0 && answer.status < 500) {
        stats.violations.push(`Stripe event ${event.type} answered ${answer.status}: ${JSON.stringify(answer.json).slice(0, 200)}`);
        return;
      }
      stats.faults += 1;
      await sleep(Math.min(5_000, 250 * 2 ** Math.min(attempt, 5)));
    }
    stats.violations.push(`Stripe event ${event.id} never acknowledged`);
  }));
}
