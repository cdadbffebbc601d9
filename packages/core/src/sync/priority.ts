/**
 * Class priority, effective priority and lanes (SPEC.md section 2).
 *
 * @example
 * const classPriority = classifyOp("mood_entry", { mood: 3 });                          // 6
 * const priority = effectivePriority({ classPriority, tier: "basic", inCrisisMode: false, inActiveSession: false }); // 4
 * laneFor(priority);                                                                    // "standard"
 */
import { ValidationError } from "../errors.js";
import { policyFor, type Tier } from "../tiers.js";
import { AssessmentPayloadSchema, scoreAssessment } from "./assessment.js";
import {
  ASSESSMENT_CRISIS_PRIORITY, CLASS_PRIORITY, EXEMPT_PRIORITY, asPriority, type EntityType, type Priority,
} from "./entities.js";

/** The queued lanes (SQS FIFO queues), fastest first. */
export const SYNC_LANES = ["realtime", "standard", "background"] as const;
export type SyncLane = (typeof SYNC_LANES)[number];

/** Every lane an op can take; `crisis` is synchronous and has no queue. */
export const LANES = ["crisis", ...SYNC_LANES] as const;
export type Lane = (typeof LANES)[number];

/**
 * Class priority of an op, computed by the server from the entity type and, for an assessment,
 * from its own scoring of the answers. An assessment without a payload (a delete) has nothing
 * to score and keeps the base class; a malformed one is a `ValidationError`, because guessing
 * a lower priority could hide a crisis.
 */
export function classifyOp(entityType: EntityType, payload: unknown): Priority {
  if (entityType !== "assessment" || payload === null || payload === undefined) {
    return CLASS_PRIORITY[entityType];
  }
  const parsed = AssessmentPayloadSchema.safeParse(payload);
  if (!parsed.success) {
    throw new ValidationError("Invalid assessment payload", parsed.error.issues);
  }
  return scoreAssessment(parsed.data).crisis ? ASSESSMENT_CRISIS_PRIORITY : CLASS_PRIORITY.assessment;
}

export interface EffectivePriorityInput {
  classPriority: Priority;
  tier: Tier;
  inCrisisMode: boolean;
  inActiveSession: boolean;
}

/**
 * Effective priority: crisis and therapeutic classes (>= 8) keep their class whatever the tier;
 * anything else is capped at the tier's ceiling, except that a tier with escalation (premium)
 * lifts a priority-6 op to 7 while the user is in crisis mode or an active session.
 */
export function effectivePriority(input: EffectivePriorityInput): Priority {
  const { classPriority, tier, inCrisisMode, inActiveSession } = input;
  if (classPriority >= EXEMPT_PRIORITY) return classPriority;
  const policy = policyFor(tier);
  if (policy.priorityEscalation && classPriority === 6 && (inCrisisMode || inActiveSession)) {
    return 7;
  }
  return asPriority(Math.min(classPriority, policy.priorityCeiling));
}

/** Lane for an effective priority: 9-10 crisis, 7-8 realtime, 4-6 standard, 1-3 background. */
export function laneFor(priority: Priority): Lane {
  if (priority >= 9) return "crisis";
  if (priority >= 7) return "realtime";
  if (priority >= 4) return "standard";
  return "background";
}
