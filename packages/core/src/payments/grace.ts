import type { PaidTier } from "./price-tiers.js";

/**
 * Grace-period length (SPEC.md section 3): premium 14 days, basic 7, trial 3; each earlier
 * payment failure in the 180 days before the grace starts shortens it by 25 %, never below
 * 3 days.
 *
 * The shortening is multiplicative: `base × 0.75^n`. Each failure takes a quarter of what is
 * left, so the length never reaches zero by itself and the 3-day floor is the only cliff
 * (premium: 14, 10.5, 7.875, 5.906, 4.43, 3.322, then 3 days; basic: 7, 5.25, 3.9375, then 3).
 *
 * @example
 * graceDurationMs("premium", 1) / DAY_MS; // 10.5
 */
export const DAY_MS = 86_400_000;
export const GRACE_BASE_DAYS: Readonly<Record<PaidTier, number>> = { premium: 14, basic: 7, trial: 3 };
export const MIN_GRACE_MS = 3 * DAY_MS;
export const FAILURE_LOOKBACK_MS = 180 * DAY_MS;
export const SHORTENING_PER_FAILURE = 0.25;

/** Grace length in ms for a tier after `earlierFailures` earlier failures. */
export function graceDurationMs(tier: PaidTier, earlierFailures: number): number {
  const n = Math.max(0, Math.floor(earlierFailures));
  const shortened = GRACE_BASE_DAYS[tier] * DAY_MS * (1 - SHORTENING_PER_FAILURE) ** n;
  // Whole milliseconds: the end is stored and compared as an integer epoch.
  return Math.max(MIN_GRACE_MS, Math.floor(shortened));
}

/** Failures in the 180 days strictly before `startMs` (the failure that starts the grace itself is not counted). */
export function earlierFailureCount(failureTimes: readonly number[], startMs: number): number {
  return failureTimes.filter((t) => t < startMs && t >= startMs - FAILURE_LOOKBACK_MS).length;
}

/** When a grace period that starts at `startMs` ends. */
export function graceEndsAtFor(tier: PaidTier, failureTimes: readonly number[], startMs: number): number {
  return startMs + graceDurationMs(tier, earlierFailureCount(failureTimes, startMs));
}

/**
 * How long after Stripe's scheduled retry (`invoice.next_payment_attempt`) a grace period may
 * still end at the earliest: the retry's outcome reaches us by webhook, which Stripe itself
 * retries for hours when a delivery fails, and the expiry job runs every 15 minutes. A day
 * keeps a user whose retry succeeds from being dropped to free while that news is in transit.
 */
export const RETRY_MARGIN_MS = DAY_MS;
/**
 * The longest a scheduled retry may stretch a grace period, from its start: Stripe's retry
 * schedules span at most two months, so a later "next attempt" is not a retry to wait for.
 */
export const MAX_RETRY_GRACE_MS = 60 * DAY_MS;

/**
 * When a grace period ends, given Stripe's next scheduled retry (SPEC §3.1): never before
 * `retryAtMs + RETRY_MARGIN_MS` while a retry is scheduled, so a user is not dropped to free
 * while Stripe is still trying to collect — `max(SPEC formula, next attempt + margin)`, the
 * retry's part capped at `MAX_RETRY_GRACE_MS` after the start.
 *
 * @example
 * graceEndsAtWithRetry("basic", [], start, start + 12 * DAY_MS) - start; // 13 days, not 7
 */
export function graceEndsAtWithRetry(tier: PaidTier, failureTimes: readonly number[], startMs: number, retryAtMs: number | null): number {
  const formula = graceEndsAtFor(tier, failureTimes, startMs);
  if (retryAtMs === null) return formula;
  return Math.max(formula, Math.min(retryAtMs + RETRY_MARGIN_MS, startMs + MAX_RETRY_GRACE_MS));
}
