import { describe, expect, it } from "vitest";
import { initialPaymentState, type PaymentState } from "@paysync/core/payments";
import { entitlementsETag, entitlementsFor, etagMatches } from "@paysync/core/payments/entitlements";

const NOW = 1_780_000_000_000;
const MIN = 60_000;
const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

function state(overrides: Partial<PaymentState>, registers: Partial<PaymentState["registers"]> = {}): PaymentState {
  const base = initialPaymentState();
  return { ...base, ...overrides, registers: { ...base.registers, ...registers } };
}

describe("the entitlements offline contract (SPEC 3.1)", () => {
  it.each([
    { name: "a user Stripe never heard of: 5 min and 7 days", s: undefined, refresh: NOW + 5 * MIN, valid: NOW + 7 * DAY },
    { name: "an active subscription: 5 min and 7 days", s: state({ tier: "premium", status: "active", paidTier: "premium" }), refresh: NOW + 5 * MIN, valid: NOW + 7 * DAY },
    { name: "a grace period ending in 2 minutes bounds both", s: state({ tier: "grace_period", status: "past_due", paidTier: "basic", graceEndsAt: NOW + 2 * MIN, paymentCurrent: false }), refresh: NOW + 2 * MIN, valid: NOW + 2 * MIN },
    { name: "a grace period ending in 3 days bounds validUntil only", s: state({ tier: "grace_period", status: "past_due", paidTier: "basic", graceEndsAt: NOW + 3 * DAY, paymentCurrent: false }), refresh: NOW + 5 * MIN, valid: NOW + 3 * DAY },
    { name: "a trial ending in 2 days bounds validUntil", s: state({ tier: "trial", status: "trialing", trialEndsAt: NOW + 2 * DAY }), refresh: NOW + 5 * MIN, valid: NOW + 2 * DAY },
    { name: "a trial ending in a minute bounds both", s: state({ tier: "trial", status: "trialing", trialEndsAt: NOW + MIN }), refresh: NOW + MIN, valid: NOW + MIN },
  ])("$name", ({ s, refresh, valid }) => {
    // Act
    const answer = entitlementsFor(s, NOW);

    // Assess
    expect(answer.refreshAfter).toBe(iso(refresh));
    expect(answer.validUntil).toBe(iso(valid));
  });

  it.each([
    { name: "null when nothing ever failed", s: state({ tier: "premium", status: "active" }), at: null },
    { name: "the first failure of the open episode", s: state({ tier: "grace_period", status: "past_due", failureTimes: [NOW - 30 * DAY, NOW - 2 * DAY, NOW - DAY] }, { recoveredAt: NOW - 20 * DAY }), at: NOW - 2 * DAY },
    { name: "null once the payment recovered", s: state({ tier: "premium", status: "active", failureTimes: [NOW - 2 * DAY] }, { recoveredAt: NOW - DAY }), at: null },
  ])("billingIssueDetectedAt is $name", ({ s, at }) => {
    // Act
    const answer = entitlementsFor(s, NOW);

    // Assess
    expect(answer.billingIssueDetectedAt).toBe(at === null ? null : iso(at));
  });

  it("the ETag follows the state, not the clock", () => {
    // Prepare
    const premium = state({ tier: "premium", status: "active", paidTier: "premium" });
    const basic = state({ tier: "basic", status: "active", paidTier: "basic" });

    // Act
    const now = entitlementsETag(entitlementsFor(premium, NOW));
    const later = entitlementsETag(entitlementsFor(premium, NOW + 3 * MIN));
    const changed = entitlementsETag(entitlementsFor(basic, NOW));

    // Assess
    expect(later).toBe(now);
    expect(changed).not.toBe(now);
  });

  it("a grace period running out changes the ETag with no new event", () => {
    // Prepare
    const grace = state({ tier: "grace_period", status: "past_due", paidTier: "basic", graceEndsAt: NOW + MIN, paymentCurrent: false });

    // Act
    const before = entitlementsETag(entitlementsFor(grace, NOW));
    const after = entitlementsETag(entitlementsFor(grace, NOW + 2 * MIN));

    // Assess
    expect(after).not.toBe(before);
  });

  it.each([
    { header: undefined, match: false },
    { header: '"abc"', match: true },
    { header: 'W/"abc"', match: true },
    { header: '"x", "abc"', match: true },
    { header: "*", match: true },
    { header: '"abd"', match: false },
    { header: "abc", match: false },
  ])("If-None-Match $header matches: $match", ({ header, match }) => {
    // Act / Assess
    expect(etagMatches(header, '"abc"')).toBe(match);
  });
});
