import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { percentiles } from "@paysync/core/audit/summary";
import {
  SKETCH_RELATIVE_ACCURACY, addSample, emptySketch, mergeSketches, sketchPercentiles,
} from "@paysync/core/jobs/latency-sketch";

const sketchOf = (values: readonly number[]) => values.reduce((sketch, v) => addSample(sketch, v), emptySketch());
const within = (actual: number | null, exact: number | null) =>
  actual === exact || (actual !== null && exact !== null && Math.abs(actual - exact) <= SKETCH_RELATIVE_ACCURACY * exact + 1e-9);
const latencies = fc.array(fc.oneof(fc.constant(0), fc.double({ min: 0.1, max: 900_000, noNaN: true })), { minLength: 1, maxLength: 400 });

describe("the latency sketch", () => {
  it("an empty sketch has no percentiles", () => {
    // Assess
    expect(sketchPercentiles(emptySketch())).toEqual({ count: 0, p50: null, p90: null, p95: null, p99: null, max: null });
  });

  it("every percentile is within 1 % of the exact nearest-rank percentile; count and max are exact", () => {
    fc.assert(fc.property(latencies, (values) => {
      // Act
      const approx = sketchPercentiles(sketchOf(values));
      const exact = percentiles(values);

      // Assess
      expect(approx.count).toBe(exact.count);
      expect(approx.max).toBe(exact.max);
      for (const key of ["p50", "p90", "p95", "p99"] as const) expect(within(approx[key], exact[key]), `${key}: ${approx[key]} vs ${exact[key]}`).toBe(true);
    }));
  });

  it("merging the sketches of two halves gives the sketch of the whole", () => {
    fc.assert(fc.property(latencies, fc.nat(), (values, cut) => {
      // Prepare
      const at = cut % (values.length + 1);

      // Act
      const merged = mergeSketches(sketchOf(values.slice(0, at)), sketchOf(values.slice(at)));

      // Assess
      expect(sketchPercentiles(merged)).toEqual(sketchPercentiles(sketchOf(values)));
    }));
  });

  it("a sketch of a million samples stays small: its size follows the spread, not the count", () => {
    // Prepare
    const sketch = emptySketch();

    // Act
    for (let i = 0; i < 1_000_000; i++) addSample(sketch, 1 + (i % 10_000) / 10);

    // Assess
    expect(sketch.count).toBe(1_000_000);
    expect(Object.keys(sketch.bins).length).toBeLessThan(400);
    expect(JSON.stringify(sketch).length).toBeLessThan(8_000);
  });
});
