/**
 * Wire schemas of sync push and pull, conflicts and session handoff (SPEC.md section 4).
 *
 * @example
 * const { ops } = SyncPushRequestSchema.parse(JSON.parse(event.body ?? ""));
 * const { cursor, limit } = SyncPullQuerySchema.parse(event.queryStringParameters ?? {});
 */
import { z } from "zod";
import { AssessmentPayloadSchema } from "../sync/assessment.js";
import {
  ActionSchema, CursorSchema, DateTimeSchema, DeviceEntityTypeSchema, EntityTypeSchema, IdSchema,
  JsonValueSchema, LaneSchema, PrioritySchema, queryIntegerSchema,
} from "./common.js";

export const MAX_OPS_PER_PUSH = 500;
export const MAX_PULL_LIMIT = 500;
export const DEFAULT_PULL_LIMIT = 100;

const VersionSchema = z.number().int().nonnegative();

const OP_FIELDS = {
  opId: IdSchema,
  entityType: DeviceEntityTypeSchema,
  entityId: IdSchema,
  /** Version the device last saw; 0 for a new entity. */
  baseVersion: VersionSchema,
  clientTime: DateTimeSchema,
};

/**
 * One op, by `action`: an upsert carries its payload (any JSON); a delete may leave it out. A
 * discriminated union, so the document states the rule the server enforces.
 */
export const SyncOpSchema = z
  .discriminatedUnion("action", [
    z.strictObject({ ...OP_FIELDS, action: z.literal("upsert"), payload: JsonValueSchema }),
    z.strictObject({ ...OP_FIELDS, action: z.literal("delete"), payload: JsonValueSchema.optional() }),
  ])
  .superRefine((op, ctx) => {
    // The server scores assessments itself, so an unscorable one is refused up front.
    if (op.entityType === "assessment" && op.action === "upsert") {
      const parsed = AssessmentPayloadSchema.safeParse(op.payload);
      for (const issue of parsed.error?.issues ?? []) {
        ctx.addIssue({ code: "custom", path: ["payload", ...issue.path], message: issue.message });
      }
    }
  })
  .meta({ description: "An op. An upsert of `crisis_state`, `safety_plan` or `emergency_contacts` carries that type's payload (the shapes of the crisis routes' bodies), and an `assessment` upsert a scorable assessment (SPEC §1); other payloads are any JSON, stored as sent. Breaking either is a 400." });
export type SyncOp = z.infer<typeof SyncOpSchema>;

export const SyncPushRequestSchema = z.strictObject({
  ops: z.array(SyncOpSchema).min(1).max(MAX_OPS_PER_PUSH),
});
export type SyncPushRequest = z.infer<typeof SyncPushRequestSchema>;

export const SyncOpStatusSchema = z.enum(["applied", "queued", "duplicate", "conflict", "rejected"]);
export type SyncOpStatus = z.infer<typeof SyncOpStatusSchema>;

export const SyncOpResultSchema = z.object({
  opId: IdSchema,
  status: SyncOpStatusSchema,
  priority: PrioritySchema,
  lane: LaneSchema,
  reason: z.string().max(500).optional(),
});
export type SyncOpResult = z.infer<typeof SyncOpResultSchema>;

export const SyncPushResponseSchema = z.object({ results: z.array(SyncOpResultSchema) });
export type SyncPushResponse = z.infer<typeof SyncPushResponseSchema>;

/** Query strings arrive as strings: `limit` is parsed strictly (`queryIntegerSchema`), never coerced. */
export const SyncPullQuerySchema = z.strictObject({
  cursor: CursorSchema.optional(),
  limit: queryIntegerSchema(1, MAX_PULL_LIMIT).default(DEFAULT_PULL_LIMIT),
});
export type SyncPullQuery = z.infer<typeof SyncPullQuerySchema>;

export const ChangeSchema = z.object({
  seq: z.number().int().nonnegative(),
  entityType: EntityTypeSchema,
  entityId: IdSchema,
  version: z.number().int().positive(),
  action: ActionSchema,
  /** `null` for a delete. */
  payload: JsonValueSchema,
  priority: PrioritySchema,
  /** `null` for server-originated changes (payment state, flags, policy). */
  originDeviceId: IdSchema.nullable(),
  /** Present (`true`) on a bootstrap's snapshot: the entity's current state, not a change in the feed. */
  snapshot: z.literal(true).optional(),
});
export type Change = z.infer<typeof ChangeSchema>;

/** `snapshot`: the cursor points into a bootstrap's snapshot; `feed`: into the feed (the snapshot, if any, is complete). */
export const PullPhaseSchema = z.enum(["snapshot", "feed"]);
export type PullPhase = z.infer<typeof PullPhaseSchema>;

export const SyncPullResponseSchema = z.object({
  changes: z.array(ChangeSchema),
  cursor: CursorSchema,
  hasMore: z.boolean(),
  minIntervalMs: z.number().int().nonnegative(),
  phase: PullPhaseSchema,
});
export type SyncPullResponse = z.infer<typeof SyncPullResponseSchema>;

export const ConflictSchema = z.object({
  id: IdSchema,
  entityType: EntityTypeSchema,
  entityId: IdSchema,
  current: z.object({
    version: VersionSchema,
    payload: JsonValueSchema,
    deviceId: IdSchema.nullable(),
    clientTime: DateTimeSchema,
  }),
  incoming: z.object({
    opId: IdSchema,
    baseVersion: VersionSchema,
    action: ActionSchema,
    payload: JsonValueSchema,
    deviceId: IdSchema,
    clientTime: DateTimeSchema,
  }),
  detectedAt: DateTimeSchema,
});
export type Conflict = z.infer<typeof ConflictSchema>;

export const ConflictListResponseSchema = z.object({ conflicts: z.array(ConflictSchema) });
export type ConflictListResponse = z.infer<typeof ConflictListResponseSchema>;

export const ConflictResolutionSchema = z.enum(["keep_current", "take_incoming", "merge"]);

/**
 * By `resolution`: `merge` carries the merged payload; the others must not carry one (a payload
 * with them is ambiguous: which version did the device mean?).
 */
export const ConflictResolveRequestSchema = z.discriminatedUnion("resolution", [
  z.strictObject({ resolution: z.enum(["keep_current", "take_incoming"]) }),
  z.strictObject({ resolution: z.literal("merge"), payload: JsonValueSchema }),
]);
export type ConflictResolveRequest = z.infer<typeof ConflictResolveRequestSchema>;

export const ConflictResolveResponseSchema = z.object({
  id: IdSchema,
  entityType: EntityTypeSchema,
  entityId: IdSchema,
  resolution: ConflictResolutionSchema,
  version: z.number().int().positive(),
});
export type ConflictResolveResponse = z.infer<typeof ConflictResolveResponseSchema>;

export const HandoffRequestSchema = z
  .strictObject({ fromDeviceId: IdSchema, toDeviceId: IdSchema, snapshot: z.record(z.string(), JsonValueSchema) })
  .refine((body) => body.fromDeviceId !== body.toDeviceId, {
    path: ["toDeviceId"],
    message: "a session is handed off to another device",
  })
  // JSON Schema cannot say that two fields differ: the description does.
  .meta({ description: "`toDeviceId` must differ from `fromDeviceId` (a session is handed to another device; equal ids are a 400). Both must be the caller's registered devices (else 404)." });
export type HandoffRequest = z.infer<typeof HandoffRequestSchema>;

/** The snapshot reaches the target device as a priority-8 change. */
export const HandoffResponseSchema = z.object({
  sessionId: IdSchema,
  toDeviceId: IdSchema,
  priority: z.literal(8),
});
export type HandoffResponse = z.infer<typeof HandoffResponseSchema>;
