/**
 * A mergeable latency histogram (the DDSketch idea): samples fall into logarithmic buckets
 * whose width is 2 % of their value, so any percentile read from it is within 1 % of the
 * exact nearest-rank percentile, and two sketches merge by adding counts. A daily report
 * can then read its day in bounded pages, keep one small sketch per page, and merge them at
 * the end — the size depends on the spread of latencies, never on how many there were.
 * `count`, `min` and `max` are exact.
 *
 * @example
 * const sketch = emptySketch();
 * for (const ms of [12, 40, 41, 900]) addSample(sketch, ms);
 * sketchPercentiles(sketch).p50; // ≈ 40 (within 1 %)
 */
import type { LatencyPercentiles } from "../audit/summary.js";

/** Relative accuracy of every percentile read from a sketch. */
export const SKETCH_RELATIVE_ACCURACY = 0.01;
const GAMMA = (1 + SKETCH_RELATIVE_ACCURACY) / (1 - SKETCH_RELATIVE_ACCURACY);
const LN_GAMMA = Math.log(GAMMA);

export interface LatencySketch {
  count: number;
  min: number | null;
  max: number | null;
  /** Samples of 0 ms (or less), which no logarithmic bucket holds. */
  zeros: number;
  /** Bucket index → samples; bucket `i` holds values in `(γ^(i-1), γ^i]`. Keys are strings so the sketch stores as JSON or a DynamoDB map. */
  bins: Record<string, number>;
}

export const emptySketch = (): LatencySketch => ({ count: 0, min: null, max: null, zeros: 0, bins: {} });

const bucketOf = (value: number): number => Math.ceil(Math.log(value) / LN_GAMMA);
/** The value every sample of bucket `i` is reported as: within the relative accuracy of all of them. */
const bucketValue = (index: number): number => (2 * GAMMA ** index) / (GAMMA + 1);

export function addSample(sketch: LatencySketch, valueMs: number): LatencySketch {
  if (!Number.isFinite(valueMs)) return sketch;
  sketch.count += 1;
  sketch.min = sketch.min === null ? valueMs : Math.min(sketch.min, valueMs);
  sketch.max = sketch.max === null ? valueMs : Math.max(sketch.max, valueMs);
  if (valueMs <= 0) {
    sketch.zeros += 1;
  } else {
    const key = String(bucketOf(valueMs));
    sketch.bins[key] = (sketch.bins[key] ?? 0) + 1;
  }
  return sketch;
}

/** A new sketch holding the samples of both. */
export function mergeSketches(a: LatencySketch, b: LatencySketch): LatencySketch {
  const bins = { ...a.bins };
  for (const [key, n] of Object.entries(b.bins)) bins[key] = (bins[key] ?? 0) + n;
  const pick = (x: number | null, y: number | null, f: (p: number, q: number) => number) => (x === null ? y : y === null ? x : f(x, y));
  return { count: a.count + b.count, min: pick(a.min, b.min, Math.min), max: pick(a.max, b.max, Math.max), zeros: a.zeros + b.zeros, bins };
}

/** Nearest-rank percentile `p` (0–100), within the sketch's accuracy; `null` when empty. */
export function sketchPercentile(sketch: LatencySketch, p: number): number | null {
  if (sketch.count === 0 || sketch.min === null || sketch.max === null) return null;
  const rank = Math.min(sketch.count, Math.max(1, Math.ceil((p / 100) * sketch.count)));
  if (rank === sketch.count) return sketch.max;
  let seen = sketch.zeros;
  if (rank <= seen) return Math.max(sketch.min, 0);
  const ordered = Object.entries(sketch.bins).map(([key, n]) => [Number(key), n] as const).sort(([a], [b]) => a - b);
  for (const [index, n] of ordered) {
    seen += n;
    if (rank <= seen) return Math.min(sketch.max, Math.max(sketch.min, bucketValue(index)));
  }
  return sketch.max;
}

/** The percentiles the reports print, in the same shape as the compliance report's. */
export function sketchPercentiles(sketch: LatencySketch): LatencyPercentiles {
  return {
    count: sketch.count,
    p50: sketchPercentile(sketch, 50),
    p90: sketchPercentile(sketch, 90),
    p95: sketchPercentile(sketch, 95),
    p99: sketchPercentile(sketch, 99),
    max: sketch.max,
  };
}
