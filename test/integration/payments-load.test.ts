import { beforeAll, describe, expect, it } from "vitest";
import type { StripeFact } from "@paysync/core/payments";
import { nowSeconds, paymentsHarness, uid } from "../helpers/payments.js";
import { eventually, useRuntime } from "../helpers/runtime.js";
import { checkoutCompletedEvent, subscriptionEvent } from "../helpers/stripe-factories.js";

const rt = useRuntime();
const pay = paymentsHarness(rt);
let newApplier: () => import("@paysync/aws/payments/payment-applier").PaymentApplier;

beforeAll(async () => {
  Object.assign(process.env, rt.handlerEnv());
  const { PaymentApplier } = await import("@paysync/aws/payments/payment-applier");
  const { wiring } = await import("@paysync/aws/wiring");
  newApplier = () => new PaymentApplier(wiring.paymentPorts());
});

const failure = (): StripeFact => ({
  kind: "invoice", eventType: "invoice.payment_failed", action: "payment_failed", customerId: "c_unused", subscriptionId: "",
  price: { tier: "premium", priceId: "price_it_premium", source: "lookup_key" }, firstInvoice: false, zeroTotal: false, nextPaymentAttemptAt: null,
});

describe("payment state under load", () => {
  it("concurrent writers to one user's state never lose an update", async () => {
    // Prepare: ten workers, each applying a different failure to the same user at once
    const userId = uid("user");
    const userKey = pay.userKeyOf(userId);
    const t = nowSeconds() - 3_600;
    const workers = Array.from({ length: 10 }, () => newApplier());

    // Act
    const results = await Promise.all(workers.map((worker, i) => worker.applyFact(userKey, failure(), { eventId: uid("evt"), createdSeconds: t + i })));

    // Assess
    const stored = await pay.storedState(userId);
    expect(results.every((r) => r.outcome === "applied")).toBe(true);
    expect(stored?.state.failureTimes).toHaveLength(10);
    expect(stored?.version).toBe(10);
  });

  it("measures webhook → applied latency through gateway, lane and worker", async () => {
    // Prepare
    const samples: number[] = [];
    const runs = 20;

    for (let i = 0; i < runs; i++) {
      const customer = uid("cus");
      const userId = uid("user");
      await pay.deliver(checkoutCompletedEvent({ customer, clientReferenceId: userId, created: nowSeconds() - 60, id: uid("evt") }));
      await pay.laneDrained();

      // Act
      const started = performance.now();
      await pay.deliver(subscriptionEvent({ type: "customer.subscription.created", status: "active", customer, created: nowSeconds() - 30, id: uid("evt"), priceId: "price_it_premium", priceLookupKey: "premium_monthly" }));
      await eventually(async () => ((await pay.storedState(userId))?.tier === "premium" ? true : undefined), 10_000, 5);
      samples.push(performance.now() - started);
    }

    // Assess
    const sorted = [...samples].sort((a, b) => a - b);
    const at = (q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!);
    console.log(`webhook → applied (n=${runs}): p50 ${at(0.5)} ms, p95 ${at(0.95)} ms, max ${at(1)} ms`);
    // The premium target is 500 ms; locally the lane's 1 s long poll dominates, so only a loose bound here.
    expect(at(0.5)).toBeLessThan(5_000);
  });
});
