import { createHash } from "node:crypto";
import { z } from "zod";
import { TIERS, type Tier } from "../tiers.js";
import { ValidationError } from "../errors.js";
import { PAID_TIERS } from "./price-tiers.js";
import type { EventMeta } from "./stripe-facts.js";

/**
 * A user's payment state as stored (apart from therapeutic data) and reduced from Stripe facts.
 * It holds no amounts, cards, emails or Stripe ids: ordering keys carry a digest of the event
 * id, not the id.
 *
 * The state is a product of convergent registers, so any delivery order of the same events
 * gives the same state (see `state-machine.ts`):
 * - `status` / `orderKey` / `registers.statusTier`: last writer wins on the order key;
 * - `paidTier` / `registers.paidTierKey`: last writer wins among good-standing events;
 * - `trialEndsAt` / `registers.trialKey`: last writer wins among subscription events;
 * - `registers.recoveredAt`: the latest good-standing time (a max register);
 * - `failureTimes`: a grow-only set, pruned to the 180 days before its latest failure;
 * - `registers.retryAt` / `registers.retryKey`: Stripe's next scheduled retry, last writer
 *   wins among payment failures (the newest failure says what Stripe plans next).
 * `tier`, `graceEndsAt` and `paymentCurrent` are derived from those; `entitlementVersion`
 * counts visible changes and is the one field that depends on delivery order.
 */
export const PAYMENT_STATUSES = [
  "none", "trialing", "active", "past_due", "unpaid", "canceled", "paused", "incomplete", "incomplete_expired",
] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

export const paymentStateSchema = z.object({
  /** Effective tier as of the last change; read it through `effectiveTier` to honour expiry. */
  tier: z.enum(TIERS),
  /** `none` until Stripe tells us anything; `incomplete*` are accepted but never produced. */
  status: z.enum(PAYMENT_STATUSES),
  /** The tier to return to on recovery: the latest tier held in good standing. */
  paidTier: z.enum(PAID_TIERS).nullable(),
  /** Epoch ms while `tier` is `grace_period`, otherwise `null`. */
  graceEndsAt: z.number().int().nullable(),
  /** False while a payment is owed or the subscription is winding down without one. */
  paymentCurrent: z.boolean(),
  trialEndsAt: z.number().int().nullable(),
  /** Epoch ms of payment failures, sorted, deduplicated. */
  failureTimes: z.array(z.number().int()),
  /** +1 on every change of tier, status, grace end or paymentCurrent. */
  entitlementVersion: z.number().int().nonnegative(),
  /** Order key of the event that set `status`; `null` before any. */
  orderKey: z.string().nullable(),
  registers: z.object({
    /** Price tier carried by the event that set `status` (used when `paidTier` is unknown). */
    statusTier: z.enum(PAID_TIERS).nullable(),
    paidTierKey: z.string().nullable(),
    trialKey: z.string().nullable(),
    recoveredAt: z.number().int().nullable(),
    /** `orderKey` at which the expiry job ended the grace; a newer status clears its effect. */
    graceExpiredKey: z.string().nullable(),
    /** Epoch ms of the retry the newest failure says Stripe scheduled (`next_payment_attempt`), or null. States stored before it default to none. */
    retryAt: z.number().int().nullable().default(null),
    /** Order key of that failure. */
    retryKey: z.string().nullable().default(null),
  }),
});
export type PaymentState = z.infer<typeof paymentStateSchema>;

/** The state of a user Stripe never heard of: `free`, nothing owed. */
export function initialPaymentState(): PaymentState {
  return {
    tier: "free",
    status: "none",
    paidTier: null,
    graceEndsAt: null,
    paymentCurrent: true,
    trialEndsAt: null,
    failureTimes: [],
    entitlementVersion: 0,
    orderKey: null,
    registers: { statusTier: null, paidTierKey: null, trialKey: null, recoveredAt: null, graceExpiredKey: null, retryAt: null, retryKey: null },
  };
}

/** The tier to enforce now: a grace period that has run out is `free` even before the job runs. */
export function effectiveTier(state: PaymentState, nowMs: number): Tier {
  if (state.tier === "grace_period" && state.graceEndsAt !== null && nowMs >= state.graceEndsAt) return "free";
  return state.tier;
}

/** The `payment_state` entity synced to devices: tier, status, grace end, paymentCurrent — nothing else. */
export function paymentStateEntity(state: PaymentState, nowMs: number): {
  tier: Tier;
  status: PaymentStatus;
  graceEndsAt: number | null;
  paymentCurrent: boolean;
} {
  const tier = effectiveTier(state, nowMs);
  return {
    tier,
    status: state.status,
    graceEndsAt: tier === "grace_period" ? state.graceEndsAt : null,
    paymentCurrent: state.paymentCurrent,
  };
}

// --- ordering ---

/** Within one second, later lifecycle stages win; `canceled` is final. */
export const STATUS_PRECEDENCE: Readonly<Record<PaymentStatus, number>> = {
  none: 0, incomplete: 0, incomplete_expired: 0,
  trialing: 1, active: 2, past_due: 3, unpaid: 4, paused: 5, canceled: 6,
};

const SECONDS_DIGITS = 12;

/**
 * A string that sorts like `(created second, status precedence, event)`. The last part is a
 * digest of the event id: a deterministic tie-break that keeps Stripe ids out of the state.
 */
export function orderKeyFor(meta: EventMeta, status: PaymentStatus): string {
  if (!Number.isInteger(meta.createdSeconds) || meta.createdSeconds < 0 || meta.createdSeconds >= 10 ** SECONDS_DIGITS) {
    throw new ValidationError("Stripe event `created` is not a valid epoch second");
  }
  const digest = createHash("sha256").update(meta.eventId).digest("hex").slice(0, 16);
  return `${String(meta.createdSeconds).padStart(SECONDS_DIGITS, "0")}.${STATUS_PRECEDENCE[status]}.${digest}`;
}

/** Epoch ms of the event an order key was made from. */
export function orderKeyTimeMs(key: string): number {
  return Number(key.slice(0, SECONDS_DIGITS)) * 1000;
}

/**
 * The first payment failure of the current episode: failures after the latest recovery. Null
 * while nothing is owed, so a notice shown once per episode can key on this value.
 */
export function billingIssueDetectedAt(state: PaymentState): number | null {
  const { recoveredAt } = state.registers;
  const open = state.failureTimes.filter((t) => recoveredAt === null || t > recoveredAt);
  return open.length === 0 ? null : Math.min(...open);
}
