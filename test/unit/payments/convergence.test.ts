import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  applyFact,
  effectiveTier,
  eventMetaOf,
  extractStripeFacts,
  initialPaymentState,
  parseStripeEvent,
  type EventMeta,
  type PaidTier,
  type PaymentState,
  type StripeFact,
  type StripeFactsConfig,
} from "@paysync/core/payments";
import {
  invoiceEvent,
  subscriptionEvent,
  type InvoiceEventType,
  type PriceOptions,
  type StripeEventObject,
  type SubscriptionEventType,
} from "../../helpers/stripe-factories.js";

const config: StripeFactsConfig = { priceTiers: { price_map_basic: "basic", price_map_premium: "premium" } };
const T0 = 1_750_000_000;
const DAY = 86_400;

type Action = "subscribe_trial" | "subscribe" | "change_plan" | "fail" | "recover" | "unpaid" | "cancel" | "trial_will_end" | "pause" | "resume" | "unknown_price";
type Encoding = "lookup_key" | "metadata" | "map";

interface Step {
  action: Action;
  gapSeconds: number;
  tier: Exclude<PaidTier, "trial">;
  encoding: Encoding;
  shape: "current" | "legacy";
  /** Whether the companion event lands in the same second or the next. */
  companionGap: 0 | 1;
  /** On a failure: days until Stripe's next retry (`next_payment_attempt`), or none scheduled. */
  retryInDays: number | null;
}

const stepArb: fc.Arbitrary<Step> = fc.record({
  action: fc.constantFrom<Action>("subscribe_trial", "subscribe", "change_plan", "fail", "fail", "recover", "unpaid", "cancel", "trial_will_end", "pause", "resume", "unknown_price"),
  // Same second (precedence ties), minutes apart, or days apart (grace windows and the 180-day lookback).
  gapSeconds: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3_600 }), fc.integer({ min: DAY, max: 60 * DAY })),
  tier: fc.constantFrom("basic" as const, "premium" as const),
  encoding: fc.constantFrom<Encoding>("lookup_key", "metadata", "map"),
  shape: fc.constantFrom("current" as const, "legacy" as const),
  companionGap: fc.constantFrom(0 as const, 1 as const),
  retryInDays: fc.constantFrom(null, 1, 12, 20),
});

function price(tier: "basic" | "premium", encoding: Encoding): PriceOptions {
  if (encoding === "lookup_key") return { priceId: `price_lk_${tier}`, priceLookupKey: `${tier}_monthly` };
  if (encoding === "metadata") return { priceId: `price_md_${tier}`, priceMetadataTier: tier };
  return { priceId: `price_map_${tier}` };
}

/** Turns steps into the Stripe events a real subscription's life would emit. */
function streamOf(steps: Step[]): StripeEventObject[] {
  const events: StripeEventObject[] = [];
  let t = T0;
  let ids = 0;
  const id = (): string => `evt_prop_${String(++ids).padStart(4, "0")}`;
  const sub = (type: SubscriptionEventType, status: string, created: number, p: PriceOptions): void => {
    events.push(subscriptionEvent({ type, status, customer: "cus_p", created, id: id(), ...p }));
  };
  const inv = (type: InvoiceEventType, created: number, s: Step, extra: { billingReason?: string; total?: number; nextPaymentAttempt?: number | null } = {}): void => {
    events.push(invoiceEvent({ type, customer: "cus_p", subscription: "sub_p", shape: s.shape, created, id: id(), ...price(s.tier, s.encoding), ...extra }));
  };
  for (const s of steps) {
    t += s.gapSeconds;
    const p = price(s.tier, s.encoding);
    const t2 = t + s.companionGap;
    switch (s.action) {
      case "subscribe_trial":
        sub("customer.subscription.created", "trialing", t, p);
        inv("invoice.paid", t2, s, { billingReason: "subscription_create", total: 0 });
        break;
      case "subscribe":
        sub("customer.subscription.created", "active", t, p);
        inv("invoice.paid", t2, s, { billingReason: "subscription_create" });
        break;
      case "change_plan":
        sub("customer.subscription.updated", "active", t, p);
        inv("invoice.paid", t2, s, { billingReason: "subscription_update" });
        break;
      case "fail":
        inv("invoice.payment_failed", t, s, { nextPaymentAttempt: s.retryInDays === null ? null : t + s.retryInDays * DAY });
        sub("customer.subscription.updated", "past_due", t2, p);
        break;
      case "recover":
        inv("invoice.paid", t, s);
        inv("invoice.payment_succeeded", t, s);
        sub("customer.subscription.updated", "active", t2, p);
        break;
      case "unpaid":
        sub("customer.subscription.updated", "unpaid", t, p);
        break;
      case "cancel":
        sub("customer.subscription.deleted", "canceled", t, p);
        break;
      case "trial_will_end":
        sub("customer.subscription.trial_will_end", "trialing", t, p);
        break;
      case "pause":
        sub("customer.subscription.paused", "paused", t, p);
        break;
      case "resume":
        sub("customer.subscription.resumed", "active", t, p);
        break;
      case "unknown_price":
        sub("customer.subscription.updated", "active", t, { priceId: "price_nobody_mapped" });
        break;
    }
  }
  return events;
}

interface Delivery {
  fact: StripeFact;
  meta: EventMeta;
}

function replay(deliveries: Delivery[], nowMs: number): PaymentState {
  return deliveries.reduce<PaymentState>((state, d) => applyFact(state, d.fact, d.meta, nowMs).state, initialPaymentState());
}

/** Everything but `entitlementVersion`, which counts the changes seen on the way. */
const converged = ({ entitlementVersion: _ignored, ...rest }: PaymentState): Omit<PaymentState, "entitlementVersion"> => rest;

/** Steps (not events) and an index order, so a counterexample stays readable. */
const scenarioArb = fc.array(stepArb, { minLength: 1, maxLength: 14 }).chain((steps) => {
  const count = streamOf(steps).length;
  const indices = Array.from({ length: count }, (_, i) => i);
  return fc.record({
    steps: fc.constant(steps),
    shuffled: fc.shuffledSubarray(indices, { minLength: count, maxLength: count }),
    duplicates: fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 12 }),
    nowOffsetMs: fc.integer({ min: 0, max: 30 * DAY * 1000 }),
  });
});

function deliveriesOf(steps: Step[]): { deliveries: Delivery[]; nowBaseMs: number } {
  const events = streamOf(steps);
  return {
    deliveries: events.map((e) => ({ fact: extractStripeFacts(e, config), meta: eventMetaOf(parseStripeEvent(e)) })),
    nowBaseMs: Math.max(...events.map((e) => e.created)) * 1000,
  };
}

describe("payment state convergence", () => {
  it("a stream delivered in order, reversed, shuffled or with duplicates ends in the same state", () => {
    fc.assert(
      fc.property(scenarioArb, ({ steps, shuffled, duplicates, nowOffsetMs }) => {
        // Prepare
        const { deliveries: inOrder, nowBaseMs } = deliveriesOf(steps);
        const withDuplicates = [...inOrder];
        for (const [which, where] of duplicates) {
          withDuplicates.splice(where % (withDuplicates.length + 1), 0, inOrder[which % inOrder.length]!);
        }
        const nowMs = nowBaseMs + nowOffsetMs;

        // Act
        const ordered = replay(inOrder, nowMs);
        const reversed = replay([...inOrder].reverse(), nowMs);
        const randomOrder = replay(shuffled.map((i) => inOrder[i]!), nowMs);
        const duplicated = replay(withDuplicates, nowMs);

        // Assess
        expect(converged(reversed)).toEqual(converged(ordered));
        expect(converged(randomOrder)).toEqual(converged(ordered));
        expect(converged(duplicated)).toEqual(converged(ordered));
        expect(effectiveTier(randomOrder, nowMs)).toBe(effectiveTier(ordered, nowMs));
      }),
      { numRuns: 300 },
    );
  });

  it("re-applying every event of a stream to its final state changes nothing", () => {
    fc.assert(
      fc.property(scenarioArb, ({ steps, nowOffsetMs }) => {
        // Prepare
        const { deliveries, nowBaseMs } = deliveriesOf(steps);
        const nowMs = nowBaseMs + nowOffsetMs;
        const final = replay(deliveries, nowMs);

        // Act
        const results = deliveries.map((d) => applyFact(final, d.fact, d.meta, nowMs));

        // Assess
        for (const result of results) {
          expect(result.state).toBe(final);
          expect(result.changed).toBe(false);
          expect(result.outcome).not.toBe("applied");
        }
      }),
      { numRuns: 200 },
    );
  });
});
