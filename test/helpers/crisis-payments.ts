import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import Stripe from "stripe";
import { expect } from "vitest";
import { eventually, type useRuntime } from "./runtime.js";
import { subscriptionEvent, testId, type StripeEventObject } from "./stripe-factories.js";

export type PaidState = "premium" | "grace_period";

/** Whether the payments issue has landed its webhook worker (it starts as a placeholder). */
export function paymentsLanded(): boolean {
  const source = readFileSync(resolve(import.meta.dirname, "../../functions/workers/webhook-worker.ts"), "utf8");
  return !source.includes("placeholder until its issue lands");
}

async function deliver(rt: ReturnType<typeof useRuntime>, event: StripeEventObject) {
  const payload = JSON.stringify(event);
  const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret: rt.secrets.stripeWebhookSecret });
  const response = await rt.request("POST", "/webhooks/stripe", { body: payload, headers: { "stripe-signature": signature } });
  expect(response.status).toBe(200);
}

/** Puts a user on premium, or premium then into a grace period, through signed Stripe webhooks. */
export async function setTier(rt: ReturnType<typeof useRuntime>, userId: string, state: PaidState): Promise<void> {
  const customer = testId("cus");
  const subscriptionId = testId("sub");
  const created = Math.floor(Date.now() / 1000) - 60;
  const common = { customer, userId, subscriptionId, priceLookupKey: "premium_monthly", priceMetadataTier: "premium" };
  await deliver(rt, subscriptionEvent({ ...common, type: "customer.subscription.created", status: "active", created }));
  if (state === "grace_period") {
    await deliver(rt, subscriptionEvent({ ...common, type: "customer.subscription.updated", status: "past_due", created: created + 10 }));
  }
  const token = await rt.token(userId);
  await eventually(async () => {
    const response = await rt.request("GET", "/v1/me/entitlements", { token });
    return response.status === 200 && response.json.tier === state ? true : undefined;
  });
}
