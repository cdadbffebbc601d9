import { describe, expect, it } from "vitest";
import {
  activateCrisis,
  crisisLevelForAssessment,
  crisisModeOf,
  crisisStateIntent,
  higherLevel,
  INACTIVE_CRISIS_STATE,
  resolveCrisis,
  type CrisisState,
} from "@paysync/core/crisis/state";
import { AssessmentPayloadSchema, scoreAssessment } from "@paysync/core/sync/assessment";

const T0 = new Date("2026-03-01T10:00:00.000Z");
const T1 = new Date("2026-03-01T10:05:00.000Z");

const active = (overrides: Partial<CrisisState> = {}): CrisisState => ({
  active: true, level: "high", source: "button", activatedAt: T0.toISOString(), deviceId: "phone", resolvedAt: null, ...overrides,
});

describe("crisis activation", () => {
  it("starts an episode from the inactive state at the activation time", () => {
    // Act
    const state = activateCrisis(INACTIVE_CRISIS_STATE, { level: "moderate", source: "clinician", deviceId: "tablet" }, T1);

    // Assess
    expect(state).toEqual({ active: true, level: "moderate", source: "clinician", activatedAt: T1.toISOString(), deviceId: "tablet", resolvedAt: null });
  });

  it.each([
    { case: "a more severe activation raises the level", current: "moderate", requested: "imminent", level: "imminent" },
    { case: "a less severe activation never lowers the level", current: "imminent", requested: "moderate", level: "imminent" },
    { case: "the same level stays", current: "high", requested: "high", level: "high" },
  ] as const)("$case during an ongoing episode", ({ current, requested, level }) => {
    // Prepare
    const ongoing = active({ level: current });

    // Act
    const state = activateCrisis(ongoing, { level: requested, source: "assessment", deviceId: "watch" }, T1);

    // Assess
    expect(state.level).toBe(level);
    expect(state.activatedAt).toBe(T0.toISOString());
    expect(state.source).toBe("assessment");
    expect(state.deviceId).toBe("watch");
  });

  it("starts a new episode after a resolution", () => {
    // Prepare
    const resolved = resolveCrisis(active({ level: "imminent" }), "phone", T0);

    // Act
    const state = activateCrisis(resolved, { level: "moderate", source: "button", deviceId: "phone" }, T1);

    // Assess
    expect(state).toMatchObject({ level: "moderate", activatedAt: T1.toISOString(), resolvedAt: null });
  });

  it.each([
    { a: null, b: "moderate", higher: "moderate" },
    { a: "high", b: "moderate", higher: "high" },
    { a: "moderate", b: "imminent", higher: "imminent" },
  ] as const)("ranks $a against $b as $higher", ({ a, b, higher }) => {
    // Act / Assess
    expect(higherLevel(a, b)).toBe(higher);
  });
});

describe("crisis resolution", () => {
  it.each([
    { case: "an active episode", current: active() },
    { case: "an already inactive state", current: INACTIVE_CRISIS_STATE },
  ])("leaves crisis mode from $case, recording who and when", ({ current }) => {
    // Act
    const state = resolveCrisis(current, "tablet", T1);

    // Assess
    expect(state).toEqual({ active: false, level: null, source: null, activatedAt: null, deviceId: "tablet", resolvedAt: T1.toISOString() });
    expect(crisisModeOf(state)).toEqual({ active: false, level: null, source: null, activatedAt: null });
  });
});

describe("crisis mode on the wire", () => {
  it("shows level, source and start of an active episode but not the device", () => {
    // Act
    const mode = crisisModeOf(active());

    // Assess
    expect(mode).toEqual({ active: true, level: "high", source: "button", activatedAt: T0.toISOString() });
  });
});

describe("crisis level of an assessment", () => {
  const phq9 = (rest: number[], item9: number) => [...rest, item9];
  it.each([
    { case: "a PHQ-9 under every threshold calls for none", instrument: "PHQ-9", answers: phq9([1, 1, 1, 1, 1, 1, 1, 1], 0), level: null },
    { case: "a PHQ-9 total of 20 is high", instrument: "PHQ-9", answers: phq9([3, 3, 3, 3, 3, 3, 2, 0], 0), level: "high" },
    { case: "self-harm thoughts on several days are high", instrument: "PHQ-9", answers: phq9([0, 0, 0, 0, 0, 0, 0, 0], 1), level: "high" },
    { case: "self-harm thoughts on more than half the days are imminent", instrument: "PHQ-9", answers: phq9([0, 0, 0, 0, 0, 0, 0, 0], 2), level: "imminent" },
    { case: "a GAD-7 of 14 calls for none", instrument: "GAD-7", answers: [2, 2, 2, 2, 2, 2, 2], level: null },
    { case: "a GAD-7 of 15 is moderate", instrument: "GAD-7", answers: [3, 3, 3, 3, 3, 0, 0], level: "moderate" },
  ])("$case", ({ instrument, answers, level }) => {
    // Prepare
    const score = scoreAssessment(AssessmentPayloadSchema.parse({ instrument, answers }));

    // Act / Assess
    expect(crisisLevelForAssessment(score)).toBe(level);
  });
});

describe("a pushed crisis_state op", () => {
  it.each([
    { case: "active with a level activates (button by default)", action: "upsert", payload: { active: true, level: "high" }, intent: { kind: "activate", level: "high", source: "button" } },
    { case: "active with a source keeps it", action: "upsert", payload: { active: true, level: "imminent", source: "clinician" }, intent: { kind: "activate", level: "imminent", source: "clinician" } },
    { case: "inactive resolves", action: "upsert", payload: { active: false }, intent: { kind: "resolve" } },
    { case: "a delete resolves whatever its payload", action: "delete", payload: null, intent: { kind: "resolve" } },
  ] as const)("$case", ({ action, payload, intent }) => {
    // Act / Assess
    expect(crisisStateIntent(action, payload)).toEqual(intent);
  });

  it.each([
    { case: "active without a level", payload: { active: true } },
    { case: "an unknown level", payload: { active: true, level: "severe" } },
    { case: "no active flag", payload: { level: "high" } },
    { case: "not an object", payload: "help" },
  ])("is rejected with $case", ({ payload }) => {
    // Act / Assess
    expect(() => crisisStateIntent("upsert", payload)).toThrow();
  });
});
