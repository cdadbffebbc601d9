import { FAILURE_LOOKBACK_MS, graceEndsAtWithRetry } from "./grace.js";
import type { PaidTier } from "./price-tiers.js";
import {
  billingIssueDetectedAt,
  initialPaymentState,
  orderKeyFor,
  orderKeyTimeMs,
  type PaymentState,
  type PaymentStatus,
} from "./payment-state.js";
import type { EventMeta, StripeFact } from "./stripe-facts.js";

/**
 * The pure payment reducer. Each fact is turned into an observation and joined into the state's
 * registers (see `payment-state.ts`); the visible fields are then derived from the registers
 * alone. Every join is commutative, associative and idempotent, so replaying, duplicating or
 * shuffling a stream of events gives the same state by construction — only
 * `entitlementVersion`, which counts the visible changes seen on the way, depends on the order.
 * The clock enters only through grace expiry (same `nowMs`, same state). The one deliberate
 * exception is `expireGrace`: once the job has ended a grace, a late older event cannot re-open
 * it, even where in-order delivery would have (e.g. a late recovery moving the grace start).
 *
 * @example
 * const { state, changed } = applyFact(undefined, fact, eventMetaOf(event), Date.now());
 * if (changed) emitToDevices(paymentStateEntity(state, Date.now()));
 */
export type ApplyOutcome = "applied" | "stale" | "duplicate" | "no_effect";
/**
 * `trial_will_end`: Stripe's notice, passed on. `billing_issue`: the first unpaid invoice of an
 * episode (`billingIssueDetectedAt` going from null to a value) — once per episode, since a
 * retry's failure, a duplicate or an older failure arriving late finds the episode already open.
 */
export type PaymentNotice = "trial_will_end" | "billing_issue";

export interface ApplyResult {
  state: PaymentState;
  /** Tier, status, grace end or paymentCurrent changed: emit to devices. Persist whenever `outcome` is `applied`. */
  changed: boolean;
  outcome: ApplyOutcome;
  notice?: PaymentNotice;
}

type ObservedStatus = Exclude<PaymentStatus, "none" | "incomplete" | "incomplete_expired">;

/** What one fact says about entitlement. */
interface Observation {
  status: ObservedStatus;
  /** The tier of the price the fact carries, if it resolved. */
  priceTier: PaidTier | null;
  /** Trialing or active: the user is paid up at this time. */
  goodStanding: boolean;
  /** The tier held in good standing (`trial` while trialing), when known. */
  standingTier: PaidTier | null;
  failure: boolean;
  /** Only payment failures know Stripe's next retry (epoch ms, null: none scheduled). */
  retryAt?: number | null;
  /** Only subscription snapshots know the trial end. */
  trialEndsAt?: number | null;
}

/** `null`: the fact says nothing about entitlement. */
function observe(fact: StripeFact): Observation | "trial_will_end" | null {
  if (fact.kind === "subscription") {
    if (fact.action === "trial_will_end") return "trial_will_end";
    // An incomplete subscription was never paid for, so it neither grants nor removes
    // anything; if it expires (`incomplete_expired`, even via `deleted`) there is no grace
    // to give. The user keeps whatever the other events say.
    if (fact.status === "incomplete" || fact.status === "incomplete_expired") return null;
    const status: ObservedStatus =
      fact.action === "deleted" ? "canceled" : fact.action === "paused" ? "paused" : fact.status;
    const priceTier = fact.price?.tier ?? null;
    return {
      status,
      priceTier,
      goodStanding: status === "trialing" || status === "active",
      standingTier: status === "trialing" ? "trial" : status === "active" ? priceTier : null,
      failure: false,
      trialEndsAt: fact.trialEndsAt,
    };
  }
  if (fact.kind === "invoice") {
    const priceTier = fact.price?.tier ?? null;
    if (fact.action === "payment_failed") {
      // The first invoice failing leaves the subscription `incomplete`: nothing was ever paid.
      if (fact.firstInvoice) return null;
      return { status: "past_due", priceTier, goodStanding: false, standingTier: null, failure: true, retryAt: fact.nextPaymentAttemptAt };
    }
    // A zero-total invoice (trial start, full discount) is no evidence of a payment.
    if (fact.zeroTotal) return null;
    return { status: "active", priceTier, goodStanding: true, standingTier: priceTier, failure: false };
  }
  return null;
}

const newer = (key: string, current: string | null): boolean => current === null || key > current;

/** Sorted, deduplicated, and only the 180 days before the latest failure: the window grace looks back over. */
function pruneFailures(times: readonly number[]): number[] {
  const sorted = [...new Set(times)].sort((a, b) => a - b);
  const latest = sorted.at(-1);
  // Pruning against the latest failure (not the clock) keeps the join order-independent.
  return latest === undefined ? sorted : sorted.filter((t) => t >= latest - FAILURE_LOOKBACK_MS);
}

/** Joins one observation into every register it speaks to, each by its own ordering. */
function join(state: PaymentState, obs: Observation, key: string, atMs: number): PaymentState {
  const next: PaymentState = { ...state, registers: { ...state.registers } };
  if (newer(key, state.orderKey)) {
    next.orderKey = key;
    next.status = obs.status;
    next.registers.statusTier = obs.priceTier;
  }
  // An older event can still be the newest word on the tier to return to or the trial end:
  // it overwrites nothing newer, and ignoring it would make the result depend on arrival order.
  if (obs.standingTier !== null && newer(key, state.registers.paidTierKey)) {
    next.paidTier = obs.standingTier;
    next.registers.paidTierKey = key;
  }
  if (obs.goodStanding && (state.registers.recoveredAt === null || atMs > state.registers.recoveredAt)) {
    next.registers.recoveredAt = atMs;
  }
  if (obs.trialEndsAt !== undefined && newer(key, state.registers.trialKey)) {
    next.trialEndsAt = obs.trialEndsAt;
    next.registers.trialKey = key;
  }
  if (obs.failure) next.failureTimes = pruneFailures([...state.failureTimes, atMs]);
  if (obs.retryAt !== undefined && newer(key, state.registers.retryKey)) {
    next.registers.retryAt = obs.retryAt;
    next.registers.retryKey = key;
  }
  return next;
}

function sameRegisters(a: PaymentState, b: PaymentState): boolean {
  return (
    a.orderKey === b.orderKey &&
    a.status === b.status &&
    a.paidTier === b.paidTier &&
    a.trialEndsAt === b.trialEndsAt &&
    a.registers.statusTier === b.registers.statusTier &&
    a.registers.paidTierKey === b.registers.paidTierKey &&
    a.registers.trialKey === b.registers.trialKey &&
    a.registers.recoveredAt === b.registers.recoveredAt &&
    a.registers.retryAt === b.registers.retryAt &&
    a.registers.retryKey === b.registers.retryKey &&
    a.failureTimes.length === b.failureTimes.length &&
    a.failureTimes.every((t, i) => t === b.failureTimes[i])
  );
}

type Derived = Pick<PaymentState, "tier" | "graceEndsAt" | "paymentCurrent">;

/** The visible fields, from the registers alone (and the clock, for a grace that has run out). */
function derive(s: PaymentState, nowMs: number): Derived {
  switch (s.status) {
    case "none":
    case "incomplete":
    case "incomplete_expired":
      return { tier: "free", graceEndsAt: null, paymentCurrent: true };
    case "trialing":
      return { tier: "trial", graceEndsAt: null, paymentCurrent: true };
    case "active":
      // An active subscription on an unknown price keeps the tier last held in good standing.
      return { tier: s.paidTier ?? "free", graceEndsAt: null, paymentCurrent: true };
    case "past_due":
    case "unpaid":
    case "paused":
    case "canceled":
      return deriveGrace(s, nowMs);
  }
}

/**
 * Grace starts at the earliest failure not followed by a recovery, or at the event that set the
 * status: retries of a failing payment, or a cancellation after it, do not restart the clock.
 * While the subscription is still collecting (`past_due`, `unpaid`) it ends no earlier than a
 * day after the retry the newest open failure says Stripe scheduled; a paused or canceled
 * subscription is not retried, so the formula alone applies there.
 */
function deriveGrace(s: PaymentState, nowMs: number): Derived {
  const { recoveredAt, statusTier, graceExpiredKey, retryAt, retryKey } = s.registers;
  const openFailures = s.failureTimes.filter((t) => recoveredAt === null || t > recoveredAt);
  // A voluntary cancellation owes nothing; a lapse or a cancellation over unpaid invoices does.
  const paymentCurrent = s.status === "canceled" && openFailures.length === 0;
  const base = s.paidTier ?? statusTier;
  // Nothing was ever held in good standing nor priced: there is no tier to extend.
  if (base === null || s.orderKey === null) return { tier: "free", graceEndsAt: null, paymentCurrent };
  const startMs = Math.min(orderKeyTimeMs(s.orderKey), ...openFailures);
  const collecting = s.status === "past_due" || s.status === "unpaid";
  const retryOpen = retryKey !== null && (recoveredAt === null || orderKeyTimeMs(retryKey) > recoveredAt);
  const endsAt = graceEndsAtWithRetry(base, s.failureTimes, startMs, collecting && retryOpen ? retryAt : null);
  if (nowMs >= endsAt || graceExpiredKey === s.orderKey) return { tier: "free", graceEndsAt: null, paymentCurrent };
  return { tier: "grace_period", graceEndsAt: endsAt, paymentCurrent };
}

function settle(previous: PaymentState, joined: PaymentState, nowMs: number): { state: PaymentState; changed: boolean } {
  const derived = derive(joined, nowMs);
  const changed =
    previous.tier !== derived.tier ||
    previous.status !== joined.status ||
    previous.graceEndsAt !== derived.graceEndsAt ||
    previous.paymentCurrent !== derived.paymentCurrent;
  return {
    state: { ...joined, ...derived, entitlementVersion: previous.entitlementVersion + (changed ? 1 : 0) },
    changed,
  };
}

/**
 * Applies one Stripe fact. `stale`: the event is older than everything it could write;
 * `duplicate`: it is the event the state already holds; `no_effect`: the fact says nothing
 * about entitlement (links, ignored events, `trial_will_end`, which only returns a notice).
 */
export function applyFact(
  state: PaymentState | undefined,
  fact: StripeFact,
  eventMeta: EventMeta,
  nowMs: number,
): ApplyResult {
  const current = state ?? initialPaymentState();
  const observation = observe(fact);
  if (observation === null) return { state: current, changed: false, outcome: "no_effect" };

  if (observation === "trial_will_end") {
    // A notice about a trial the state has already moved past would only confuse the user.
    const key = orderKeyFor(eventMeta, "trialing");
    if (!newer(key, current.orderKey)) return { state: current, changed: false, outcome: "stale" };
    return { state: current, changed: false, outcome: "no_effect", notice: "trial_will_end" };
  }

  const key = orderKeyFor(eventMeta, observation.status);
  const joined = join(current, observation, key, eventMeta.createdSeconds * 1000);
  if (sameRegisters(current, joined)) {
    const known = [current.orderKey, current.registers.paidTierKey, current.registers.trialKey].includes(key);
    return { state: current, changed: false, outcome: known ? "duplicate" : "stale" };
  }
  const settled = settle(current, joined, nowMs);
  const opensEpisode = billingIssueDetectedAt(current) === null && billingIssueDetectedAt(settled.state) !== null;
  return { ...settled, outcome: "applied", ...(opensEpisode ? { notice: "billing_issue" as const } : {}) };
}

/**
 * The scheduled job's step: a grace period that has run out becomes `free`. The decision is
 * pinned to the current status event, so a late, older event cannot re-open the grace;
 * a newer status event derives the tier afresh.
 */
export function expireGrace(state: PaymentState, nowMs: number): { state: PaymentState; changed: boolean } {
  if (state.tier !== "grace_period" || state.graceEndsAt === null || nowMs < state.graceEndsAt) {
    return { state, changed: false };
  }
  return {
    state: {
      ...state,
      tier: "free",
      graceEndsAt: null,
      entitlementVersion: state.entitlementVersion + 1,
      registers: { ...state.registers, graceExpiredKey: state.orderKey },
    },
    changed: true,
  };
}

// Part of the reducer's public face; they live with the state type.
export { effectiveTier, initialPaymentState } from "./payment-state.js";
