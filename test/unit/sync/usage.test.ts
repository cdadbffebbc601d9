import { describe, expect, it } from "vitest";
import { bucketCapacity, usageReport } from "@paysync/core/sync/limits";
import { policyFor, TIERS } from "@paysync/core/tiers";

const NOON = Date.parse("2026-12-02T12:00:00.000Z");

describe("today's usage against the plan (GET /v1/me/usage)", () => {
  it.each(TIERS)("%s: the limits are the tier's own, and a new user has used nothing", (tier) => {
    // Act
    const report = usageReport(policyFor(tier), { dailyBytes: 0, pendingOps: 0, bucket: undefined }, NOON);

    // Assess
    const policy = policyFor(tier);
    expect(report).toEqual({
      tier, day: "2026-12-02",
      dailyData: { usedBytes: 0, limitBytes: policy.dailyDataBytes, resetsAt: "2026-12-03T00:00:00.000Z" },
      offlineQueue: { pendingOps: 0, limitOps: policy.offlineQueueLimit },
      bandwidth: policy.bandwidthBytesPerSecond === null
        ? { availableBytes: null, capacityBytes: null, bytesPerSecond: null }
        : { availableBytes: bucketCapacity(policy), capacityBytes: bucketCapacity(policy), bytesPerSecond: policy.bandwidthBytesPerSecond },
    });
  });

  it("the bucket refills at the tier's rate up to its capacity, and a debt shows as nothing available", () => {
    // Prepare
    const policy = policyFor("free");
    const rate = policy.bandwidthBytesPerSecond!;
    const capacity = bucketCapacity(policy)!;

    // Act
    const refilling = usageReport(policy, { dailyBytes: 10, pendingOps: 3, bucket: { tokens: 0, updatedAtMs: NOON - 2_000 } }, NOON);
    const inDebt = usageReport(policy, { dailyBytes: 10, pendingOps: 3, bucket: { tokens: -5 * rate, updatedAtMs: NOON - 1_000 } }, NOON);
    const full = usageReport(policy, { dailyBytes: 10, pendingOps: 3, bucket: { tokens: 0, updatedAtMs: NOON - 3_600_000 } }, NOON);

    // Assess
    expect(refilling.bandwidth.availableBytes).toBe(Math.min(capacity, 2 * rate));
    expect(inDebt.bandwidth.availableBytes).toBe(0);
    expect(full.bandwidth.availableBytes).toBe(capacity);
    expect(refilling.offlineQueue.pendingOps).toBe(3);
  });
});
