import { describe, expect, it } from "vitest";
import { LimitExceededError, PayloadTooLargeError } from "@paysync/core/errors";
import { policyFor, type Tier } from "@paysync/core/tiers";
import {
  MAX_OP_PAYLOAD_BYTES, bucketCapacity, checkDailyData, checkOpPayloadSize, checkPendingOps, checkPushBytes,
  isLimitExempt, jsonByteLength, recordDataUsage, secondsUntilNextUtcMidnight, takeBandwidth, utcDayKey,
  type Check,
} from "@paysync/core/sync";

const KiB = 1024;
const MiB = 1024 * KiB;
const NOW = Date.parse("2025-03-10T12:00:00.000Z");

function limitOf(result: Check): { limit: string; retryAfterSeconds: number } | "ok" {
  if (result.ok) return "ok";
  expect(result.error).toBeInstanceOf(LimitExceededError);
  return { limit: result.error.limit, retryAfterSeconds: result.error.retryAfterSeconds };
}

describe("exemption", () => {
  it.each([
    [1, false], [2, false], [3, false], [4, false], [5, false], [6, false], [7, false],
    [8, true], [9, true], [10, true],
  ])("priority %i is exempt from limits: %s", (priority, expected) => {
    // Assess
    expect(isLimitExempt(priority)).toBe(expected);
  });
});

describe("bandwidth token bucket", () => {
  it.each<[Tier, number | null]>([
    ["trial", 500 * KiB],
    ["basic", 2_000 * KiB],
    ["premium", null],
    ["grace_period", 1_000 * KiB],
    ["free", MAX_OP_PAYLOAD_BYTES],
  ])("%s holds a burst of %s bytes (10 s of rate, at least one maximal op)", (tier, expected) => {
    // Assess
    expect(bucketCapacity(policyFor(tier))).toBe(expected);
  });

  it("a user never charged starts with a full bucket", () => {
    // Act
    const { result, state } = takeBandwidth({ policy: policyFor("basic"), state: undefined, bytes: 2_000 * KiB, nowMs: NOW, priority: 4 });

    // Assess
    expect(result.ok).toBe(true);
    expect(state).toEqual({ tokens: 0, updatedAtMs: NOW });
  });

  it.each([
    { case: "an empty bucket refuses and says when enough will have refilled", tokens: 0, elapsedMs: 0, bytes: 100 * KiB, expected: { limit: "bandwidth", retryAfterSeconds: 2 } },
    { case: "Retry-After rounds up to whole seconds", tokens: 0, elapsedMs: 0, bytes: 50 * KiB + 1, expected: { limit: "bandwidth", retryAfterSeconds: 2 } },
    { case: "Retry-After is at least one second", tokens: 50 * KiB - 1, elapsedMs: 0, bytes: 50 * KiB, expected: { limit: "bandwidth", retryAfterSeconds: 1 } },
    { case: "elapsed time refills at the tier's rate", tokens: 0, elapsedMs: 2_000, bytes: 100 * KiB, expected: "ok" as const },
    { case: "refill stops at the burst capacity", tokens: 0, elapsedMs: 3_600_000, bytes: 500 * KiB + 1, expected: "ok" as const },
    { case: "a debt from a large push is paid off before the next one", tokens: -200 * KiB, elapsedMs: 2_000, bytes: 1, expected: { limit: "bandwidth", retryAfterSeconds: 3 } },
  ])("on trial (50 KiB/s), $case", ({ tokens, elapsedMs, bytes, expected }) => {
    // Prepare
    const state = { tokens, updatedAtMs: NOW - elapsedMs };

    // Act
    const { result } = takeBandwidth({ policy: policyFor("trial"), state, bytes, nowMs: NOW, priority: 3 });

    // Assess
    expect(limitOf(result)).toEqual(expected);
  });

  it("a push larger than the burst goes through once the bucket is full, leaving a debt", () => {
    // Prepare
    const policy = policyFor("trial");

    // Act
    const { result, state } = takeBandwidth({ policy, state: undefined, bytes: 2 * MiB, nowMs: NOW, priority: 3 });

    // Assess
    expect(result.ok).toBe(true);
    expect(state?.tokens).toBe(500 * KiB - 2 * MiB);
  });

  it("a refused request refills the stored state but charges nothing", () => {
    // Prepare
    const state = { tokens: 10 * KiB, updatedAtMs: NOW - 1_000 };

    // Act
    const next = takeBandwidth({ policy: policyFor("trial"), state, bytes: 100 * KiB, nowMs: NOW, priority: 3 });

    // Assess
    expect(next.result.ok).toBe(false);
    expect(next.state).toEqual({ tokens: 60 * KiB, updatedAtMs: NOW });
  });

  it("a clock going backwards refills nothing", () => {
    // Prepare
    const state = { tokens: 10 * KiB, updatedAtMs: NOW + 60_000 };

    // Act
    const next = takeBandwidth({ policy: policyFor("trial"), state, bytes: 20 * KiB, nowMs: NOW, priority: 3 });

    // Assess
    expect(limitOf(next.result)).toEqual({ limit: "bandwidth", retryAfterSeconds: 1 });
  });

  it.each([8, 9, 10])("priority %i is never throttled nor charged, even with an empty bucket", (priority) => {
    // Prepare
    const state = { tokens: -10 * MiB, updatedAtMs: NOW };

    // Act
    const next = takeBandwidth({ policy: policyFor("free"), state, bytes: 5 * MiB, nowMs: NOW, priority });

    // Assess
    expect(next.result.ok).toBe(true);
    expect(next.state).toBe(state);
  });

  it("premium bandwidth is unlimited", () => {
    // Act
    const next = takeBandwidth({ policy: policyFor("premium"), state: undefined, bytes: 1_000 * MiB, nowMs: NOW, priority: 7 });

    // Assess
    expect(next).toEqual({ result: { ok: true }, state: undefined });
  });
});

describe("bytes in one push", () => {
  it.each<[Tier, number, number, "ok" | "push_bytes"]>([
    ["trial", 10 * MiB, 4, "ok"],
    ["trial", 10 * MiB + 1, 4, "push_bytes"],
    ["basic", 50 * MiB, 4, "ok"],
    ["basic", 50 * MiB + 1, 4, "push_bytes"],
    ["grace_period", 25 * MiB + 1, 5, "push_bytes"],
    ["free", 1 * MiB + 1, 2, "push_bytes"],
    ["free", 1 * MiB + 1, 8, "ok"],
    ["free", 1 * MiB + 1, 10, "ok"],
    ["premium", 1_000 * MiB, 7, "ok"],
  ])("on %s, a push of %i bytes at priority %i is %s", (tier, bytes, priority, expected) => {
    // Act
    const result = limitOf(checkPushBytes({ policy: policyFor(tier), bytes, priority }));

    // Assess
    expect(result === "ok" ? "ok" : result.limit).toBe(expected);
  });

  it("an oversized push is told to split now rather than wait", () => {
    // Act
    const result = limitOf(checkPushBytes({ policy: policyFor("free"), bytes: 2 * MiB, priority: 2 }));

    // Assess
    expect(result).toEqual({ limit: "push_bytes", retryAfterSeconds: 0 });
  });
});

describe("daily data", () => {
  it.each([
    ["2025-03-10T00:00:00.000Z", "2025-03-10", 86_400],
    ["2025-03-10T12:00:00.000Z", "2025-03-10", 43_200],
    ["2025-03-10T23:59:59.000Z", "2025-03-10", 1],
    ["2025-03-10T23:59:59.999Z", "2025-03-10", 1],
    ["2024-12-31T23:00:00.000Z", "2024-12-31", 3_600],
    ["2024-02-28T23:30:00.000Z", "2024-02-28", 1_800],
  ])("at %s the UTC day is %s and it ends in %i s", (iso, day, seconds) => {
    // Prepare
    const nowMs = Date.parse(iso);

    // Assess
    expect(utcDayKey(nowMs)).toBe(day);
    expect(secondsUntilNextUtcMidnight(nowMs)).toBe(seconds);
  });

  it.each([
    { case: "usage under the allowance is admitted and recorded", usage: { day: "2025-03-10", bytes: 10 * MiB }, bytes: 10 * MiB, expected: "ok" as const, after: { day: "2025-03-10", bytes: 20 * MiB } },
    { case: "usage that would pass the allowance is refused until midnight UTC", usage: { day: "2025-03-10", bytes: 20 * MiB }, bytes: 1, expected: { limit: "daily_data", retryAfterSeconds: 43_200 }, after: { day: "2025-03-10", bytes: 20 * MiB } },
    { case: "yesterday's usage does not count today", usage: { day: "2025-03-09", bytes: 20 * MiB }, bytes: 1 * MiB, expected: "ok" as const, after: { day: "2025-03-10", bytes: 1 * MiB } },
    { case: "a first transfer of the day starts from zero", usage: undefined, bytes: 20 * MiB, expected: "ok" as const, after: { day: "2025-03-10", bytes: 20 * MiB } },
  ])("on free (20 MiB a day), $case", ({ usage, bytes, expected, after }) => {
    // Act
    const next = checkDailyData({ policy: policyFor("free"), usage, bytes, nowMs: NOW, priority: 2 });

    // Assess
    expect(limitOf(next.result)).toEqual(expected);
    expect(next.usage).toEqual(after);
  });

  it("the allowance comes back on the stroke of midnight UTC", () => {
    // Prepare
    const usage = { day: "2025-03-10", bytes: 20 * MiB };
    const lastMs = Date.parse("2025-03-10T23:59:59.999Z");

    // Act
    const before = checkDailyData({ policy: policyFor("free"), usage, bytes: 1, nowMs: lastMs, priority: 2 });
    const after = checkDailyData({ policy: policyFor("free"), usage, bytes: 1, nowMs: lastMs + 1, priority: 2 });

    // Assess
    expect(limitOf(before.result)).toEqual({ limit: "daily_data", retryAfterSeconds: 1 });
    expect(after.result.ok).toBe(true);
    expect(after.usage).toEqual({ day: "2025-03-11", bytes: 1 });
  });

  it.each([8, 9, 10])("priority %i moves past a spent allowance without being counted", (priority) => {
    // Prepare
    const usage = { day: "2025-03-10", bytes: 20 * MiB };

    // Act
    const next = checkDailyData({ policy: policyFor("free"), usage, bytes: 5 * MiB, nowMs: NOW, priority });

    // Assess
    expect(next).toEqual({ result: { ok: true }, usage });
  });

  it("premium daily data is unlimited", () => {
    // Act
    const next = checkDailyData({ policy: policyFor("premium"), usage: undefined, bytes: 10_000 * MiB, nowMs: NOW, priority: 7 });

    // Assess
    expect(next.result.ok).toBe(true);
  });

  it("pull bytes are recorded after the fact onto the same day", () => {
    // Act
    const usage = recordDataUsage({ day: "2025-03-10", bytes: 5 }, 7, NOW);

    // Assess
    expect(usage).toEqual({ day: "2025-03-10", bytes: 12 });
  });
});

describe("offline queue", () => {
  it.each<[Tier, number, number, number, unknown]>([
    ["free", 9, 1, 4, "ok"],
    ["free", 10, 1, 4, { limit: "offline_queue", retryAfterSeconds: 60 }],
    ["trial", 20, 0, 3, "ok"],
    ["trial", 15, 6, 3, { limit: "offline_queue", retryAfterSeconds: 30 }],
    ["basic", 50, 1, 4, { limit: "offline_queue", retryAfterSeconds: 5 }],
    ["grace_period", 75, 1, 5, { limit: "offline_queue", retryAfterSeconds: 2 }],
    ["premium", 200, 1, 7, { limit: "offline_queue", retryAfterSeconds: 1 }],
    ["free", 1_000, 10, 8, "ok"],
    ["free", 1_000, 10, 10, "ok"],
  ])("on %s with %i pending and %i incoming at priority %i: %j", (tier, pendingOps, incomingOps, priority, expected) => {
    // Act
    const result = checkPendingOps({ policy: policyFor(tier), pendingOps, incomingOps, priority });

    // Assess
    expect(limitOf(result)).toEqual(expected);
  });
});

describe("op payload size", () => {
  // `"…"` adds two bytes of JSON quotes around the string.
  it.each([
    ["exactly the limit", MAX_OP_PAYLOAD_BYTES - 2, true],
    ["one byte over the limit", MAX_OP_PAYLOAD_BYTES - 1, false],
  ])("a payload of %s is %s", (_case, length, ok) => {
    // Prepare
    const payload = "x".repeat(length);

    // Act
    const result = checkOpPayloadSize(payload);

    // Assess
    expect(jsonByteLength(payload)).toBe(length + 2);
    expect(result.ok).toBe(ok);
    if (!result.ok) expect(result.error).toBeInstanceOf(PayloadTooLargeError);
  });

  it("multi-byte characters count as UTF-8 bytes", () => {
    // Assess
    expect(jsonByteLength({ m: "é" })).toBe('{"m":"é"}'.length + 1);
  });
});
