/**
 * PHQ-9 and GAD-7 payloads and their scoring. The server scores the answers itself: a device's
 * own idea of the total or the priority is never trusted (SPEC.md section 2).
 *
 * @example
 * const payload = AssessmentPayloadSchema.parse({ instrument: "GAD-7", answers: [3, 3, 3, 3, 3, 0, 0] });
 * scoreAssessment(payload); // { instrument: "GAD-7", total: 15, crisis: true }
 */
import { z } from "zod";

/** PHQ-9 total at or above which the assessment is a crisis (severe depression). */
export const PHQ9_CRISIS_TOTAL = 20;
/** GAD-7 total at or above which the assessment is a crisis (severe anxiety). */
export const GAD7_CRISIS_TOTAL = 15;

/** Each item is answered 0 ("not at all") to 3 ("nearly every day"). */
const AnswerSchema = z.number().int().min(0).max(3);

/**
 * Extra fields (e.g. a device's `takenAt`) are allowed and ignored: the payload is the app's
 * own entity; only the instrument and answers matter to scoring.
 */
export const AssessmentPayloadSchema = z.discriminatedUnion("instrument", [
  z.object({ instrument: z.literal("PHQ-9"), answers: z.array(AnswerSchema).length(9) }),
  z.object({ instrument: z.literal("GAD-7"), answers: z.array(AnswerSchema).length(7) }),
]);
export type AssessmentPayload = z.infer<typeof AssessmentPayloadSchema>;
export type Instrument = AssessmentPayload["instrument"];

export interface AssessmentScore {
  instrument: Instrument;
  total: number;
  /** PHQ-9 item 9 (thoughts of self-harm); absent for GAD-7. */
  item9?: number;
  crisis: boolean;
}

/** Scores a validated payload; any answer above zero on PHQ-9 item 9 is a crisis whatever the total. */
export function scoreAssessment(payload: AssessmentPayload): AssessmentScore {
  const total = payload.answers.reduce((sum, answer) => sum + answer, 0);
  if (payload.instrument === "GAD-7") {
    return { instrument: "GAD-7", total, crisis: total >= GAD7_CRISIS_TOTAL };
  }
  const item9 = payload.answers[8] ?? 0;
  return { instrument: "PHQ-9", total, item9, crisis: total >= PHQ9_CRISIS_TOTAL || item9 > 0 };
}
