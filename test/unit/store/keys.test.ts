import { describe, expect, it } from "vitest";
import { connectionKey, deviceKey, entityKey, feedEntryKey, feedPartition, historyKey, idSlot, parseFeedPartition, parkedEventKey, sessionUsageKey, userKeyOfPartition, userPartition } from "@paysync/aws/store/keys";

const USER_KEY = `u_${"ab".repeat(16)}`;
const OTHER_USER_KEY = `u_${"cd".repeat(16)}`;
const SLOT = `d_${"0f".repeat(16)}`;

describe("feed partitions", () => {
  it.each([
    [`FEED#${USER_KEY}#${SLOT}`, { userKey: USER_KEY, deviceSlot: SLOT }],
    [`FEED#${USER_KEY}#phone-1`, undefined],
    [`FEED#${USER_KEY}#a#b`, undefined],
    [`USER#${USER_KEY}`, undefined],
    ["FEED#user-123#phone", undefined],
  ])("%s parses to %j", (pk, expected) => {
    // Assess
    expect(parseFeedPartition(pk)).toEqual(expected);
  });

  it("a device's feed partition parses back to its user and device slot", () => {
    // Act
    const parsed = parseFeedPartition(feedPartition(USER_KEY, "tablet_2"));

    // Assess
    expect(parsed).toEqual({ userKey: USER_KEY, deviceSlot: idSlot(USER_KEY, "d", "tablet_2") });
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

describe("ids a device chooses", () => {
  const NAMED = "alice-iphone";

  it.each([
    ["device", () => deviceKey(USER_KEY, NAMED)],
    ["feed", () => feedEntryKey(USER_KEY, NAMED, 1)],
    ["entity", () => entityKey(USER_KEY, "mood_entry", NAMED)],
    ["history", () => historyKey(USER_KEY, "mood_entry", NAMED, 2)],
    ["session usage", () => sessionUsageKey(USER_KEY, "2026-12-02", "therapeutic_session", NAMED)],
    ["connection", () => connectionKey(USER_KEY, NAMED, "conn-1")],
  ])("the %s key holds a slot, not the id", (_name, key) => {
    // Act
    const { pk, sk } = key();

    // Assess
    expect(`${pk} ${sk}`).not.toContain("alice");
    expect(`${pk} ${sk}`).toMatch(/[de]_[0-9a-f]{32}/);
  });

  it("two users' equal ids get different slots, and kinds are kept apart", () => {
    // Assess
    expect(idSlot(USER_KEY, "d", NAMED)).not.toBe(idSlot(OTHER_USER_KEY, "d", NAMED));
    expect(idSlot(USER_KEY, "d", NAMED).slice(2)).not.toBe(idSlot(USER_KEY, "e", NAMED).slice(2));
    expect(idSlot(USER_KEY, "e", NAMED)).toBe(idSlot(USER_KEY, "e", NAMED));
  });
});
