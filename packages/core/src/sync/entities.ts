/**
 * Entity types, their class priorities and the priority names table (SPEC.md sections 2 and 4).
 *
 * @example
 * CLASS_PRIORITY.safety_plan; // 10
 * PRIORITY_LEVELS[10].name;   // "crisis_emergency"
 */

/** A priority from 1 (deferred) to 10 (crisis emergency). */
export type Priority = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10;

/** Entity types that form the crisis path: they are never throttled and never lose a write. */
export const CRISIS_ENTITY_TYPES = ["crisis_state", "safety_plan", "emergency_contacts"] as const;

/** Entity types a device may push. */
export const DEVICE_ENTITY_TYPES = [
  ...CRISIS_ENTITY_TYPES,
  "assessment",
  "therapeutic_session",
  "breathing_session",
  "premium_content",
  "mood_entry",
  "user_profile",
  "preferences",
  "check_in",
  "history",
  "cached_content",
] as const;

/**
 * Entity types only the server writes (tier changes; the crisis directory, which is global and
 * carried by pulls rather than stored per user); a device pushing one is rejected.
 */
export const SERVER_ENTITY_TYPES = ["payment_state", "feature_flags", "sync_policy", "crisis_directory"] as const;

export const ENTITY_TYPES = [...DEVICE_ENTITY_TYPES, ...SERVER_ENTITY_TYPES] as const;

export type CrisisEntityType = (typeof CRISIS_ENTITY_TYPES)[number];
export type DeviceEntityType = (typeof DEVICE_ENTITY_TYPES)[number];
export type ServerEntityType = (typeof SERVER_ENTITY_TYPES)[number];
export type EntityType = (typeof ENTITY_TYPES)[number];

/** Priority at or above which tier ceilings and limits never apply (crisis 9-10, active session 8). */
export const EXEMPT_PRIORITY = 8;

/** An assessment over a crisis threshold is classed here instead of its base priority. */
export const ASSESSMENT_CRISIS_PRIORITY = 9 satisfies Priority;

/**
 * Class priority by entity type. For `assessment` this is the below-threshold class (6);
 * `classifyOp` raises it to {@link ASSESSMENT_CRISIS_PRIORITY} from the scored answers.
 */
export const CLASS_PRIORITY: Readonly<Record<EntityType, Priority>> = {
  crisis_state: 10,
  safety_plan: 10,
  emergency_contacts: 10,
  assessment: 6,
  therapeutic_session: 8,
  breathing_session: 8,
  premium_content: 7,
  mood_entry: 6,
  user_profile: 5,
  preferences: 5,
  check_in: 4,
  history: 3,
  cached_content: 3,
  payment_state: 7,
  feature_flags: 7,
  sync_policy: 7,
  // Not urgent: every device holds a working kit offline, and a directory update must not
  // make every device pull at once (docs/SCALE.md §7.1).
  crisis_directory: 7,
};

export const PRIORITY_NAMES = [
  "deferred",
  "maintenance",
  "background_sync",
  "basic_features",
  "user_profile",
  "assessment_data",
  "premium_realtime",
  "therapeutic_active",
  "crisis_assessment",
  "crisis_emergency",
] as const;
export type PriorityName = (typeof PRIORITY_NAMES)[number];

export interface PriorityLevel {
  priority: Priority;
  name: PriorityName;
  /** Target latency from accept to apply; `null` means best effort. */
  targetLatencyMs: number | null;
  /** Crisis priorities are applied inside the request, never queued. */
  synchronous: boolean;
}

export const PRIORITY_LEVELS: Readonly<Record<Priority, PriorityLevel>> = {
  10: { priority: 10, name: "crisis_emergency", targetLatencyMs: 200, synchronous: true },
  9: { priority: 9, name: "crisis_assessment", targetLatencyMs: 200, synchronous: true },
  8: { priority: 8, name: "therapeutic_active", targetLatencyMs: 500, synchronous: false },
  7: { priority: 7, name: "premium_realtime", targetLatencyMs: 500, synchronous: false },
  6: { priority: 6, name: "assessment_data", targetLatencyMs: 1_000, synchronous: false },
  5: { priority: 5, name: "user_profile", targetLatencyMs: 2_000, synchronous: false },
  4: { priority: 4, name: "basic_features", targetLatencyMs: 5_000, synchronous: false },
  3: { priority: 3, name: "background_sync", targetLatencyMs: 30_000, synchronous: false },
  2: { priority: 2, name: "maintenance", targetLatencyMs: 60_000, synchronous: false },
  1: { priority: 1, name: "deferred", targetLatencyMs: null, synchronous: false },
};

const ENTITY_TYPE_SET: ReadonlySet<string> = new Set(ENTITY_TYPES);
const SERVER_TYPE_SET: ReadonlySet<string> = new Set(SERVER_ENTITY_TYPES);
const CRISIS_TYPE_SET: ReadonlySet<string> = new Set(CRISIS_ENTITY_TYPES);

/** Narrows an untrusted string to a known entity type. */
export function isEntityType(value: string): value is EntityType {
  return ENTITY_TYPE_SET.has(value);
}

/** Server-originated types may appear in a device's pull feed but never in its push. */
export function isServerOriginated(entityType: string): entityType is ServerEntityType {
  return SERVER_TYPE_SET.has(entityType);
}

/** True for the class-10 entities whose writes always win (see `resolveWrite`). */
export function isCrisisEntity(entityType: string): entityType is CrisisEntityType {
  return CRISIS_TYPE_SET.has(entityType);
}

/** Narrows any integer to a `Priority`, failing loudly rather than inventing a lane. */
export function asPriority(value: number): Priority {
  if (!Number.isInteger(value) || value < 1 || value > 10) {
    throw new RangeError(`priority must be an integer from 1 to 10, got ${value}`);
  }
  return value as Priority;
}
