import { describe, expect, it } from "vitest";
import { AssessmentPayloadSchema, scoreAssessment } from "@paysync/core/sync";

/** PHQ-9 answers with item 9 set apart, the first eight summing to `rest`. */
function phq9(rest: number, item9 = 0): number[] {
  const answers = Array.from({ length: 8 }, (_, i) => Math.max(0, Math.min(3, rest - i * 3)));
  return [...answers, item9];
}

function gad7(total: number): number[] {
  return Array.from({ length: 7 }, (_, i) => Math.max(0, Math.min(3, total - i * 3)));
}

describe("assessment scoring", () => {
  it.each([
    { case: "a PHQ-9 of 19 without item 9 is not a crisis", answers: phq9(19), total: 19, item9: 0, crisis: false },
    { case: "a PHQ-9 of exactly 20 is a crisis", answers: phq9(20), total: 20, item9: 0, crisis: true },
    { case: "a PHQ-9 of 27 is a crisis", answers: phq9(24, 3), total: 27, item9: 3, crisis: true },
    { case: "a PHQ-9 with item 9 above zero is a crisis whatever the total", answers: phq9(0, 1), total: 1, item9: 1, crisis: true },
    { case: "an all-zero PHQ-9 is not a crisis", answers: phq9(0), total: 0, item9: 0, crisis: false },
  ])("$case", ({ answers, total, item9, crisis }) => {
    // Prepare
    const payload = AssessmentPayloadSchema.parse({ instrument: "PHQ-9", answers });

    // Act
    const score = scoreAssessment(payload);

    // Assess
    expect(score).toEqual({ instrument: "PHQ-9", total, item9, crisis });
  });

  it.each([
    { case: "a GAD-7 of 14 is not a crisis", total: 14, crisis: false },
    { case: "a GAD-7 of exactly 15 is a crisis", total: 15, crisis: true },
    { case: "a GAD-7 of 21 is a crisis", total: 21, crisis: true },
    { case: "an all-zero GAD-7 is not a crisis", total: 0, crisis: false },
  ])("$case", ({ total, crisis }) => {
    // Prepare
    const payload = AssessmentPayloadSchema.parse({ instrument: "GAD-7", answers: gad7(total) });

    // Act
    const score = scoreAssessment(payload);

    // Assess
    expect(score).toEqual({ instrument: "GAD-7", total, crisis });
  });
});

describe("assessment payload", () => {
  it.each([
    { case: "a PHQ-9 with 9 answers", payload: { instrument: "PHQ-9", answers: phq9(5) } },
    { case: "a GAD-7 with 7 answers", payload: { instrument: "GAD-7", answers: gad7(5) } },
    { case: "extra fields the app keeps", payload: { instrument: "GAD-7", answers: gad7(5), takenAt: "2025-01-01T00:00:00Z" } },
  ])("accepts $case", ({ payload }) => {
    // Assess
    expect(AssessmentPayloadSchema.safeParse(payload).success).toBe(true);
  });

  it.each([
    { case: "a PHQ-9 with 8 answers", payload: { instrument: "PHQ-9", answers: [0, 0, 0, 0, 0, 0, 0, 0] } },
    { case: "a PHQ-9 with 10 answers", payload: { instrument: "PHQ-9", answers: [...phq9(0), 0] } },
    { case: "a PHQ-9 with 7 answers", payload: { instrument: "PHQ-9", answers: gad7(0) } },
    { case: "a GAD-7 with 9 answers", payload: { instrument: "GAD-7", answers: phq9(0) } },
    { case: "an answer of 4", payload: { instrument: "GAD-7", answers: [4, 0, 0, 0, 0, 0, 0] } },
    { case: "a negative answer", payload: { instrument: "GAD-7", answers: [-1, 0, 0, 0, 0, 0, 0] } },
    { case: "a fractional answer", payload: { instrument: "GAD-7", answers: [1.5, 0, 0, 0, 0, 0, 0] } },
    { case: "a string answer", payload: { instrument: "GAD-7", answers: ["1", 0, 0, 0, 0, 0, 0] } },
    { case: "an unknown instrument", payload: { instrument: "PHQ-2", answers: [0, 0] } },
    { case: "no answers", payload: { instrument: "GAD-7" } },
    { case: "a non-object", payload: "PHQ-9" },
  ])("rejects $case", ({ payload }) => {
    // Assess
    expect(AssessmentPayloadSchema.safeParse(payload).success).toBe(false);
  });
});
