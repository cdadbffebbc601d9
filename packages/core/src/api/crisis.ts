/**
 * Wire schemas of the crisis routes (SPEC.md section 4): open to every authenticated user,
 * whatever they pay.
 *
 * @example
 * const body = CrisisActivateRequestSchema.parse({ deviceId: "phone-1", level: "high", source: "button" });
 */
import { z } from "zod";
import { CrisisLevelSchema, CrisisSourceSchema, DateTimeSchema, IdSchema, typedTextSchema } from "./common.js";
import { CrisisLineSchema, DirectoryVersionSchema, RegionCodeSchema, RegionInputSchema, RegionQuerySchema } from "./crisis-directory.js";

export const CrisisActivateRequestSchema = z.strictObject({
  deviceId: IdSchema,
  level: CrisisLevelSchema,
  source: CrisisSourceSchema,
});
export type CrisisActivateRequest = z.infer<typeof CrisisActivateRequestSchema>;

export const CrisisResolveRequestSchema = z.strictObject({ deviceId: IdSchema });
export type CrisisResolveRequest = z.infer<typeof CrisisResolveRequestSchema>;

const PlanItemsSchema = z.array(typedTextSchema(500)).max(20).default([]);

/** Stanley-Brown safety plan sections; a PUT replaces the whole plan and omitted sections are empty. */
export const SafetyPlanSchema = z.strictObject({
  warningSigns: PlanItemsSchema,
  copingStrategies: PlanItemsSchema,
  reasonsForLiving: PlanItemsSchema,
  distractions: PlanItemsSchema,
  peopleToAskForHelp: PlanItemsSchema,
  professionalsToContact: PlanItemsSchema,
  makingEnvironmentSafe: PlanItemsSchema,
});
export type SafetyPlan = z.infer<typeof SafetyPlanSchema>;

/** Whether a plan holds at least one entry in any section. */
export function safetyPlanHasContent(plan: SafetyPlan): boolean {
  return Object.values(plan).some((items) => items.length > 0);
}

/**
 * The body of `PUT /v1/crisis/safety-plan`: a plan with at least one entry. An empty body
 * (`{}`) or a plan of empty sections is a 400 and changes nothing — a client bug must never
 * wipe the plan a person relies on in crisis; `DELETE /v1/crisis/safety-plan` is the one way to
 * clear it.
 */
export const SafetyPlanRequestSchema = SafetyPlanSchema.refine(safetyPlanHasContent, {
  message: "A safety plan needs at least one entry; DELETE /v1/crisis/safety-plan clears it",
}).meta({ description: "The whole plan. At least one section must hold an entry (an empty plan is a 400); DELETE /v1/crisis/safety-plan clears it." });

export const MAX_EMERGENCY_CONTACTS = 20;

export const EmergencyContactSchema = z.strictObject({
  name: typedTextSchema(100),
  phone: z.string().regex(/^\+?[0-9 ().-]{3,32}$/, "must be a phone number").optional(),
  relationship: typedTextSchema(50).optional(),
});
export type EmergencyContact = z.infer<typeof EmergencyContactSchema>;

/** A PUT replaces the whole list. */
export const EmergencyContactsRequestSchema = z.strictObject({
  contacts: z.array(EmergencyContactSchema).max(MAX_EMERGENCY_CONTACTS),
});
export type EmergencyContactsRequest = z.infer<typeof EmergencyContactsRequestSchema>;

/**
 * Present and `true` only on an answer served while storage was failing (SPEC.md §5): the
 * hotline is there, the rest is whatever could be read, and a write was kept to be applied
 * once storage is back. Devices keep their own copy until the change reaches their feed.
 */
export const DegradedSchema = z.literal(true).optional()
  .describe("true when storage was failing: the hotline is served, crisis data is what could be read, and a write is applied once storage is back");

/** Answer to the synchronous crisis-priority writes (safety plan, contacts). */
export const CrisisWriteResponseSchema = z.object({
  entityType: z.enum(["safety_plan", "emergency_contacts"]),
  /** Absent only on a degraded answer: the write is kept and gets its version when it lands. */
  version: z.number().int().positive().optional(),
  degraded: DegradedSchema,
  priority: z.literal(10),
  updatedAt: DateTimeSchema,
});
export type CrisisWriteResponse = z.infer<typeof CrisisWriteResponseSchema>;

export const CrisisModeStateSchema = z.object({
  active: z.boolean(),
  level: CrisisLevelSchema.nullable(),
  source: CrisisSourceSchema.nullable(),
  activatedAt: DateTimeSchema.nullable(),
});
export type CrisisModeState = z.infer<typeof CrisisModeStateSchema>;

export const HotlineSchema = z.object({
  name: z.string(),
  call: z.literal("988"),
  text: z.literal("988"),
  chatUrl: z.url(),
});
export type Hotline = z.infer<typeof HotlineSchema>;

/**
 * The 988 Suicide & Crisis Lifeline, served to every user whatever they pay. Kept as the
 * `hotline` field for clients that predate the directory (and as the client's built-in kit);
 * the directory's `us-988` line is the same line with its options (a unit test keeps the two
 * equal). New clients read `lines` and `fallback`.
 */
export const CRISIS_HOTLINE: Hotline = {
  name: "988 Suicide & Crisis Lifeline",
  call: "988",
  text: "988",
  chatUrl: "https://988lifeline.org/chat/",
};

/**
 * `GET /v1/crisis/resources?region=`: unknown query parameters are ignored (a crisis read never
 * fails on junk); a malformed region is a 400.
 */
export const CrisisResourcesQuerySchema = z.object({ region: RegionQuerySchema.optional() });

/** Also the answer to `POST /v1/crisis/activate`. */
export const CrisisResourcesResponseSchema = z.object({
  hotline: HotlineSchema.describe("The US 988 Lifeline, for clients that predate the directory; read lines and fallback"),
  region: RegionCodeSchema.describe("The region the lines are for: ?region=, else the user's saved region, else US"),
  lines: z.array(CrisisLineSchema).describe("The region's crisis lines; empty when the directory lists none for it"),
  fallback: z.array(CrisisLineSchema).describe("The international fallback, in every answer"),
  directoryVersion: DirectoryVersionSchema,
  safetyPlan: SafetyPlanSchema.nullable(),
  emergencyContacts: z.array(EmergencyContactSchema),
  crisisMode: CrisisModeStateSchema,
  degraded: DegradedSchema,
});
export type CrisisResourcesResponse = z.infer<typeof CrisisResourcesResponseSchema>;

/**
 * `PUT /v1/crisis/region`: the region whose lines the user gets when a call names none
 * (`?region=`). Two letters, either case; a malformed code is a 400 and changes nothing.
 */
export const CrisisRegionRequestSchema = z.strictObject({ region: RegionInputSchema });
export type CrisisRegionRequest = z.infer<typeof CrisisRegionRequestSchema>;

/** `degraded: true`: storage failed and the region was not saved; send `?region=` meanwhile. */
export const CrisisRegionResponseSchema = z.object({ region: RegionCodeSchema, degraded: DegradedSchema });
export type CrisisRegionResponse = z.infer<typeof CrisisRegionResponseSchema>;

export const CrisisResolveResponseSchema = z.object({ crisisMode: CrisisModeStateSchema, degraded: DegradedSchema });
export type CrisisResolveResponse = z.infer<typeof CrisisResolveResponseSchema>;
