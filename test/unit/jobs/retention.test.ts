import { describe, expect, it } from "vitest";
import {
  LONGEST_RETENTION_DAYS, decideFeedEntry, retentionDaysFor,
} from "@paysync/core/jobs/retention";
import type { Tier } from "@paysync/core/tiers";

const NOW = new Date("2025-03-31T03:30:00.000Z");
const DAY_MS = 86_400_000;
const daysAgo = (days: number) => new Date(NOW.getTime() - days * DAY_MS).toISOString();

describe("retention by tier", () => {
  it.each<[Tier, number]>([
    ["trial", 7], ["basic", 14], ["premium", 30], ["grace_period", 21], ["free", 7],
  ])("a %s user's changes wait %i days for a device (SPEC.md §1)", (tier, days) => {
    // Assess
    expect(retentionDaysFor(tier, 4)).toBe(days);
    expect(retentionDaysFor(tier, 8)).toBe(days);
  });

  it.each<[Tier, number]>([["free", 9], ["free", 10], ["trial", 10], ["basic", 9]])(
    "crisis changes (%s, priority %i) wait as long as on any tier: money never shortens it",
    (tier, priority) => {
      // Assess
      expect(retentionDaysFor(tier, priority)).toBe(LONGEST_RETENTION_DAYS);
      expect(LONGEST_RETENTION_DAYS).toBe(30);
    },
  );
});

describe("which feed entries the purge removes", () => {
  it.each<{ case: string; tier: Tier; ageDays: number; priority?: number; registered?: boolean; expected: string }>([
    { case: "a free user's change younger than 7 days stays", tier: "free", ageDays: 6.9, expected: "in_retention" },
    { case: "a free user's change older than 7 days goes", tier: "free", ageDays: 7.1, expected: "past_retention" },
    { case: "exactly at the retention it still stays", tier: "free", ageDays: 7, expected: "in_retention" },
    { case: "a basic user's 13-day-old change stays", tier: "basic", ageDays: 13, expected: "in_retention" },
    { case: "a basic user's 15-day-old change goes", tier: "basic", ageDays: 15, expected: "past_retention" },
    { case: "a grace-period user's 20-day-old change stays", tier: "grace_period", ageDays: 20, expected: "in_retention" },
    { case: "a premium user's 29-day-old change stays", tier: "premium", ageDays: 29, expected: "in_retention" },
    { case: "a premium user's 31-day-old change goes", tier: "premium", ageDays: 31, expected: "past_retention" },
    { case: "a free user's 10-day-old safety-plan change stays", tier: "free", ageDays: 10, priority: 10, expected: "in_retention" },
    { case: "a free user's 31-day-old crisis change goes", tier: "free", ageDays: 31, priority: 9, expected: "past_retention" },
    { case: "a removed device's change goes at any age", tier: "premium", ageDays: 0, registered: false, expected: "device_removed" },
    { case: "a removed device's crisis change goes too: no one can pull it", tier: "free", ageDays: 1, priority: 10, registered: false, expected: "device_removed" },
  ])("$case", ({ tier, ageDays, priority = 4, registered = true, expected }) => {
    // Act
    const decision = decideFeedEntry({ createdAt: daysAgo(ageDays), priority, tier, deviceRegistered: registered }, NOW);

    // Assess
    expect(decision.reason).toBe(expected);
    expect(decision.purge).toBe(expected === "past_retention" || expected === "device_removed");
  });

  it.each([undefined, "not a time"])("an entry of a registered device without a readable time (%j) is left to the TTL backstop", (createdAt) => {
    // Act
    const decision = decideFeedEntry({ createdAt, priority: 4, tier: "free", deviceRegistered: true }, NOW);

    // Assess
    expect(decision).toEqual({ purge: false, reason: "undated" });
  });

  it("never purges an in-retention change of a registered device, whatever the tier, priority or age", () => {
    // Prepare
    const tiers: Tier[] = ["trial", "basic", "premium", "grace_period", "free"];
    const cases = tiers.flatMap((tier) => [1, 4, 6, 8, 9, 10].flatMap((priority) =>
      Array.from({ length: 62 }, (_, half) => ({ tier, priority, ageDays: half / 2 }))));

    // Act
    const wrong = cases.filter(({ tier, priority, ageDays }) =>
      decideFeedEntry({ createdAt: daysAgo(ageDays), priority, tier, deviceRegistered: true }, NOW).purge
      !== ageDays > retentionDaysFor(tier, priority));

    // Assess
    expect(wrong).toEqual([]);
  });
});
