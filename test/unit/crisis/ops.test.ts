import { describe, expect, it } from "vitest";
import { parseCrisisOp } from "@paysync/core/crisis/ops";
import { ValidationError } from "@paysync/core/errors";

const PLAN = { warningSigns: ["w"], copingStrategies: [], reasonsForLiving: [], distractions: [], peopleToAskForHelp: [], professionalsToContact: [], makingEnvironmentSafe: [] };

describe("a crisis op's payload", () => {
  it.each([
    { case: "a safety plan, omitted sections filled in", entityType: "safety_plan", payload: { warningSigns: ["w"] }, stored: PLAN, crisisLevel: null },
    { case: "contacts as the PUT body", entityType: "emergency_contacts", payload: { contacts: [{ name: "Sam" }] }, stored: { contacts: [{ name: "Sam" }] }, crisisLevel: null },
    { case: "a crisis state activation", entityType: "crisis_state", payload: { active: true, level: "high" }, stored: { active: true, level: "high" }, crisisLevel: null },
    {
      case: "a crisis-level assessment, stored as sent with the level it activates", entityType: "assessment",
      payload: { instrument: "PHQ-9", answers: [0, 0, 0, 0, 0, 0, 0, 0, 1], takenAt: "2026-03-01" },
      stored: { instrument: "PHQ-9", answers: [0, 0, 0, 0, 0, 0, 0, 0, 1], takenAt: "2026-03-01" }, crisisLevel: "high",
    },
    { case: "an assessment under the thresholds", entityType: "assessment", payload: { instrument: "GAD-7", answers: [2, 2, 2, 2, 2, 2, 2] }, stored: { instrument: "GAD-7", answers: [2, 2, 2, 2, 2, 2, 2] }, crisisLevel: null },
  ] as const)("accepts $case", ({ entityType, payload, stored, crisisLevel }) => {
    // Act
    const parsed = parseCrisisOp(entityType, "upsert", payload);

    // Assess
    expect(parsed).toEqual({ payload: stored, crisisLevel });
  });

  it.each(["crisis_state", "safety_plan", "emergency_contacts", "assessment"] as const)("needs no payload for a %s delete", (entityType) => {
    // Act / Assess
    expect(parseCrisisOp(entityType, "delete", "anything")).toEqual({ payload: undefined, crisisLevel: null });
  });

  it.each([
    { case: "a safety plan with an unknown section", entityType: "safety_plan", payload: { ...PLAN, diary: [] } },
    { case: "contacts as a bare list", entityType: "emergency_contacts", payload: [{ name: "Sam" }] },
    { case: "a contact with a bad phone", entityType: "emergency_contacts", payload: { contacts: [{ name: "Sam", phone: "ring me" }] } },
    { case: "an active crisis state without a level", entityType: "crisis_state", payload: { active: true } },
    { case: "a PHQ-9 with 7 answers", entityType: "assessment", payload: { instrument: "PHQ-9", answers: [3, 3, 3, 3, 3, 3, 3] } },
    { case: "an answer above 3", entityType: "assessment", payload: { instrument: "GAD-7", answers: [4, 0, 0, 0, 0, 0, 0] } },
  ] as const)("rejects $case as a validation error with details", ({ entityType, payload }) => {
    // Act
    let caught: unknown;
    try {
      parseCrisisOp(entityType, "upsert", payload);
    } catch (error) {
      caught = error;
    }

    // Assess
    expect(caught).toBeInstanceOf(ValidationError);
    expect((caught as ValidationError).details).toEqual(expect.arrayContaining([expect.objectContaining({ path: expect.any(Array) })]));
  });
});
