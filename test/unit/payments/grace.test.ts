import { describe, expect, it } from "vitest";
import {
  DAY_MS,
  earlierFailureCount,
  graceDurationMs,
  graceEndsAtFor,
  type PaidTier,
} from "@paysync/core/payments";

describe("grace period length", () => {
  it.each<{ tier: PaidTier; failures: number; days: number }>([
    { tier: "premium", failures: 0, days: 14 },
    { tier: "basic", failures: 0, days: 7 },
    { tier: "trial", failures: 0, days: 3 },
    { tier: "premium", failures: 1, days: 10.5 },
    { tier: "premium", failures: 2, days: 7.875 },
    { tier: "premium", failures: 3, days: 5.90625 },
    { tier: "premium", failures: 5, days: 14 * 0.75 ** 5 },
    { tier: "premium", failures: 6, days: 3 },
    { tier: "premium", failures: 40, days: 3 },
    { tier: "basic", failures: 1, days: 5.25 },
    { tier: "basic", failures: 2, days: 3.9375 },
    { tier: "basic", failures: 3, days: 3 },
    { tier: "trial", failures: 2, days: 3 },
  ])("$tier after $failures earlier failures lasts $days days", ({ tier, failures, days }) => {
    // Act
    const duration = graceDurationMs(tier, failures);

    // Assess
    expect(duration).toBe(Math.floor(days * DAY_MS));
  });

  it.each([
    { name: "failures within the 180 days before the start count", failures: [-1, -100, -179.9], count: 3 },
    { name: "failures older than 180 days do not count", failures: [-180.01, -365, -10], count: 1 },
    { name: "the failure that starts the grace does not count itself", failures: [0, -5], count: 1 },
    { name: "failures after the start do not count", failures: [1, 2], count: 0 },
  ])("$name", ({ failures, count }) => {
    // Prepare
    const start = 1_750_000_000_000;
    const times = failures.map((days) => Math.round(start + days * DAY_MS));

    // Act
    const earlier = earlierFailureCount(times, start);

    // Assess
    expect(earlier).toBe(count);
  });

  it("a grace period ends its shortened length after it starts", () => {
    // Prepare
    const start = 1_750_000_000_000;
    const failures = [start - 30 * DAY_MS, start - 200 * DAY_MS, start];

    // Act
    const endsAt = graceEndsAtFor("basic", failures, start);

    // Assess
    expect(endsAt).toBe(start + 5.25 * DAY_MS);
  });
});
