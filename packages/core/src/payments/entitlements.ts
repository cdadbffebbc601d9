import type { EntitlementsResponse } from "../api/account.js";
import { featureFlagsFor, policyFor, type FeatureFlags, type TierPolicy } from "../tiers.js";
import { paymentStateEntity, type PaymentState } from "./payment-state.js";
import type { PaymentNotice } from "./state-machine.js";

/**
 * What a user's payment state means to their devices: the `GET /v1/me/entitlements` answer, and
 * the three server-originated entities synced to every device on a change (SPEC.md §1, §3).
 * Dates are ISO 8601 on the wire, like every other date devices see.
 *
 * @example
 * entitlementsFor(undefined, Date.now()).tier; // "free": Stripe never heard of this user
 */
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function entitlementsFor(state: PaymentState | undefined, nowMs: number): EntitlementsResponse {
  const entity = state ? paymentStateEntity(state, nowMs) : { tier: "free" as const, status: "none" as const, graceEndsAt: null, paymentCurrent: true };
  return {
    tier: entity.tier,
    status: entity.status,
    graceEndsAt: iso(entity.graceEndsAt),
    featureFlags: featureFlagsFor(entity.tier),
    policy: policyFor(entity.tier),
    crisisAccess: true,
    paymentCurrent: entity.paymentCurrent,
  };
}

/** The `payment_state` payload: tier, status, grace end and paymentCurrent — never amounts, cards, emails or Stripe ids. */
export interface PaymentStatePayload {
  tier: EntitlementsResponse["tier"];
  status: EntitlementsResponse["status"];
  graceEndsAt: string | null;
  paymentCurrent: boolean;
  /** Only on the change that carries a notice (`customer.subscription.trial_will_end`). */
  notice?: PaymentNotice;
}

export type ServerEntityChange =
  | { entityType: "payment_state"; payload: PaymentStatePayload }
  | { entityType: "feature_flags"; payload: FeatureFlags }
  | { entityType: "sync_policy"; payload: TierPolicy };

/**
 * The changes a tier change sends to every device. A notice alone sends only `payment_state`
 * (with `notice` set): the flags and the policy did not change.
 */
export function serverEntityChanges(state: PaymentState, nowMs: number, notice?: PaymentNotice): ServerEntityChange[] {
  const entity = paymentStateEntity(state, nowMs);
  const paymentState: ServerEntityChange = {
    entityType: "payment_state",
    payload: { ...entity, graceEndsAt: iso(entity.graceEndsAt), ...(notice ? { notice } : {}) },
  };
  if (notice) return [paymentState];
  return [
    paymentState,
    { entityType: "feature_flags", payload: featureFlagsFor(entity.tier) },
    { entityType: "sync_policy", payload: policyFor(entity.tier) },
  ];
}
