/**
 * Adaptive batch sizing for pushes (ops per request) and pulls (page `limit`): aim every request
 * at a time budget. Start small; grow while answers come back well inside the budget; shrink in
 * proportion when they come back slow; halve on a timeout. The byte budget follows measured
 * throughput the same way. Pure: the sender and the receiver each keep one state.
 *
 * @example
 * let state = initialBatchState(DEFAULT_BATCHING);
 * const { count } = planBatch(state, opSizes, DEFAULT_BATCHING);
 * state = observeBatch(state, { items: count, bytes, durationMs: 180, outcome: "ok" }, DEFAULT_BATCHING);
 */
export interface BatchingPolicy {
  /** Fewest items per request (never below 1). */
  minItems: number;
  /** Most items per request (the protocol's 500). */
  maxItems: number;
  initialItems: number;
  /** The time one request should take, round trip included. */
  targetMs: number;
  /** Largest factor the size may grow by after one fast answer. */
  maxGrowth: number;
  minBytes: number;
  maxBytes: number;
  initialBytes: number;
}

export const DEFAULT_BATCHING: BatchingPolicy = {
  minItems: 1,
  maxItems: 500,
  initialItems: 25,
  targetMs: 1_500,
  maxGrowth: 2,
  minBytes: 64 * 1024,
  maxBytes: 4 * 1024 * 1024,
  initialBytes: 256 * 1024,
};

export interface BatchState {
  items: number;
  bytes: number;
  /** Smoothed round-trip time (ms) of recent requests, null before the first. */
  rttMs: number | null;
  /** Smoothed throughput (bytes/ms) of recent requests, null before the first. */
  bytesPerMs: number | null;
}

export interface BatchSample {
  items: number;
  bytes: number;
  durationMs: number;
  outcome: "ok" | "timeout" | "error";
}

const clamp = (value: number, min: number, max: number): number => Math.min(max, Math.max(min, value));
const SMOOTHING = 0.3;
const smooth = (previous: number | null, sample: number): number =>
  previous === null ? sample : previous + SMOOTHING * (sample - previous);

export function initialBatchState(policy: BatchingPolicy): BatchState {
  return {
    items: clamp(policy.initialItems, policy.minItems, policy.maxItems),
    bytes: clamp(policy.initialBytes, policy.minBytes, policy.maxBytes),
    rttMs: null,
    bytesPerMs: null,
  };
}

/**
 * The next state after one request. An answer under half the budget grows a limit that the
 * request filled (at most by `maxGrowth`); a slow answer shrinks both limits in proportion to how
 * far it overran; a timeout halves them; other errors leave them (they say nothing about the
 * link). A request that did not fill a limit does not grow it: it proved nothing about more.
 */
export function observeBatch(state: BatchState, sample: BatchSample, policy: BatchingPolicy): BatchState {
  if (sample.outcome === "timeout") {
    return {
      ...state,
      items: clamp(Math.floor(state.items / 2), policy.minItems, policy.maxItems),
      bytes: clamp(Math.floor(state.bytes / 2), policy.minBytes, policy.maxBytes),
    };
  }
  if (sample.outcome === "error") return state;
  const duration = Math.max(1, sample.durationMs);
  const next: BatchState = {
    items: state.items,
    bytes: state.bytes,
    rttMs: smooth(state.rttMs, duration),
    bytesPerMs: sample.bytes > 0 ? smooth(state.bytesPerMs, sample.bytes / duration) : state.bytesPerMs,
  };
  const ratio = policy.targetMs / duration;
  if (ratio < 1) {
    next.items = Math.floor(state.items * ratio);
    next.bytes = Math.floor(state.bytes * ratio);
  } else if (ratio >= 2) {
    const growth = Math.min(policy.maxGrowth, ratio / 2);
    if (sample.items >= state.items) next.items = Math.ceil(state.items * growth);
    if (sample.bytes >= state.bytes / 2) next.bytes = Math.ceil(state.bytes * growth);
  }
  next.items = clamp(next.items, policy.minItems, policy.maxItems);
  next.bytes = clamp(next.bytes, policy.minBytes, policy.maxBytes);
  return next;
}

/**
 * How many of the candidates (in send order, by their JSON size) go into the next request: a
 * prefix within both budgets, never empty — an op larger than the byte budget goes alone.
 */
export function planBatch(state: BatchState, sizes: readonly number[], policy: BatchingPolicy): { count: number; bytes: number } {
  const maxItems = clamp(state.items, policy.minItems, policy.maxItems);
  let count = 0;
  let bytes = 0;
  for (const size of sizes) {
    if (count >= maxItems) break;
    if (count > 0 && bytes + size > state.bytes) break;
    count += 1;
    bytes += size;
  }
  return { count, bytes };
}
