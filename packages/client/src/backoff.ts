/**
 * Capped exponential back-off with full jitter: the n-th retry waits a uniform random time in
 * `[0, min(capMs, baseMs * 2^n))`, so a fleet of devices coming back after an outage spreads
 * out instead of arriving together.
 *
 * @example
 * const wait = backoffDelay(attempt, { baseMs: 500, capMs: 60_000 }, Math.random);
 */
export interface BackoffPolicy {
  /** Ceiling of the first retry's wait. */
  baseMs: number;
  /** No wait is ever longer than this. */
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 500, capMs: 60_000 };
/** Crisis writes and activations retry sooner and never wait long. */
export const CRISIS_BACKOFF: BackoffPolicy = { baseMs: 250, capMs: 5_000 };

/** The ceiling of the wait before retry number `attempt` (0-based): `min(cap, base * 2^attempt)`. */
export function backoffCeiling(attempt: number, policy: BackoffPolicy): number {
  // 2^attempt overflows to Infinity for large attempts; min() keeps the cap.
  return Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, attempt));
}

/** Full jitter: uniform in `[0, ceiling)`; `random` is uniform in `[0, 1)`. */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number): number {
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.floor(r * backoffCeiling(attempt, policy));
}

/** A retry counter: `next()` gives the wait and counts the attempt, `reset()` after a success. */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly policy: BackoffPolicy,
    private readonly random: () => number,
  ) {}

  next(): number {
    const delay = backoffDelay(this.attempt, this.policy, this.random);
    this.attempt += 1;
    return delay;
  }

  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}
