import { describe, expect, it } from "vitest";
import { CRISIS_HOTLINE, CrisisResourcesResponseSchema } from "@paysync/core/api/crisis";
import { BUNDLED_DIRECTORY, directoryLines } from "@paysync/core/crisis/directory";
import { composeResources, latestEntity, resourcesETag } from "@paysync/core/crisis/resources";
import { activateCrisis, INACTIVE_CRISIS_STATE } from "@paysync/core/crisis/state";

const plan = {
  warningSigns: ["not sleeping"], copingStrategies: ["walk"], reasonsForLiving: ["my sister"], distractions: [],
  peopleToAskForHelp: [], professionalsToContact: ["Dr. Lee"], makingEnvironmentSafe: [],
};
const contacts = [{ name: "Sam", phone: "+1 555 0100", relationship: "friend" }];
const activeState = activateCrisis(INACTIVE_CRISIS_STATE, { level: "high", source: "button", deviceId: "phone" }, new Date("2026-03-01T10:00:00Z"));

describe("crisis resources", () => {
  it.each([
    { case: "nothing stored yet", data: { state: undefined, safetyPlan: undefined, contacts: undefined }, safetyPlan: null, emergencyContacts: [], active: false },
    { case: "an inactive state with a plan", data: { state: INACTIVE_CRISIS_STATE, safetyPlan: plan, contacts: undefined }, safetyPlan: plan, emergencyContacts: [], active: false },
    { case: "an active state with plan and contacts", data: { state: activeState, safetyPlan: plan, contacts }, safetyPlan: plan, emergencyContacts: contacts, active: true },
  ])("always carry the 988 hotline and the region's lines, with $case", ({ data, safetyPlan, emergencyContacts, active }) => {
    // Act
    const resources = composeResources(data, directoryLines(BUNDLED_DIRECTORY, "US"));

    // Assess
    expect(resources.hotline).toEqual(CRISIS_HOTLINE);
    expect(resources.hotline).toMatchObject({ call: "988", text: "988" });
    expect(resources.lines.map((line) => line.id)).toEqual(["us-988", "us-crisis-text-line"]);
    expect(resources.fallback.map((line) => line.id)).toEqual(["intl-find-a-helpline"]);
    expect(resources.directoryVersion).toBe(BUNDLED_DIRECTORY.version);
    expect(resources.safetyPlan).toEqual(safetyPlan);
    expect(resources.emergencyContacts).toEqual(emergencyContacts);
    expect(resources.crisisMode.active).toBe(active);
    expect(CrisisResourcesResponseSchema.safeParse(resources).success).toBe(true);
  });
});

describe("the ETag of a resources answer", () => {
  const base = composeResources({ state: undefined, safetyPlan: plan, contacts }, directoryLines(BUNDLED_DIRECTORY, "US"));
  it.each([
    { case: "another region's lines", changed: composeResources({ state: undefined, safetyPlan: plan, contacts }, directoryLines(BUNDLED_DIRECTORY, "GB")) },
    { case: "another directory version", changed: { ...base, directoryVersion: 2 } },
    { case: "an edited safety plan", changed: { ...base, safetyPlan: { ...plan, warningSigns: ["other"] } } },
    { case: "crisis mode on", changed: composeResources({ state: activeState, safetyPlan: plan, contacts }, directoryLines(BUNDLED_DIRECTORY, "US")) },
  ])("changes with $case", ({ changed }) => {
    // Assess
    expect(resourcesETag(changed)).not.toBe(resourcesETag(base));
  });

  it("is the same for the same answer", () => {
    // Assess
    expect(resourcesETag(structuredClone(base))).toBe(resourcesETag(base));
  });
});

describe("the current crisis entity of a type", () => {
  it.each([
    { case: "none of none", entities: [], expected: undefined },
    { case: "the only one", entities: [{ id: "a", version: 3, updatedAt: "2026-03-01T10:00:00.000Z" }], expected: "a" },
    {
      case: "the most recently updated, whatever its version",
      entities: [{ id: "a", version: 7, updatedAt: "2026-03-01T10:00:00.000Z" }, { id: "b", version: 1, updatedAt: "2026-03-01T10:00:01.000Z" }],
      expected: "b",
    },
    {
      case: "the higher version on a tie",
      entities: [{ id: "a", version: 2, updatedAt: "2026-03-01T10:00:00.000Z" }, { id: "b", version: 5, updatedAt: "2026-03-01T10:00:00.000Z" }],
      expected: "b",
    },
  ])("is $case", ({ entities, expected }) => {
    // Act
    const latest = latestEntity(entities);

    // Assess
    expect(latest?.id).toBe(expected);
  });
});
