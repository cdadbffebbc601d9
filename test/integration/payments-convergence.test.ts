import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { nowSeconds, paymentsHarness, uid } from "../helpers/payments.js";
import { useRuntime } from "../helpers/runtime.js";
import {
  checkoutCompletedEvent,
  invoiceEvent,
  subscriptionEvent,
  type InvoiceEventType,
  type StripeEventObject,
  type SubscriptionEventType,
} from "../helpers/stripe-factories.js";

const rt = useRuntime();
const pay = paymentsHarness(rt);
const DAY = 86_400;
const PREMIUM = { priceId: "price_it_premium", priceLookupKey: "premium_monthly" };
/** Far enough back for two failures 30 days apart, recent enough that the last grace is still running. */
const T = nowSeconds() - 35 * DAY;
const STREAM_LENGTH = 9;

/**
 * A subscription's life as Stripe emits it: checkout, subscribe, a failed renewal and its
 * recovery, then a second failure a month later that is still in grace. Every event has its
 * own second, so the expected state does not hang on tie-breaks between per-run event ids
 * (the pure property in test/unit/payments/convergence.test.ts covers same-second ties).
 */
function lifeOf(customer: string, userId: string): StripeEventObject[] {
  const sub = (type: SubscriptionEventType, status: string, at: number) =>
    subscriptionEvent({ type, status, customer, created: at, id: uid("evt"), ...PREMIUM });
  const inv = (type: InvoiceEventType, at: number, billingReason?: string) =>
    invoiceEvent({ type, customer, subscription: "sub_conv", shape: "current", created: at, id: uid("evt"), ...PREMIUM, ...(billingReason ? { billingReason } : {}) });
  return [
    checkoutCompletedEvent({ customer, clientReferenceId: userId, created: T, id: uid("evt") }),
    sub("customer.subscription.created", "active", T + 10),
    inv("invoice.paid", T + 11, "subscription_create"),
    inv("invoice.payment_failed", T + 3_600),
    sub("customer.subscription.updated", "past_due", T + 3_601),
    inv("invoice.payment_succeeded", T + 7_200),
    sub("customer.subscription.updated", "active", T + 7_201),
    inv("invoice.payment_failed", T + 30 * DAY),
    sub("customer.subscription.updated", "past_due", T + 30 * DAY + 1),
  ];
}

/** What the stored state says, without the per-run parts (event-id digests, write counters). */
async function finalState(userId: string) {
  const item = await pay.storedState(userId);
  const state = item?.state;
  return {
    tier: item?.tier, status: item?.status, graceEndsAt: item?.graceEndsAt, paymentCurrent: item?.paymentCurrent,
    paidTier: state?.paidTier, trialEndsAt: state?.trialEndsAt, failureTimes: state?.failureTimes,
    statusTier: state?.registers.statusTier, recoveredAt: state?.registers.recoveredAt,
    // `refreshAfter` counts from the moment of the read, not from the stream, and the signature
    // carries the moment it was made (`iat`): both left out of the comparison.
    entitlements: { ...(await pay.entitlements(userId)), refreshAfter: undefined, signedEntitlements: undefined },
  };
}

/** Delivers one fresh customer's stream in `order`, with `duplicates` (event index, position) inserted. */
async function deliverPermuted(order: number[], duplicates: [number, number][]) {
  const customer = uid("cus");
  const userId = uid("user");
  const events = lifeOf(customer, userId);
  const sequence = order.map((i) => events[i]!);
  for (const [index, position] of duplicates) sequence.splice(position % (sequence.length + 1), 0, events[index]!);
  await pay.deliver(...sequence);
  await pay.laneDrained();
  return finalState(userId);
}

describe("payment state convergence end to end", () => {
  const inOrder = [...Array(STREAM_LENGTH).keys()];
  let reference: Awaited<ReturnType<typeof finalState>>;

  beforeAll(async () => {
    reference = await deliverPermuted(inOrder, []);
  }, 60_000);

  it("delivered in order, the stream ends in grace from the second failure, shortened by the first", () => {
    // Assess
    expect(reference).toMatchObject({
      tier: "grace_period", status: "past_due", paymentCurrent: false, paidTier: "premium",
      graceEndsAt: (T + 30 * DAY) * 1000 + 10.5 * DAY * 1000,
      failureTimes: [(T + 3_600) * 1000, (T + 30 * DAY) * 1000],
    });
  });

  it("the same stream reversed, shuffled and with duplicates ends in the same state", async () => {
    // Prepare
    const order = fc.shuffledSubarray(inOrder, { minLength: STREAM_LENGTH, maxLength: STREAM_LENGTH });
    const duplicates = fc.array(fc.tuple(fc.nat(STREAM_LENGTH - 1), fc.nat(2 * STREAM_LENGTH)), { maxLength: 3 });
    const reversed: [number[], [number, number][]] = [[...inOrder].reverse(), [[0, 3], [8, 0]]];

    let runs = 0;

    // Act + Assess: each run is a fresh customer through gateway, lane and worker
    await fc.assert(
      fc.asyncProperty(order, duplicates, async (permutation, dups) => {
        runs += 1;
        expect(await deliverPermuted(permutation, dups)).toEqual(reference);
      }),
      { numRuns: 7, examples: [reversed], seed: 20_261_123 },
    );
    expect(runs).toBeGreaterThanOrEqual(7);
  }, 120_000);

  it("sends nothing to the Webhooks dead-letter queue on the way", async () => {
    // Act
    const { Attributes } = await rt.sqs.send(new GetQueueAttributesCommand({
      QueueUrl: rt.resources.queues.Webhooks.dlqUrl, AttributeNames: ["ApproximateNumberOfMessages"],
    }));

    // Assess
    expect(Number(Attributes?.ApproximateNumberOfMessages ?? 0)).toBe(0);
  });
});
