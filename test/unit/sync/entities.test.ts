import { describe, expect, it } from "vitest";
import {
  CLASS_PRIORITY, DEVICE_ENTITY_TYPES, ENTITY_TYPES, PRIORITY_LEVELS, SERVER_ENTITY_TYPES, asPriority,
  isCrisisEntity, isEntityType, isServerOriginated, type EntityType, type Priority,
} from "@paysync/core/sync";

describe("entity types and class priorities", () => {
  it.each<[EntityType, Priority]>([
    ["crisis_state", 10],
    ["safety_plan", 10],
    ["emergency_contacts", 10],
    ["assessment", 6],
    ["therapeutic_session", 8],
    ["breathing_session", 8],
    ["premium_content", 7],
    ["mood_entry", 6],
    ["user_profile", 5],
    ["preferences", 5],
    ["check_in", 4],
    ["history", 3],
    ["cached_content", 3],
    ["payment_state", 7],
    ["feature_flags", 7],
    ["sync_policy", 7],
  ])("%s has class priority %i", (entityType, expected) => {
    // Act
    const priority = CLASS_PRIORITY[entityType];

    // Assess
    expect(priority).toBe(expected);
  });

  it.each(SERVER_ENTITY_TYPES)("server-originated %s is not a type a device may push", (entityType) => {
    // Assess
    expect(isServerOriginated(entityType)).toBe(true);
    expect(DEVICE_ENTITY_TYPES).not.toContain(entityType);
  });

  it.each(DEVICE_ENTITY_TYPES)("device type %s is not server-originated", (entityType) => {
    // Assess
    expect(isServerOriginated(entityType)).toBe(false);
  });

  it.each<[string, boolean]>([
    ["crisis_state", true],
    ["safety_plan", true],
    ["emergency_contacts", true],
    ["assessment", false],
    ["therapeutic_session", false],
  ])("%s is a crisis entity: %s", (entityType, expected) => {
    // Assess
    expect(isCrisisEntity(entityType)).toBe(expected);
  });

  it.each<[string, boolean]>([
    ["mood_entry", true],
    ["payment_state", true],
    ["Mood_Entry", false],
    ["unknown", false],
    ["", false],
  ])("%j is a known entity type: %s", (value, expected) => {
    // Assess
    expect(isEntityType(value)).toBe(expected);
  });

  it("every entity type is known exactly once", () => {
    // Assess
    expect(new Set(ENTITY_TYPES).size).toBe(ENTITY_TYPES.length);
    expect(Object.keys(CLASS_PRIORITY).sort()).toEqual([...ENTITY_TYPES].sort());
  });
});

describe("priority names", () => {
  it.each<[Priority, string, number | null, boolean]>([
    [10, "crisis_emergency", 200, true],
    [9, "crisis_assessment", 200, true],
    [8, "therapeutic_active", 500, false],
    [7, "premium_realtime", 500, false],
    [6, "assessment_data", 1_000, false],
    [5, "user_profile", 2_000, false],
    [4, "basic_features", 5_000, false],
    [3, "background_sync", 30_000, false],
    [2, "maintenance", 60_000, false],
    [1, "deferred", null, false],
  ])("priority %i is %s with a target latency of %s ms", (priority, name, targetLatencyMs, synchronous) => {
    // Act
    const level = PRIORITY_LEVELS[priority];

    // Assess
    expect(level).toEqual({ priority, name, targetLatencyMs, synchronous });
  });

  it.each([0, 11, 1.5, Number.NaN])("%s is not a priority", (value) => {
    // Assess
    expect(() => asPriority(value)).toThrow(RangeError);
  });
});
