/**
 * Crisis mode as a per-user state (SPEC.md sections 2 and 4), and the pure rules that move it:
 * activation (button, assessment, clinician), resolution, and what a pushed `crisis_state` op
 * or a crisis-level assessment means for it. No AWS, no payment state: crisis mode never asks
 * what a user pays.
 *
 * @example
 * const state = activateCrisis(INACTIVE_CRISIS_STATE, { level: "high", source: "button", deviceId: "phone" }, new Date());
 * crisisModeOf(state); // { active: true, level: "high", source: "button", activatedAt: "…" }
 */
import { z } from "zod";
import { CrisisLevelSchema, CrisisSourceSchema, DateTimeSchema, IdSchema, type CrisisLevel, type CrisisSource } from "../api/common.js";
import type { CrisisModeState } from "../api/crisis.js";
import type { AssessmentScore } from "../sync/assessment.js";

/** The crisis entities are one per user; the HTTP routes and activations write this entity id. */
export const CRISIS_SINGLETON_ID = "current";

/** The stored (encrypted) crisis state, also the payload devices receive in their feed. */
export const CrisisStateSchema = z.object({
  active: z.boolean(),
  level: CrisisLevelSchema.nullable(),
  source: CrisisSourceSchema.nullable(),
  activatedAt: DateTimeSchema.nullable(),
  /** The device that activated (or, once inactive, resolved) crisis mode. */
  deviceId: IdSchema.nullable(),
  resolvedAt: DateTimeSchema.nullable(),
});
export type CrisisState = z.infer<typeof CrisisStateSchema>;

export const INACTIVE_CRISIS_STATE: CrisisState = Object.freeze({
  active: false, level: null, source: null, activatedAt: null, deviceId: null, resolvedAt: null,
});

export interface CrisisActivation {
  level: CrisisLevel;
  source: CrisisSource;
  deviceId: string;
}

const LEVEL_RANK: Readonly<Record<CrisisLevel, number>> = { moderate: 1, high: 2, imminent: 3 };

/** The more severe of two levels; `null` counts as below every level. */
export function higherLevel(a: CrisisLevel | null, b: CrisisLevel): CrisisLevel {
  return a !== null && LEVEL_RANK[a] > LEVEL_RANK[b] ? a : b;
}

/**
 * Activates crisis mode. A second activation during an active episode never lowers its
 * level (only a resolution ends an episode) and keeps the episode's start; the latest
 * activation's source and device are recorded.
 */
export function activateCrisis(current: CrisisState, activation: CrisisActivation, now: Date): CrisisState {
  const ongoing = current.active;
  return {
    active: true,
    level: ongoing ? higherLevel(current.level, activation.level) : activation.level,
    source: activation.source,
    activatedAt: ongoing && current.activatedAt !== null ? current.activatedAt : now.toISOString(),
    deviceId: activation.deviceId,
    resolvedAt: null,
  };
}

/**
 * Whether an activation changes nothing: crisis mode is already on at the same or a higher
 * level and the activating device is already flagged. Such a repeat (a device retrying, five
 * devices pressing at once) is answered from the stored state without a write, so a burst
 * costs reads, not contended transactions.
 */
export function isRepeatActivation(current: CrisisState, activation: CrisisActivation, deviceFlagged: boolean): boolean {
  return current.active && current.level !== null && deviceFlagged && higherLevel(current.level, activation.level) === current.level;
}

/** Leaves crisis mode from any device; resolving an inactive state is harmless and stays inactive. */
export function resolveCrisis(_current: CrisisState, deviceId: string, now: Date): CrisisState {
  return { ...INACTIVE_CRISIS_STATE, deviceId, resolvedAt: now.toISOString() };
}

/** The wire view of the state (`crisisMode` in the crisis responses). */
export function crisisModeOf(state: CrisisState): CrisisModeState {
  return state.active
    ? { active: true, level: state.level, source: state.source, activatedAt: state.activatedAt }
    : { active: false, level: null, source: null, activatedAt: null };
}

/**
 * The crisis level a scored assessment calls for, or `null` below every threshold. Any
 * thought of self-harm (PHQ-9 item 9) is at least `high`, and `imminent` when reported on
 * more than half the days; a severe total alone is `high` (PHQ-9) or `moderate` (GAD-7).
 */
export function crisisLevelForAssessment(score: AssessmentScore): CrisisLevel | null {
  if (!score.crisis) return null;
  if (score.instrument === "PHQ-9") return (score.item9 ?? 0) >= 2 ? "imminent" : "high";
  return "moderate";
}

/**
 * A `crisis_state` op pushed by a device: `{active: true, level, source?}` activates,
 * `{active: false}` (or a delete) resolves. The server keeps the state itself: devices say
 * what happened, never when the episode began.
 */
export const CrisisStatePushSchema = z.discriminatedUnion("active", [
  z.object({ active: z.literal(true), level: CrisisLevelSchema, source: CrisisSourceSchema.default("button") }),
  z.object({ active: z.literal(false) }),
]);

export type CrisisStateIntent = { kind: "activate"; level: CrisisLevel; source: CrisisSource } | { kind: "resolve" };

/** What a pushed `crisis_state` op asks for; throws a `ZodError` on a malformed payload. */
export function crisisStateIntent(action: "upsert" | "delete", payload: unknown): CrisisStateIntent {
  if (action === "delete") return { kind: "resolve" };
  const parsed = CrisisStatePushSchema.parse(payload);
  return parsed.active ? { kind: "activate", level: parsed.level, source: parsed.source } : { kind: "resolve" };
}
