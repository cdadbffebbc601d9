import { BUNDLED_DIRECTORY, directoryLines } from "@paysync/core/crisis/directory";
import { describe, expect, it } from "vitest";
import { featureFlagsFor, policyFor } from "@paysync/core/tiers";
import {
  API_SCHEMAS, CRISIS_HOTLINE, ConflictResolveRequestSchema, CrisisActivateRequestSchema,
  CrisisResourcesResponseSchema, DeviceRegistrationRequestSchema, EmergencyContactsRequestSchema,
  EntitlementsResponseSchema, ErrorBodySchema, HandoffRequestSchema, IdSchema, SafetyPlanSchema,
  SyncPullQuerySchema, SyncPullResponseSchema, SyncPushRequestSchema, toJsonSchema,
} from "@paysync/core/api";

const CLIENT_TIME = "2025-03-10T12:00:00.000Z";

function op(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    opId: "op-1", entityType: "mood_entry", entityId: "mood-1", action: "upsert", baseVersion: 0,
    payload: { mood: 3 }, clientTime: CLIENT_TIME, ...overrides,
  };
}

describe("ids", () => {
  it.each([
    ["a", true],
    ["Device_01-abc", true],
    ["x".repeat(128), true],
    ["", false],
    ["x".repeat(129), false],
    ["has space", false],
    ["dot.ted", false],
    ["slash/ed", false],
    ["émoji", false],
    ["line\nbreak", false],
  ])("%j is a valid id: %s", (value, expected) => {
    // Assess
    expect(IdSchema.safeParse(value).success).toBe(expected);
  });
});

describe("sync push", () => {
  it.each([
    { case: "a plain upsert", ops: [op()] },
    { case: "a delete without payload", ops: [op({ action: "delete", payload: undefined })] },
    { case: "a null payload", ops: [op({ payload: null })] },
    { case: "a clientTime with an offset", ops: [op({ clientTime: "2025-03-10T13:00:00+01:00" })] },
    { case: "a clientTime without fractional seconds", ops: [op({ clientTime: "2025-03-10T12:00:00Z" })] },
    { case: "a scorable assessment", ops: [op({ entityType: "assessment", payload: { instrument: "GAD-7", answers: [0, 1, 2, 3, 0, 1, 2] } })] },
    { case: "500 ops", ops: Array.from({ length: 500 }, (_, i) => op({ opId: `op-${i}` })) },
  ])("accepts $case", ({ ops }) => {
    // Act
    const result = SyncPushRequestSchema.safeParse({ ops });

    // Assess
    expect(result.error?.issues).toBeUndefined();
  });

  it.each([
    { case: "no ops", body: { ops: [] } },
    { case: "501 ops", body: { ops: Array.from({ length: 501 }, (_, i) => op({ opId: `op-${i}` })) } },
    { case: "an unknown top-level field", body: { ops: [op()], priority: 10 } },
    { case: "an unknown op field such as a device-claimed priority", body: { ops: [op({ priority: 10 })] } },
    { case: "a bad opId", body: { ops: [op({ opId: "op 1" })] } },
    { case: "a bad entityId", body: { ops: [op({ entityId: "../etc" })] } },
    { case: "an unknown entity type", body: { ops: [op({ entityType: "diary" })] } },
    { case: "a server-originated entity type", body: { ops: [op({ entityType: "payment_state" })] } },
    { case: "an unknown action", body: { ops: [op({ action: "patch" })] } },
    { case: "a negative baseVersion", body: { ops: [op({ baseVersion: -1 })] } },
    { case: "a fractional baseVersion", body: { ops: [op({ baseVersion: 1.5 })] } },
    { case: "a date without time", body: { ops: [op({ clientTime: "2025-03-10" })] } },
    { case: "a local time without offset", body: { ops: [op({ clientTime: "2025-03-10T12:00:00" })] } },
    { case: "an impossible date", body: { ops: [op({ clientTime: "2025-02-30T12:00:00Z" })] } },
    { case: "epoch milliseconds", body: { ops: [op({ clientTime: 1741608000000 })] } },
    { case: "an upsert without payload", body: { ops: [op({ payload: undefined })] } },
    { case: "an assessment with 8 PHQ-9 answers", body: { ops: [op({ entityType: "assessment", payload: { instrument: "PHQ-9", answers: [0, 0, 0, 0, 0, 0, 0, 0] } })] } },
    { case: "an assessment with an answer of 4", body: { ops: [op({ entityType: "assessment", payload: { instrument: "GAD-7", answers: [4, 0, 0, 0, 0, 0, 0] } })] } },
  ])("rejects $case", ({ body }) => {
    // Act
    const result = SyncPushRequestSchema.safeParse(body);

    // Assess
    expect(result.success).toBe(false);
  });

  it("an invalid assessment points at the offending answer", () => {
    // Prepare
    const body = { ops: [op({ entityType: "assessment", payload: { instrument: "GAD-7", answers: [0, 0, 9, 0, 0, 0, 0] } })] };

    // Act
    const result = SyncPushRequestSchema.safeParse(body);

    // Assess
    expect(result.error?.issues[0]?.path).toEqual(["ops", 0, "payload", "answers", 2]);
  });
});

describe("sync pull", () => {
  it.each([
    { case: "no parameters default to 100", query: {}, expected: { limit: 100 } },
    { case: "a limit as a query string", query: { limit: "500" }, expected: { limit: 500 } },
    { case: "a cursor", query: { cursor: "c_0000012", limit: "1" }, expected: { cursor: "c_0000012", limit: 1 } },
  ])("accepts $case", ({ query, expected }) => {
    // Assess
    expect(SyncPullQuerySchema.parse(query)).toEqual(expected);
  });

  it.each([
    { case: "a limit of 0", query: { limit: "0" } },
    { case: "a limit of 501", query: { limit: "501" } },
    { case: "a fractional limit", query: { limit: "2.5" } },
    { case: "a word for a limit", query: { limit: "many" } },
    // Strict decimal: what `Number()` would also read is refused, so one limit has one spelling.
    { case: "a hexadecimal limit", query: { limit: "0x10" } },
    { case: "a limit with a leading space (%20)", query: { limit: " 5" } },
    { case: "a limit with a trailing space", query: { limit: "5 " } },
    { case: "an exponent limit", query: { limit: "1e1" } },
    { case: "a limit with a plus sign", query: { limit: "+5" } },
    { case: "a negative limit", query: { limit: "-5" } },
    { case: "a limit with a leading zero", query: { limit: "05" } },
    { case: "an empty limit", query: { limit: "" } },
    { case: "a binary limit", query: { limit: "0b101" } },
    { case: "a limit written 5.0", query: { limit: "5.0" } },
    { case: "a limit repeated (joined with a comma as API Gateway does)", query: { limit: "5,6" } },
    { case: "a limit of Infinity", query: { limit: "Infinity" } },
    { case: "a limit with full-width digits", query: { limit: "５" } },
    { case: "an unknown parameter", query: { since: "0" } },
    { case: "a cursor with odd characters", query: { cursor: "a b" } },
  ])("rejects $case", ({ query }) => {
    // Assess
    expect(SyncPullQuerySchema.safeParse(query).success).toBe(false);
  });

  it("describes a server-originated change with no origin device", () => {
    // Prepare
    const response = {
      changes: [{ seq: 7, entityType: "payment_state", entityId: "payment_state", version: 2, action: "upsert", payload: { tier: "free" }, priority: 7, originDeviceId: null }],
      cursor: "7", hasMore: false, minIntervalMs: 300_000, phase: "feed",
    };

    // Assess
    expect(SyncPullResponseSchema.safeParse(response).success).toBe(true);
  });
});

describe("devices, conflicts and handoff", () => {
  it.each([
    { case: "a minimal registration", schema: DeviceRegistrationRequestSchema, body: { deviceId: "phone-1", platform: "ios" }, ok: true },
    { case: "a full registration", schema: DeviceRegistrationRequestSchema, body: { deviceId: "phone-1", platform: "web", appVersion: "1.4.0+55", primary: true }, ok: true },
    { case: "an unknown platform", schema: DeviceRegistrationRequestSchema, body: { deviceId: "phone-1", platform: "windows" }, ok: false },
    { case: "an unknown field on registration", schema: DeviceRegistrationRequestSchema, body: { deviceId: "phone-1", platform: "ios", userId: "someone-else" }, ok: false },
    { case: "a merge with a payload", schema: ConflictResolveRequestSchema, body: { resolution: "merge", payload: { a: 1 } }, ok: true },
    { case: "keep_current without payload", schema: ConflictResolveRequestSchema, body: { resolution: "keep_current" }, ok: true },
    { case: "a merge without payload", schema: ConflictResolveRequestSchema, body: { resolution: "merge" }, ok: false },
    { case: "take_incoming with a payload", schema: ConflictResolveRequestSchema, body: { resolution: "take_incoming", payload: {} }, ok: false },
    { case: "a handoff between two devices", schema: HandoffRequestSchema, body: { fromDeviceId: "phone-1", toDeviceId: "tablet-1", snapshot: { step: 3 } }, ok: true },
    { case: "a handoff to the same device", schema: HandoffRequestSchema, body: { fromDeviceId: "phone-1", toDeviceId: "phone-1", snapshot: {} }, ok: false },
    { case: "a handoff with a non-object snapshot", schema: HandoffRequestSchema, body: { fromDeviceId: "phone-1", toDeviceId: "tablet-1", snapshot: [1] }, ok: false },
  ])("$case is accepted: $ok", ({ schema, body, ok }) => {
    // Assess
    expect(schema.safeParse(body).success).toBe(ok);
  });
});

describe("crisis", () => {
  it.each([
    { case: "an activation from the button", schema: CrisisActivateRequestSchema, body: { deviceId: "phone-1", level: "imminent", source: "button" }, ok: true },
    { case: "an unknown level", schema: CrisisActivateRequestSchema, body: { deviceId: "phone-1", level: "severe", source: "button" }, ok: false },
    { case: "an unknown source", schema: CrisisActivateRequestSchema, body: { deviceId: "phone-1", level: "high", source: "sms" }, ok: false },
    { case: "a partial safety plan", schema: SafetyPlanSchema, body: { warningSigns: ["can't sleep"] }, ok: true },
    { case: "a safety plan with an unknown section", schema: SafetyPlanSchema, body: { notes: ["x"] }, ok: false },
    { case: "a safety plan with a blank item", schema: SafetyPlanSchema, body: { copingStrategies: ["  "] }, ok: false },
    { case: "a safety plan with 21 items in a section", schema: SafetyPlanSchema, body: { reasonsForLiving: Array.from({ length: 21 }, () => "r") }, ok: false },
    { case: "contacts with and without phone", schema: EmergencyContactsRequestSchema, body: { contacts: [{ name: "Sam", phone: "+1 (555) 010-0199", relationship: "sister" }, { name: "Dr. Lee" }] }, ok: true },
    { case: "no contacts", schema: EmergencyContactsRequestSchema, body: { contacts: [] }, ok: true },
    { case: "21 contacts", schema: EmergencyContactsRequestSchema, body: { contacts: Array.from({ length: 21 }, () => ({ name: "n" })) }, ok: false },
    { case: "a contact with letters for a phone", schema: EmergencyContactsRequestSchema, body: { contacts: [{ name: "Sam", phone: "call me" }] }, ok: false },
    { case: "a contact without a name", schema: EmergencyContactsRequestSchema, body: { contacts: [{ phone: "988" }] }, ok: false },
    { case: "a contact with an unknown field", schema: EmergencyContactsRequestSchema, body: { contacts: [{ name: "Sam", email: "s@example.com" }] }, ok: false },
  ])("$case is accepted: $ok", ({ schema, body, ok }) => {
    // Assess
    expect(schema.safeParse(body).success).toBe(ok);
  });

  it("omitted safety plan sections are empty", () => {
    // Assess
    expect(SafetyPlanSchema.parse({}).warningSigns).toEqual([]);
  });

  it("the resources carry the 988 hotline for calls, texts and chat", () => {
    // Prepare
    const resources = {
      hotline: CRISIS_HOTLINE, ...directoryLines(BUNDLED_DIRECTORY, "US"), safetyPlan: null, emergencyContacts: [],
      crisisMode: { active: false, level: null, source: null, activatedAt: null },
    };

    // Act
    const parsed = CrisisResourcesResponseSchema.parse(resources);

    // Assess
    expect(parsed.hotline).toMatchObject({ call: "988", text: "988" });
  });
});

describe("responses", () => {
  it.each(["trial", "basic", "premium", "grace_period", "free"] as const)("entitlements of %s match the tier's own policy and flags", (tier) => {
    // Prepare
    const body = {
      tier, status: "active", graceEndsAt: null, featureFlags: featureFlagsFor(tier), policy: policyFor(tier),
      crisisAccess: true, paymentCurrent: true,
      refreshAfter: "2026-01-01T00:05:00.000Z", validUntil: "2026-01-08T00:00:00.000Z", billingIssueDetectedAt: null,
    };

    // Assess
    expect(EntitlementsResponseSchema.safeParse(body).success).toBe(true);
  });

  it("entitlements never say crisis access is off", () => {
    // Prepare
    const body = {
      tier: "free", status: "canceled", graceEndsAt: null, featureFlags: featureFlagsFor("free"),
      policy: policyFor("free"), crisisAccess: false, paymentCurrent: false,
      refreshAfter: "2026-01-01T00:05:00.000Z", validUntil: "2026-01-08T00:00:00.000Z", billingIssueDetectedAt: null,
    };

    // Assess
    expect(EntitlementsResponseSchema.safeParse(body).success).toBe(false);
  });

  it.each([
    [{ error: { code: "limit_exceeded", message: "slow down", details: { limit: "bandwidth", retryAfterSeconds: 2 } } }, true],
    [{ error: { code: "validation_error", message: "bad" } }, true],
    [{ error: { code: "teapot", message: "bad" } }, false],
  ])("error body %j is valid: %s", (body, expected) => {
    // Assess
    expect(ErrorBodySchema.safeParse(body).success).toBe(expected);
  });
});

describe("JSON Schema for the OpenAPI document", () => {
  const cases = Object.entries(API_SCHEMAS).flatMap(([name, schema]) =>
    (["input", "output"] as const).map((io) => ({ name, schema, io })),
  );

  it.each(cases)("$name converts as $io", ({ schema, io }) => {
    // Act
    const jsonSchema = toJsonSchema(schema, io);

    // Assess
    expect(jsonSchema).toHaveProperty("$schema");
    expect(JSON.parse(JSON.stringify(jsonSchema))).toEqual(jsonSchema);
  });

  it("a strict request forbids additional properties and carries the id pattern", () => {
    // Act
    const jsonSchema = toJsonSchema(API_SCHEMAS.DeviceRegistrationRequest, "input");

    // Assess
    expect(jsonSchema).toMatchObject({
      additionalProperties: false,
      required: ["deviceId", "platform"],
      properties: { deviceId: { pattern: "^[A-Za-z0-9_-]{1,128}$" } },
    });
  });

  it("a defaulted query parameter is optional for the client", () => {
    // Act
    const jsonSchema = toJsonSchema(API_SCHEMAS.SyncPullQuery, "input");

    // Assess
    expect(jsonSchema.required).toBeUndefined();
  });
});
