/**
 * Validation of crisis-class ops pushed by devices (priority 9–10), before anything is stored:
 * the payload each crisis entity type accepts, and whether an assessment is a crisis (scored
 * here from its answers, never trusted from the device).
 *
 * @example
 * parseCrisisOp("assessment", "upsert", { instrument: "GAD-7", answers: [3, 3, 3, 3, 3, 0, 0] });
 * // { payload: { instrument: "GAD-7", … }, crisisLevel: "moderate" }
 */
import { ZodError } from "zod";
import type { CrisisLevel } from "../api/common.js";
import { ValidationError } from "../errors.js";
import { AssessmentPayloadSchema, scoreAssessment } from "../sync/assessment.js";
import { CRISIS_PAYLOAD_SCHEMAS } from "./resources.js";
import { crisisLevelForAssessment, CrisisStatePushSchema } from "./state.js";

export type CrisisOpEntityType = "crisis_state" | "safety_plan" | "emergency_contacts" | "assessment";

export interface ParsedCrisisOp {
  /** What to store: normalised for the crisis entities, as sent for an assessment; `undefined` for a delete. */
  payload: unknown;
  /** For an assessment over a threshold, the crisis level it activates; otherwise `null`. */
  crisisLevel: CrisisLevel | null;
}

function parsePayload(entityType: CrisisOpEntityType, payload: unknown): ParsedCrisisOp {
  switch (entityType) {
    case "crisis_state":
      CrisisStatePushSchema.parse(payload);
      return { payload, crisisLevel: null };
    case "safety_plan":
      return { payload: CRISIS_PAYLOAD_SCHEMAS.safety_plan.parse(payload), crisisLevel: null };
    case "emergency_contacts":
      return { payload: CRISIS_PAYLOAD_SCHEMAS.emergency_contacts.parse(payload), crisisLevel: null };
    case "assessment":
      // The assessment is the app's own entity: validated and scored, stored as sent.
      return { payload, crisisLevel: crisisLevelForAssessment(scoreAssessment(AssessmentPayloadSchema.parse(payload))) };
  }
}

/** Validates a crisis op's payload; a malformed one is a `ValidationError` naming the issues. */
export function parseCrisisOp(entityType: CrisisOpEntityType, action: "upsert" | "delete", payload: unknown): ParsedCrisisOp {
  if (action === "delete") return { payload: undefined, crisisLevel: null };
  try {
    return parsePayload(entityType, payload);
  } catch (error) {
    if (!(error instanceof ZodError)) throw error;
    const details = error.issues.map((issue) => ({ path: issue.path.map(String), code: issue.code, message: issue.message }));
    throw new ValidationError(`Invalid ${entityType} payload`, details);
  }
}

/** A crisis-class op (priority 9–10) handed over by the sync push; never queued. */
export interface CrisisOpInput {
  userKey: string;
  deviceId: string;
  opId: string;
  entityType: CrisisOpEntityType;
  entityId: string;
  action: "upsert" | "delete";
  baseVersion: number;
  clientTime: string;
  payload: unknown;
  priority: 9 | 10;
}

export interface CrisisOpResult {
  status: "applied" | "duplicate";
  version: number;
}

/** What the sync push needs of the crisis path: crisis-class ops applied synchronously, exactly once. */
export interface CrisisOps {
  applyCrisisOp(input: CrisisOpInput, now?: Date): Promise<CrisisOpResult>;
}
