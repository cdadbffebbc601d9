/**
 * Wire pieces shared by every route (SPEC.md section 4): ids, times, JSON values, enumerations,
 * the error body, health, path parameters and the device header.
 *
 * @example
 * IdSchema.safeParse("phone-1").success; // true
 */
import { z } from "zod";
import type { ErrorCode } from "../errors.js";
import { TIERS } from "../tiers.js";
import { DEVICE_ENTITY_TYPES, ENTITY_TYPES } from "../sync/entities.js";
import { LANES } from "../sync/priority.js";

/** Every id a device sends: deviceId, opId, entityId, sessionId. */
export const IdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, "must match ^[A-Za-z0-9_-]{1,128}$");
/** ISO 8601 date-time with `Z` or an explicit offset; a local time without offset is ambiguous. */
export const DateTimeSchema = z.iso.datetime({ offset: true });
export const JsonValueSchema = z.json();
export const PrioritySchema = z.number().int().min(1).max(10);
export const TierSchema = z.enum(TIERS);
export const EntityTypeSchema = z.enum(ENTITY_TYPES);
/** Server-originated types are absent: a device may not push them. */
export const DeviceEntityTypeSchema = z.enum(DEVICE_ENTITY_TYPES);
export const LaneSchema = z.enum(LANES);
export const ActionSchema = z.enum(["upsert", "delete"]);
export const PlatformSchema = z.enum(["ios", "android", "web"]);
export const CrisisLevelSchema = z.enum(["moderate", "high", "imminent"]);
export const CrisisSourceSchema = z.enum(["button", "assessment", "clinician"]);
/** Opaque pull cursor (base64url or decimal); the pattern is also the query parameter's in the OpenAPI document. */
export const CURSOR_PATTERN = /^[A-Za-z0-9_=-]{1,512}$/;
export const CursorSchema = z.string().regex(CURSOR_PATTERN, "must be an opaque cursor");
/**
 * Free text a person types (a safety-plan entry, a contact's name): trimmed, and at least one
 * character that is not white space — which the pattern states, so the document says what the
 * server enforces (a whitespace-only entry is a 400, not an empty one stored).
 */
export function typedTextSchema(maxLength: number) {
  return z.string().trim().min(1).max(maxLength).regex(/\S/, "must hold a character that is not white space");
}

/**
 * An integer in a query string, strictly: plain decimal digits, no sign, spaces, leading zeros,
 * exponent, hex or fraction (`0x10`, ` 5`, `1e1`, `+5`, `05` are 400s). `Number()` reads all of
 * those, so a coercion would give one value many spellings — and caches, logs and rate limits
 * keyed on the raw string would disagree with the server. A repeated parameter arrives joined
 * with a comma (`5,6`), as API Gateway delivers it, and is refused too.
 *
 * @example
 * queryIntegerSchema(1, 500).parse("42"); // 42
 */
export function queryIntegerSchema(min: number, max: number) {
  return z.string()
    .regex(/^(0|[1-9][0-9]{0,8})$/, "must be a decimal integer: digits only, no sign, spaces or leading zeros")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
}

export type Id = z.infer<typeof IdSchema>;
export type Platform = z.infer<typeof PlatformSchema>;
export type CrisisLevel = z.infer<typeof CrisisLevelSchema>;
export type CrisisSource = z.infer<typeof CrisisSourceSchema>;
export type SyncAction = z.infer<typeof ActionSchema>;

// Listing codes as keys makes the compiler fail when errors.ts gains a code this schema lacks.
const ERROR_CODES: Record<ErrorCode, true> = {
  validation_error: true, unauthorized: true, forbidden: true, not_found: true, conflict: true,
  payload_too_large: true, limit_exceeded: true, internal_error: true, service_unavailable: true,
  resync_required: true, protocol_unsupported: true, method_not_allowed: true, headers_too_large: true,
  timeout: true,
};
export const ErrorCodeSchema = z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]);

export const ErrorBodySchema = z.object({
  error: z.object({ code: ErrorCodeSchema, message: z.string(), details: z.unknown().optional() }),
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

const DependencyCheckSchema = z.object({ ok: z.boolean(), latencyMs: z.number().int().min(0) });
/** `GET /health`: 200 with `ok` when every dependency answers, 503 with `degraded` otherwise. */
export const HealthResponseSchema = z.object({
  status: z.enum(["ok", "degraded"]),
  /** The `X-Paysync-Protocol` versions this server speaks. */
  protocol: z.object({ min: z.number().int().positive(), max: z.number().int().positive() }),
  dependencies: z.object({
    dynamodb: z.record(z.string(), DependencyCheckSchema),
    sqs: z.record(z.string(), DependencyCheckSchema),
    kms: DependencyCheckSchema,
  }),
});
export type HealthResponse = z.infer<typeof HealthResponseSchema>;

export const DeviceIdParamsSchema = z.strictObject({ deviceId: IdSchema });
export const ConflictIdParamsSchema = z.strictObject({ conflictId: IdSchema });
export const SessionIdParamsSchema = z.strictObject({ sessionId: IdSchema });
/** `X-Device-Id` header of the sync routes (the HTTP API lower-cases header names). */
export const DeviceIdHeadersSchema = z.object({ "x-device-id": IdSchema });
/** `X-Device-Id` where it is optional (conflict resolution: the resolving device, if any). */
export const OptionalDeviceIdHeadersSchema = z.object({ "x-device-id": IdSchema.optional() });
