/**
 * The wire shapes the client speaks, taken from the server's zod schemas (`@paysync/core/api`).
 * Where the protocol has fields those schemas do not carry yet, this module extends them; it is
 * the only place that does, so the day the server's schemas have them this file shrinks.
 *
 * @example
 * const page = PullResponseSchema.parse(await response.json());
 * if (page.phase === "feed") markSnapshotComplete();
 */
import {
  ChangeSchema, CrisisModeStateSchema, DateTimeSchema, EmergencyContactSchema, EntitlementsResponseSchema,
  ErrorBodySchema, HotlineSchema, IdSchema, PrioritySchema, SafetyPlanSchema, SyncOpResultSchema,
  SyncPullResponseSchema, type CrisisModeState, type EmergencyContact, type Hotline, type SafetyPlan,
} from "@paysync/core/api";
import { ENTITY_TYPES } from "@paysync/core/sync/entities";
import { z } from "zod";

/** Sent as `X-Paysync-Protocol` on every request. */
export const PROTOCOL_VERSION = 1;

/** Largest payload of one op (JSON bytes); the server answers 413 above it. */
export const MAX_OP_PAYLOAD_BYTES = 256 * 1024;

/** Server-originated entity types the client stores and exposes (crisis_directory is new). */
export const SERVER_ENTITY_TYPES = ["payment_state", "feature_flags", "sync_policy", "crisis_directory"] as const;

// The server adds the fields below in the sync-protocol change.
export const KNOWN_ENTITY_TYPES = ENTITY_TYPES;
export type KnownEntityType = (typeof KNOWN_ENTITY_TYPES)[number];

/**
 * A change as pulled. The entity type is any id-shaped string so that a type a newer server
 * introduces is stored instead of failing the page (an old app would otherwise stop syncing).
 */
export const PulledChangeSchema = ChangeSchema.extend({
  entityType: z.union([z.enum(KNOWN_ENTITY_TYPES), IdSchema]),
  snapshot: z.boolean().optional(),
});
export type PulledChange = z.infer<typeof PulledChangeSchema>;

export const PullPhaseSchema = z.enum(["snapshot", "feed"]);
export type PullPhase = z.infer<typeof PullPhaseSchema>;

/** A server that predates bootstrap sends no `phase`: its cursor always points into the feed. */
export const PullResponseSchema = SyncPullResponseSchema.extend({
  changes: z.array(PulledChangeSchema),
  phase: PullPhaseSchema.default("feed"),
});
export type PullResponse = z.infer<typeof PullResponseSchema>;

/** Push results may say `conflict` (manual tiers) — already in the core enum. */
export const PushResponseSchema = z.object({ results: z.array(SyncOpResultSchema) });
export type PushResult = z.infer<typeof SyncOpResultSchema>;

/** Error codes are open: the client reacts to the ones it knows and reports the rest. */
export const ErrorResponseSchema = ErrorBodySchema.extend({
  error: ErrorBodySchema.shape.error.extend({ code: z.string() }),
});
export type ErrorResponse = z.infer<typeof ErrorResponseSchema>;

export const SupportedRangeSchema = z.object({ min: z.number().int(), max: z.number().int() });
export type SupportedRange = z.infer<typeof SupportedRangeSchema>;

/** `426 protocol_unsupported` details. */
export const ProtocolUnsupportedDetailsSchema = z.object({ supported: SupportedRangeSchema });

/** `429` details: which limit refused, and the per-op results when it was a push. */
export const LimitDetailsSchema = z.object({
  limit: z.string().optional(),
  retryAfterSeconds: z.number().optional(),
  results: z.array(SyncOpResultSchema).optional(),
}).loose();

/** `413` details of a push: the ops over the payload limit. */
export const TooLargeDetailsSchema = z.object({
  ops: z.array(z.object({ opId: IdSchema }).loose()).optional(),
}).loose();

/** The entitlements answer gains its offline contract (SPEC 3.1). */
export const EntitlementsSchema = EntitlementsResponseSchema.extend({
  refreshAfter: DateTimeSchema,
  validUntil: DateTimeSchema,
  billingIssueDetectedAt: DateTimeSchema.nullable(),
  /** Absent while the server cannot sign (docs/PAYMENTS.md): such an answer grants nothing. */
  signedEntitlements: z.string().min(1).optional(),
});
export type EntitlementsBody = z.infer<typeof EntitlementsSchema>;

/** The claims inside `signedEntitlements`: the same fields plus `iat`/`exp` (seconds). */
export const EntitlementClaimsSchema = EntitlementsResponseSchema.extend({
  refreshAfter: DateTimeSchema,
  validUntil: DateTimeSchema,
  billingIssueDetectedAt: DateTimeSchema.nullable(),
  iat: z.number(),
  exp: z.number(),
});
export type EntitlementClaims = z.infer<typeof EntitlementClaimsSchema>;

export const JwkSchema = z.object({
  kty: z.literal("EC"),
  crv: z.literal("P-256"),
  x: z.string(),
  y: z.string(),
  kid: z.string(),
  alg: z.string().optional(),
  use: z.string().optional(),
}).loose();
export type Jwk = z.infer<typeof JwkSchema>;

/** Keys of other types (RSA, other curves) are skipped rather than failing the set. */
export const JwksSchema = z.object({ keys: z.array(z.unknown()) });

/**
 * The crisis resources answer. Beyond `directoryVersion` and `degraded` the body is opaque (the
 * directory's shape is still being designed); the familiar fields are typed where present.
 */
export const CrisisResourcesSchema = z.object({
  directoryVersion: z.union([z.string(), z.number()]),
  degraded: z.boolean().optional(),
}).loose();
export interface CrisisResources {
  directoryVersion: string | number;
  degraded?: boolean;
  hotline?: Hotline;
  lines?: unknown[];
  safetyPlan?: SafetyPlan | null;
  emergencyContacts?: EmergencyContact[];
  crisisMode?: CrisisModeState;
  [key: string]: unknown;
}
export { CrisisModeStateSchema, EmergencyContactSchema, HotlineSchema, SafetyPlanSchema };

/** The only realtime message: "pull now". */
export const PokeSchema = z.object({ type: z.literal("poke"), priority: PrioritySchema });
export type Poke = z.infer<typeof PokeSchema>;
