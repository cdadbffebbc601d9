import { describe, expect, it } from "vitest";
import { entityKey, feedEntryKey, feedPartition, historyKey, parseFeedPartition, parkedEventKey, userKeyOfPartition, userPartition } from "@paysync/aws/store/keys";

const USER_KEY = `u_${"ab".repeat(16)}`;

describe("feed partitions", () => {
  it.each([
    [`FEED#${USER_KEY}#phone-1`, { userKey: USER_KEY, deviceId: "phone-1" }],
    [`FEED#${USER_KEY}#a#b`, undefined],
    [`USER#${USER_KEY}`, undefined],
    ["FEED#user-123#phone", undefined],
  ])("%s parses to %j", (pk, expected) => {
    // Assess
    expect(parseFeedPartition(pk)).toEqual(expected);
  });

  it("a device's feed partition parses back to its user and device", () => {
    // Act
    const parsed = parseFeedPartition(feedPartition(USER_KEY, "tablet_2"));

    // Assess
    expect(parsed).toEqual({ userKey: USER_KEY, deviceId: "tablet_2" });
  });
});

describe("sort keys order like the numbers they hold", () => {
  it.each([
    ["feed entries by seq", (n: number) => feedEntryKey(USER_KEY, "phone", n).sk],
    ["history by version", (n: number) => historyKey(USER_KEY, "mood_entry", "m1", n).sk],
    ["parked events by Stripe time", (n: number) => parkedEventKey("c_x", n, "evt_1").sk],
  ])("%s", (_name, sortKey) => {
    // Prepare
    const numbers = [1, 9, 10, 99, 100, 12_345];

    // Act
    const sorted = numbers.map(sortKey).sort();

    // Assess
    expect(sorted).toEqual(numbers.map(sortKey));
  });
});

describe("user partitions", () => {
  it("every item of a user lives in the user's partition, which names only the pseudonymous key", () => {
    // Act
    const { pk } = entityKey(USER_KEY, "safety_plan", "current");

    // Assess
    expect(pk).toBe(userPartition(USER_KEY));
    expect(userKeyOfPartition(pk)).toBe(USER_KEY);
  });
});
