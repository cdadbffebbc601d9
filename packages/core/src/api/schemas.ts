/**
 * The device API's wire schemas in one registry (SPEC.md section 4): the same zod schemas
 * validate requests and responses, type the handlers and generate the OpenAPI document.
 * Request objects are strict, so an unknown field is a 400 rather than silently dropped.
 *
 * @example
 * const body = API_SCHEMAS.SyncPushRequest.parse(JSON.parse(event.body ?? ""));
 * const requestBodySchema = toJsonSchema(API_SCHEMAS.SyncPushRequest, "input");
 */
import { z } from "zod";
import {
  DeviceListResponseSchema, DeviceRegistrationRequestSchema, DeviceSchema, EntitlementsResponseSchema, UsageResponseSchema,
  JwksResponseSchema, SignedEntitlementsResponseSchema, TierPolicySchema,
} from "./account.js";
import {
  ConflictIdParamsSchema, DeviceIdHeadersSchema, DeviceIdParamsSchema, ErrorBodySchema, HealthResponseSchema,
  SessionIdParamsSchema,
} from "./common.js";
import {
  CrisisActivateRequestSchema, CrisisResolveRequestSchema, CrisisResolveResponseSchema,
  CrisisRegionRequestSchema, CrisisRegionResponseSchema, CrisisResourcesResponseSchema, CrisisWriteResponseSchema, EmergencyContactsRequestSchema, SafetyPlanRequestSchema, SafetyPlanSchema,
} from "./crisis.js";
import {
  ChangeSchema, ConflictListResponseSchema, ConflictResolveRequestSchema, ConflictResolveResponseSchema,
  ConflictSchema, HandoffRequestSchema, HandoffResponseSchema, SyncOpResultSchema, SyncOpSchema,
  SyncPullQuerySchema, SyncPullResponseSchema, SyncPushRequestSchema, SyncPushResponseSchema,
} from "./sync.js";
import { PokeMessageSchema, RealtimeConnectQuerySchema } from "./realtime.js";
import { CrisisDirectorySchema, CrisisDirectoryVersionSchema, CrisisLineSchema } from "./crisis-directory.js";

export * from "./account.js";
export * from "./common.js";
export * from "./crisis.js";
export * from "./crisis-directory.js";
export * from "./sync.js";

/** Every wire shape by the name it carries in the OpenAPI document's components. */
export const API_SCHEMAS = {
  ErrorBody: ErrorBodySchema,
  HealthResponse: HealthResponseSchema,
  DeviceIdParams: DeviceIdParamsSchema,
  ConflictIdParams: ConflictIdParamsSchema,
  SessionIdParams: SessionIdParamsSchema,
  DeviceIdHeaders: DeviceIdHeadersSchema,
  TierPolicy: TierPolicySchema,
  EntitlementsResponse: EntitlementsResponseSchema,
  UsageResponse: UsageResponseSchema,
  SignedEntitlementsResponse: SignedEntitlementsResponseSchema,
  JwksResponse: JwksResponseSchema,
  DeviceRegistrationRequest: DeviceRegistrationRequestSchema,
  Device: DeviceSchema,
  DeviceListResponse: DeviceListResponseSchema,
  SyncOp: SyncOpSchema,
  SyncPushRequest: SyncPushRequestSchema,
  SyncOpResult: SyncOpResultSchema,
  SyncPushResponse: SyncPushResponseSchema,
  SyncPullQuery: SyncPullQuerySchema,
  Change: ChangeSchema,
  SyncPullResponse: SyncPullResponseSchema,
  Conflict: ConflictSchema,
  ConflictListResponse: ConflictListResponseSchema,
  ConflictResolveRequest: ConflictResolveRequestSchema,
  ConflictResolveResponse: ConflictResolveResponseSchema,
  HandoffRequest: HandoffRequestSchema,
  HandoffResponse: HandoffResponseSchema,
  CrisisActivateRequest: CrisisActivateRequestSchema,
  CrisisResolveRequest: CrisisResolveRequestSchema,
  SafetyPlan: SafetyPlanSchema,
  SafetyPlanRequest: SafetyPlanRequestSchema,
  EmergencyContactsRequest: EmergencyContactsRequestSchema,
  CrisisWriteResponse: CrisisWriteResponseSchema,
  CrisisResourcesResponse: CrisisResourcesResponseSchema,
  CrisisRegionRequest: CrisisRegionRequestSchema,
  CrisisRegionResponse: CrisisRegionResponseSchema,
  CrisisResolveResponse: CrisisResolveResponseSchema,
  CrisisLine: CrisisLineSchema,
  CrisisDirectory: CrisisDirectorySchema,
  CrisisDirectoryVersion: CrisisDirectoryVersionSchema,
  RealtimeConnectQuery: RealtimeConnectQuerySchema,
  PokeMessage: PokeMessageSchema,
} as const satisfies Record<string, z.ZodType>;

export type ApiSchemaName = keyof typeof API_SCHEMAS;

/**
 * JSON Schema (draft 2020-12, as OpenAPI 3.1 uses) of a wire schema. `input` describes what a
 * client sends (defaults make fields optional), `output` what the server returns. Refinements
 * (e.g. "merge needs a payload") are enforced by zod but cannot be expressed here. Callers
 * should use this rather than importing zod themselves, so that the zod instance that built the
 * schemas also converts them.
 */
export function toJsonSchema(schema: z.ZodType, io: "input" | "output" = "output"): Record<string, unknown> {
  return z.toJSONSchema(schema, { io, unrepresentable: "throw" }) as Record<string, unknown>;
}
