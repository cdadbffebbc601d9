/**
 * Pure tier-limit checks (SPEC.md section 1). Each returns a value — ok, or the error to send —
 * plus the state to persist, so storage can apply it with a conditional write. Priority >= 8
 * (crisis data and active therapeutic sessions) is always exempt and is never charged.
 *
 * @example
 * const { result, state } = takeBandwidth({ policy, state: stored, bytes: 4096, nowMs: Date.now(), priority: 4 });
 * if (!result.ok) throw result.error; // 429 with Retry-After = result.error.retryAfterSeconds
 */
import { Buffer } from "node:buffer";
import { LimitExceededError, PayloadTooLargeError } from "../errors.js";
import type { UsageResponse } from "../api/account.js";
import type { TierPolicy } from "../tiers.js";
import { EXEMPT_PRIORITY } from "./entities.js";

/** Largest payload of one op; above it the op is refused with 413 whatever the tier. */
export const MAX_OP_PAYLOAD_BYTES = 256 * 1024;

/** Seconds of the refill rate a full bucket holds: lets a device catch up after a quiet spell. */
export const BURST_SECONDS = 10;

export type Check<E extends Error = LimitExceededError> = { ok: true } | { ok: false; error: E };

const OK: Check<never> = { ok: true };

/** Crisis (9-10) and active-session (8) traffic is never throttled nor rejected for payment. */
export function isLimitExempt(priority: number): boolean {
  return priority >= EXEMPT_PRIORITY;
}

/** UTF-8 size of a value as JSON, which is what is stored, encrypted and sent. */
export function jsonByteLength(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? "null", "utf8");
}

/** One op's payload against {@link MAX_OP_PAYLOAD_BYTES}; applies to every priority (413, not 429). */
export function checkOpPayloadSize(payload: unknown): Check<PayloadTooLargeError> {
  const bytes = jsonByteLength(payload);
  if (bytes <= MAX_OP_PAYLOAD_BYTES) return OK;
  return {
    ok: false,
    error: new PayloadTooLargeError(`Op payload is ${bytes} bytes; the limit is ${MAX_OP_PAYLOAD_BYTES}`, {
      bytes,
      maxBytes: MAX_OP_PAYLOAD_BYTES,
    }),
  };
}

export interface TokenBucketState {
  tokens: number;
  updatedAtMs: number;
}

/**
 * Burst capacity: {@link BURST_SECONDS} of the rate, but never less than one maximal op, so
 * any single op fits a full bucket even on the slowest tier. `null` when unlimited.
 */
export function bucketCapacity(policy: TierPolicy): number | null {
  const rate = policy.bandwidthBytesPerSecond;
  return rate === null ? null : Math.max(rate * BURST_SECONDS, MAX_OP_PAYLOAD_BYTES);
}

/** The bucket's tokens at `nowMs` (negative while in debt): a new user's bucket starts full. */
export function bucketTokensAt(rate: number, capacity: number, state: TokenBucketState | undefined, nowMs: number): number {
  // A clock that goes backwards refills nothing rather than draining the bucket.
  const elapsedMs = state === undefined ? 0 : Math.max(0, nowMs - state.updatedAtMs);
  return state === undefined ? capacity : Math.min(capacity, state.tokens + (elapsedMs / 1000) * rate);
}

export interface BandwidthInput {
  policy: TierPolicy;
  /** Stored bucket; `undefined` for a user never charged yet (starts full). */
  state: TokenBucketState | undefined;
  bytes: number;
  nowMs: number;
  priority: number;
}

/**
 * Token bucket in bytes. A request is admitted once the bucket holds `min(bytes, capacity)`
 * tokens and is then charged in full, possibly into debt, so a push larger than the burst
 * still goes through (once) and the debt is paid off by refill before the next one: the
 * long-run rate never exceeds the policy. Retry-After is the refill time to admission.
 */
export function takeBandwidth(input: BandwidthInput): { result: Check; state: TokenBucketState | undefined } {
  const { policy, state, bytes, nowMs, priority } = input;
  const rate = policy.bandwidthBytesPerSecond;
  const capacity = bucketCapacity(policy);
  if (rate === null || capacity === null || isLimitExempt(priority)) return { result: OK, state };

  const tokens = bucketTokensAt(rate, capacity, state, nowMs);
  const needed = Math.min(bytes, capacity);
  if (tokens >= needed) {
    return { result: OK, state: { tokens: tokens - bytes, updatedAtMs: nowMs } };
  }
  const retryAfterSeconds = Math.max(1, Math.ceil((needed - tokens) / rate));
  return {
    result: {
      ok: false,
      error: new LimitExceededError("bandwidth", retryAfterSeconds, "Bandwidth limit for your plan reached"),
    },
    state: { tokens, updatedAtMs: nowMs },
  };
}

export interface PushBytesInput {
  policy: TierPolicy;
  /** Bytes of the push's non-exempt ops (or of the whole body). */
  bytes: number;
  priority: number;
}

/**
 * Size of one push against the tier's `maxPushBytes`. Waiting does not help here — the device
 * must split the push — so Retry-After is 0.
 */
export function checkPushBytes(input: PushBytesInput): Check {
  const { policy, bytes, priority } = input;
  if (policy.maxPushBytes === null || isLimitExempt(priority) || bytes <= policy.maxPushBytes) return OK;
  return {
    ok: false,
    error: new LimitExceededError("push_bytes", 0, `A push may carry at most ${policy.maxPushBytes} bytes on your plan`),
  };
}

export interface DailyUsage {
  /** UTC day, `YYYY-MM-DD`. */
  day: string;
  bytes: number;
}

/** UTC day key `YYYY-MM-DD` of an instant. */
export function utcDayKey(nowMs: number): string {
  return new Date(nowMs).toISOString().slice(0, 10);
}

/** When the daily allowances reset: the next 00:00 UTC. */
export function nextUtcMidnight(nowMs: number): Date {
  const now = new Date(nowMs);
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));
}

/** Whole seconds until the next UTC midnight, at least 1 (Retry-After for the daily limit). */
export function secondsUntilNextUtcMidnight(nowMs: number): number {
  return Math.max(1, Math.ceil((nextUtcMidnight(nowMs).getTime() - nowMs) / 1000));
}

/** Usage after adding `bytes` at `nowMs`, starting from zero on a new UTC day. */
export function recordDataUsage(usage: DailyUsage | undefined, bytes: number, nowMs: number): DailyUsage {
  const day = utcDayKey(nowMs);
  const used = usage !== undefined && usage.day === day ? usage.bytes : 0;
  return { day, bytes: used + bytes };
}

export interface DailyDataInput {
  policy: TierPolicy;
  usage: DailyUsage | undefined;
  /** Bytes about to move; for a pull, record what was actually sent with `recordDataUsage`. */
  bytes: number;
  nowMs: number;
  priority: number;
}

/** Push + pull bytes of the current UTC day against the tier's daily allowance. */
export function checkDailyData(input: DailyDataInput): { result: Check; usage: DailyUsage | undefined } {
  const { policy, usage, bytes, nowMs, priority } = input;
  const limit = policy.dailyDataBytes;
  if (limit === null || isLimitExempt(priority)) return { result: OK, usage };
  const next = recordDataUsage(usage, bytes, nowMs);
  if (next.bytes <= limit) return { result: OK, usage: next };
  return { result: { ok: false, error: dailyDataExceeded(nowMs) }, usage };
}

/** The refusal of the daily allowance: Retry-After runs to the next UTC midnight. */
export function dailyDataExceeded(nowMs: number): LimitExceededError {
  return new LimitExceededError(
    "daily_data",
    secondsUntilNextUtcMidnight(nowMs),
    "Daily data allowance for your plan reached; it resets at 00:00 UTC",
  );
}

export interface PendingOpsInput {
  policy: TierPolicy;
  /** Ops of this user accepted but not applied yet. */
  pendingOps: number;
  incomingOps: number;
  priority: number;
}

/**
 * Pending (queued, unapplied) ops against the tier's offline queue limit. Retry-After is the
 * tier's target apply latency: by then the queue is expected to have drained.
 */
export function checkPendingOps(input: PendingOpsInput): Check {
  const { policy, pendingOps, incomingOps, priority } = input;
  if (isLimitExempt(priority) || pendingOps + incomingOps <= policy.offlineQueueLimit) return OK;
  return { ok: false, error: offlineQueueExceeded(policy) };
}

/** The refusal of the offline queue limit: Retry-After is the tier's target apply latency. */
export function offlineQueueExceeded(policy: TierPolicy): LimitExceededError {
  return new LimitExceededError(
    "offline_queue",
    Math.max(1, Math.ceil(policy.targetApplyLatencyMs / 1000)),
    `At most ${policy.offlineQueueLimit} ops may wait to be applied on your plan`,
  );
}

/**
 * Active therapeutic sessions (priority 8) are never throttled and never wait for a tier's
 * limits — but storage through them is bounded, or a session entity becomes a free unlimited
 * store. The ceilings are far above what a real session writes (a 60-minute MBCT session that
 * saves its state every 5 s is 720 ops of a few KiB), per session and per user, per UTC day.
 */
export const ACTIVE_SESSION_CEILING = {
  perSession: { ops: 1_000, bytes: 10 * 1024 * 1024 },
  perUser: { ops: 5_000, bytes: 50 * 1024 * 1024 },
} as const;

/** The refusal of the active-session ceiling: Retry-After runs to the next UTC midnight. */
export function sessionCeilingExceeded(nowMs: number): LimitExceededError {
  return new LimitExceededError(
    "session_ceiling",
    secondsUntilNextUtcMidnight(nowMs),
    "This session wrote more today than any real session does; it resets at 00:00 UTC",
  );
}

export interface StoredUsage {
  /** Today's counted push + pull bytes. */
  dailyBytes: number;
  pendingOps: number;
  bucket: TokenBucketState | undefined;
}

/** Today's use against the tier's limits (`GET /v1/me/usage`), from what storage holds. */
export function usageReport(policy: TierPolicy, stored: StoredUsage, nowMs: number): UsageResponse {
  const rate = policy.bandwidthBytesPerSecond;
  const capacity = bucketCapacity(policy);
  return {
    tier: policy.tier,
    day: utcDayKey(nowMs),
    dailyData: {
      usedBytes: stored.dailyBytes,
      limitBytes: policy.dailyDataBytes,
      resetsAt: nextUtcMidnight(nowMs).toISOString(),
    },
    offlineQueue: { pendingOps: Math.max(0, stored.pendingOps), limitOps: policy.offlineQueueLimit },
    bandwidth: rate === null || capacity === null
      ? { availableBytes: null, capacityBytes: null, bytesPerSecond: null }
      : { availableBytes: Math.max(0, Math.floor(bucketTokensAt(rate, capacity, stored.bucket, nowMs))), capacityBytes: capacity, bytesPerSecond: rate },
  };
}

