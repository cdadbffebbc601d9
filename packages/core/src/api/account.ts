/**
 * Wire schemas of entitlements and devices (SPEC.md section 4).
 *
 * @example
 * const body = DeviceRegistrationRequestSchema.parse({ deviceId: "phone-1", platform: "ios" });
 */
import { z } from "zod";
import { ALL_FEATURES, type TierPolicy } from "../tiers.js";
import { DateTimeSchema, IdSchema, PlatformSchema, PrioritySchema, TierSchema } from "./common.js";

/** Stripe's subscription statuses, plus `none` for a user who never subscribed. */
export const SUBSCRIPTION_STATUSES = [
  "none", "trialing", "active", "past_due", "unpaid", "paused", "canceled", "incomplete", "incomplete_expired",
] as const;
export const SubscriptionStatusSchema = z.enum(SUBSCRIPTION_STATUSES);
export type SubscriptionStatus = z.infer<typeof SubscriptionStatusSchema>;

export const TierPolicySchema = z.object({
  tier: TierSchema,
  priorityCeiling: PrioritySchema,
  maxConcurrentOps: z.number().int().positive(),
  syncFrequency: z.enum(["background", "standard", "realtime", "frequent"]),
  minPullIntervalMs: z.number().int().nonnegative(),
  bandwidthBytesPerSecond: z.number().int().positive().nullable(),
  maxPushBytes: z.number().int().positive().nullable(),
  dailyDataBytes: z.number().int().positive().nullable(),
  offlineQueueLimit: z.number().int().nonnegative(),
  offlineRetentionDays: z.number().int().positive(),
  crossDeviceSync: z.boolean(),
  conflictResolution: z.enum(["manual", "automatic"]),
  priorityEscalation: z.boolean(),
  compressionLevel: z.number().int().min(0).max(9),
  targetApplyLatencyMs: z.number().int().positive(),
}) satisfies z.ZodType<TierPolicy>;

export const FeatureFlagsSchema = z.object({
  enabled: z.array(z.enum(ALL_FEATURES)),
  disabled: z.array(z.enum(ALL_FEATURES)),
});

export const EntitlementsResponseSchema = z.object({
  tier: TierSchema,
  status: SubscriptionStatusSchema,
  graceEndsAt: DateTimeSchema.nullable(),
  featureFlags: FeatureFlagsSchema,
  policy: TierPolicySchema,
  /** Crisis features never depend on payment. */
  crisisAccess: z.literal(true),
  paymentCurrent: z.boolean(),
  /** When to ask again: 5 min from now, sooner when a grace period or trial ends first. */
  refreshAfter: DateTimeSchema,
  /** Until when a cached answer may be used offline: 7 days, never past a grace or trial end. */
  validUntil: DateTimeSchema,
  /** The first unpaid invoice of the current episode, or null: show a payment notice once per value. */
  billingIssueDetectedAt: DateTimeSchema.nullable(),
});
export type EntitlementsResponse = z.infer<typeof EntitlementsResponseSchema>;

/**
 * What `GET /v1/me/entitlements` answers: the claims, and `signedEntitlements`, a compact JWS
 * (ES256) over the same claims plus `iat`/`exp`. Absent only while signing is unavailable
 * (docs/PAYMENTS.md): a device then keeps what it verified before, or falls back to free.
 */
export const SignedEntitlementsResponseSchema = EntitlementsResponseSchema.extend({
  signedEntitlements: z.string().min(1).optional(),
});
export type SignedEntitlementsResponse = z.infer<typeof SignedEntitlementsResponseSchema>;

/** One ES256 public key of the set; `kid` names it in a JWS header. */
export const SigningJwkSchema = z.object({
  kty: z.literal("EC"),
  crv: z.literal("P-256"),
  x: z.string(),
  y: z.string(),
  kid: z.string(),
  alg: z.literal("ES256"),
  use: z.literal("sig"),
});

/** `GET /.well-known/jwks.json`: the keys `signedEntitlements` may be signed with (RFC 7517). */
export const JwksResponseSchema = z.object({ keys: z.array(SigningJwkSchema) });
export type JwksResponse = z.infer<typeof JwksResponseSchema>;

export const DeviceRegistrationRequestSchema = z.strictObject({
  deviceId: IdSchema,
  platform: PlatformSchema,
  appVersion: z.string().regex(/^[0-9A-Za-z.+_-]{1,64}$/, "must be a version string").optional(),
  primary: z.boolean().optional(),
});
export type DeviceRegistrationRequest = z.infer<typeof DeviceRegistrationRequestSchema>;

export const DeviceSchema = z.object({
  deviceId: IdSchema,
  platform: PlatformSchema,
  appVersion: z.string().nullable(),
  primary: z.boolean(),
  registeredAt: DateTimeSchema,
  lastSeenAt: DateTimeSchema.nullable(),
});
export type Device = z.infer<typeof DeviceSchema>;

export const DeviceListResponseSchema = z.object({ devices: z.array(DeviceSchema) });
export type DeviceListResponse = z.infer<typeof DeviceListResponseSchema>;

const ByteCountSchema = z.number().int().nonnegative();

/**
 * `GET /v1/me/usage` (SPEC §3.3): today's use against the plan's limits, so an app can say "80 %
 * of today's sync data used" before a 429 does. `null` limits are unlimited. Priority >= 8
 * (crisis, active sessions) is never counted and never limited.
 */
export const UsageResponseSchema = z.object({
  tier: TierSchema,
  /** The UTC day the daily figures are of. */
  day: z.iso.date(),
  dailyData: z.object({ usedBytes: ByteCountSchema, limitBytes: ByteCountSchema.nullable(), resetsAt: DateTimeSchema }),
  offlineQueue: z.object({ pendingOps: z.number().int().nonnegative(), limitOps: z.number().int().nonnegative() }),
  bandwidth: z.object({
    /** What a push may use now without waiting (the token bucket); `null` when unlimited. */
    availableBytes: ByteCountSchema.nullable(),
    capacityBytes: ByteCountSchema.nullable(),
    bytesPerSecond: ByteCountSchema.nullable(),
  }),
});
export type UsageResponse = z.infer<typeof UsageResponseSchema>;

