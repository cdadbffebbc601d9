import { etagMatches, etagOf } from "../etag.js";
import type { EntitlementsResponse } from "../api/account.js";
import { featureFlagsFor, policyFor, type FeatureFlags, type TierPolicy } from "../tiers.js";
import { billingIssueDetectedAt, paymentStateEntity, type PaymentState } from "./payment-state.js";
import type { PaymentNotice } from "./state-machine.js";

/**
 * What a user's payment state means to their devices: the `GET /v1/me/entitlements` answer, and
 * the three server-originated entities synced to every device on a change (SPEC.md §1, §3).
 * Dates are ISO 8601 on the wire, like every other date devices see.
 *
 * @example
 * entitlementsFor(undefined, Date.now()).tier; // "free": Stripe never heard of this user
 */
export { billingIssueDetectedAt } from "./payment-state.js";

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const isoAt = (ms: number): string => new Date(ms).toISOString();

export function entitlementsFor(state: PaymentState | undefined, nowMs: number): EntitlementsResponse {
  const entity = state ? paymentStateEntity(state, nowMs) : { tier: "free" as const, status: "none" as const, graceEndsAt: null, paymentCurrent: true };
  const trialEndsAt = state && state.status === "trialing" && state.trialEndsAt !== null && state.trialEndsAt > nowMs ? state.trialEndsAt : null;
  // The first instant the answer may stop being true without a new Stripe event.
  const endings = [entity.graceEndsAt, trialEndsAt].filter((t): t is number => t !== null);
  return {
    tier: entity.tier,
    status: entity.status,
    graceEndsAt: iso(entity.graceEndsAt),
    featureFlags: featureFlagsFor(entity.tier),
    policy: policyFor(entity.tier),
    crisisAccess: true,
    paymentCurrent: entity.paymentCurrent,
    refreshAfter: isoAt(Math.min(nowMs + REFRESH_AFTER_MS, ...endings)),
    validUntil: isoAt(Math.min(nowMs + VALID_FOR_MS, ...endings)),
    billingIssueDetectedAt: iso(state ? billingIssueDetectedAt(state) : null),
  };
}

/** Devices ask again after 5 minutes (SPEC §3.1), sooner when a grace period or trial ends first. */
export const REFRESH_AFTER_MS = 5 * 60_000;
/** Devices may use a cached answer offline for 7 days, never past a grace period or trial end. */
export const VALID_FOR_MS = 7 * 24 * 60 * 60_000;

/**
 * The ETag of an answer: a digest of the fields a state change can move, not of `refreshAfter`
 * / `validUntil`, which follow the clock — so an unchanged state revalidates with `304` and a
 * tier change (even a grace period running out with no event) gives a new tag.
 */
export function entitlementsETag(answer: EntitlementsResponse): string {
  return etagOf({
    tier: answer.tier, status: answer.status, graceEndsAt: answer.graceEndsAt, paymentCurrent: answer.paymentCurrent,
    billingIssueDetectedAt: answer.billingIssueDetectedAt,
  });
}

export { etagMatches };

/** The `payment_state` payload: tier, status, grace end and paymentCurrent — never amounts, cards, emails or Stripe ids. */
export interface PaymentStatePayload {
  tier: EntitlementsResponse["tier"];
  status: EntitlementsResponse["status"];
  graceEndsAt: string | null;
  paymentCurrent: boolean;
  /** Only on the change that carries a notice: `trial_will_end`, or `billing_issue` on the first failure of an episode. */
  notice?: PaymentNotice;
}

export type ServerEntityChange =
  | { entityType: "payment_state"; payload: PaymentStatePayload }
  | { entityType: "feature_flags"; payload: FeatureFlags }
  | { entityType: "sync_policy"; payload: TierPolicy };

/**
 * The changes a tier change sends to every device. `trial_will_end` comes alone and sends only
 * `payment_state` (with `notice` set): the flags and the policy did not change. `billing_issue`
 * rides on the change the failure made (into a grace period), so all three go.
 */
export function serverEntityChanges(state: PaymentState, nowMs: number, notice?: PaymentNotice): ServerEntityChange[] {
  const entity = paymentStateEntity(state, nowMs);
  const paymentState: ServerEntityChange = {
    entityType: "payment_state",
    payload: { ...entity, graceEndsAt: iso(entity.graceEndsAt), ...(notice ? { notice } : {}) },
  };
  if (notice === "trial_will_end") return [paymentState];
  return [
    paymentState,
    { entityType: "feature_flags", payload: featureFlagsFor(entity.tier) },
    { entityType: "sync_policy", payload: policyFor(entity.tier) },
  ];
}
