import { describe, expect, it } from "vitest";
import { dayWindow, isUtcDay, jobClock, previousUtcDay } from "@paysync/core/jobs/day-window";

describe("day windows of the daily jobs", () => {
  it.each([
    { case: "a run just after midnight reports on the day that ended", now: "2025-03-10T00:10:00.000Z", expected: "2025-03-09" },
    { case: "a run late in the day still reports on the day before", now: "2025-03-10T23:59:59.999Z", expected: "2025-03-09" },
    { case: "the day before the 1st of March in a leap year is the 29th", now: "2024-03-01T00:20:00.000Z", expected: "2024-02-29" },
    { case: "the day before New Year is in the old year", now: "2025-01-01T00:00:00.000Z", expected: "2024-12-31" },
  ])("$case", ({ now, expected }) => {
    // Act
    const day = previousUtcDay(new Date(now));

    // Assess
    expect(day).toBe(expected);
  });

  it("a day's window runs from its midnight to the next, end excluded", () => {
    // Act
    const window = dayWindow("2025-03-09");

    // Assess
    expect(window).toEqual({ day: "2025-03-09", from: new Date("2025-03-09T00:00:00.000Z"), to: new Date("2025-03-10T00:00:00.000Z") });
  });

  it.each([
    ["2025-03-09", true], ["2024-02-29", true], ["2025-02-29", false], ["2025-13-01", false],
    ["2025-3-9", false], ["2025-03-09T00:00:00Z", false], ["", false],
  ])("%j is a UTC day: %s", (value, expected) => {
    // Assess
    expect(isUtcDay(value)).toBe(expected);
    if (!expected) expect(() => dayWindow(value)).toThrow(RangeError);
  });

  it.each([
    { case: "the event's time is the job's clock", time: "2025-03-10T00:10:00Z", expected: "2025-03-10T00:10:00.000Z" },
    { case: "without a time the fallback is", time: undefined, expected: "2030-01-01T00:00:00.000Z" },
    { case: "an unreadable time falls back too", time: "yesterday", expected: "2030-01-01T00:00:00.000Z" },
  ])("$case", ({ time, expected }) => {
    // Act
    const clock = jobClock(time, new Date("2030-01-01T00:00:00.000Z"));

    // Assess
    expect(clock.toISOString()).toBe(expected);
  });
});
