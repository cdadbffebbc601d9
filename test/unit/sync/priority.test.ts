import { describe, expect, it } from "vitest";
import { ValidationError } from "@paysync/core/errors";
import { TIERS, type Tier } from "@paysync/core/tiers";
import {
  CLASS_PRIORITY, ENTITY_TYPES, SYNC_LANES, classifyOp, effectivePriority, laneFor, type Lane, type Priority,
} from "@paysync/core/sync";

const phq9 = (answers: number[]) => ({ instrument: "PHQ-9", answers });
const gad7 = (answers: number[]) => ({ instrument: "GAD-7", answers });

describe("class priority of an op", () => {
  it.each(ENTITY_TYPES.filter((t) => t !== "assessment"))("%s takes its class priority whatever the payload", (entityType) => {
    // Act
    const priority = classifyOp(entityType, { priority: 10, anything: true });

    // Assess
    expect(priority).toBe(CLASS_PRIORITY[entityType]);
  });

  it.each([
    { case: "a PHQ-9 with item 9 above zero is crisis priority whatever the total", payload: phq9([0, 0, 0, 0, 0, 0, 0, 0, 1]), expected: 9 },
    { case: "a PHQ-9 totalling 20 is crisis priority", payload: phq9([3, 3, 3, 3, 3, 3, 2, 0, 0]), expected: 9 },
    { case: "a PHQ-9 totalling 19 is assessment data", payload: phq9([3, 3, 3, 3, 3, 3, 1, 0, 0]), expected: 6 },
    { case: "a GAD-7 totalling 15 is crisis priority", payload: gad7([3, 3, 3, 3, 3, 0, 0]), expected: 9 },
    { case: "a GAD-7 totalling 14 is assessment data", payload: gad7([3, 3, 3, 3, 2, 0, 0]), expected: 6 },
    { case: "a device's own priority claim is ignored", payload: { ...gad7([0, 0, 0, 0, 0, 0, 0]), priority: 10, crisis: true }, expected: 6 },
    { case: "an assessment delete without payload is assessment data", payload: null, expected: 6 },
  ])("$case", ({ payload, expected }) => {
    // Act
    const priority = classifyOp("assessment", payload);

    // Assess
    expect(priority).toBe(expected);
  });

  it("an unscorable assessment is a validation error, never a guessed priority", () => {
    // Act & Assess
    expect(() => classifyOp("assessment", phq9([0, 0, 0]))).toThrow(ValidationError);
  });
});

describe("effective priority by tier", () => {
  // Rows: tier; columns: class priority 10 down to 1 (SPEC.md section 2).
  const table: Record<Tier, Priority[]> = {
    trial: [10, 9, 8, 3, 3, 3, 3, 3, 2, 1],
    basic: [10, 9, 8, 4, 4, 4, 4, 3, 2, 1],
    premium: [10, 9, 8, 7, 6, 5, 4, 3, 2, 1],
    grace_period: [10, 9, 8, 5, 5, 5, 4, 3, 2, 1],
    free: [10, 9, 8, 2, 2, 2, 2, 2, 2, 1],
  };
  const cases = TIERS.flatMap((tier) =>
    table[tier].map((expected, i) => ({ tier, classPriority: (10 - i) as Priority, expected })),
  );

  it.each(cases)("on $tier, class $classPriority runs at $expected", ({ tier, classPriority, expected }) => {
    // Act
    const priority = effectivePriority({ classPriority, tier, inCrisisMode: false, inActiveSession: false });

    // Assess
    expect(priority).toBe(expected);
  });

  it.each([
    { case: "premium escalates a 6 to 7 in crisis mode", tier: "premium", classPriority: 6, crisis: true, session: false, expected: 7 },
    { case: "premium escalates a 6 to 7 in an active session", tier: "premium", classPriority: 6, crisis: false, session: true, expected: 7 },
    { case: "premium escalates a 6 to 7 in both", tier: "premium", classPriority: 6, crisis: true, session: true, expected: 7 },
    { case: "premium does not escalate a 6 outside crisis and sessions", tier: "premium", classPriority: 6, crisis: false, session: false, expected: 6 },
    { case: "premium does not escalate a 5", tier: "premium", classPriority: 5, crisis: true, session: true, expected: 5 },
    { case: "premium does not escalate a 4", tier: "premium", classPriority: 4, crisis: true, session: false, expected: 4 },
    { case: "basic never escalates", tier: "basic", classPriority: 6, crisis: true, session: true, expected: 4 },
    { case: "grace period never escalates", tier: "grace_period", classPriority: 6, crisis: true, session: true, expected: 5 },
    { case: "trial never escalates", tier: "trial", classPriority: 6, crisis: true, session: true, expected: 3 },
    { case: "free never escalates", tier: "free", classPriority: 6, crisis: true, session: true, expected: 2 },
  ] as const)("$case", ({ tier, classPriority, crisis, session, expected }) => {
    // Act
    const priority = effectivePriority({ classPriority, tier, inCrisisMode: crisis, inActiveSession: session });

    // Assess
    expect(priority).toBe(expected);
  });
});

describe("lanes", () => {
  it.each<[Priority, Lane]>([
    [10, "crisis"],
    [9, "crisis"],
    [8, "realtime"],
    [7, "realtime"],
    [6, "standard"],
    [5, "standard"],
    [4, "standard"],
    [3, "background"],
    [2, "background"],
    [1, "background"],
  ])("priority %i goes to the %s lane", (priority, expected) => {
    // Assess
    expect(laneFor(priority)).toBe(expected);
  });

  it("queued lanes are realtime, standard and background, fastest first", () => {
    // Assess
    expect(SYNC_LANES).toEqual(["realtime", "standard", "background"]);
  });
});
