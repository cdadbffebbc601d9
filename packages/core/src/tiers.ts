/**
 * Tiers, their sync policies and feature flags (SPEC.md section 1).
 *
 * @example
 * const policy = policyFor("premium");
 * policy.priorityCeiling; // 7
 */
export const TIERS = ["trial", "basic", "premium", "grace_period", "free"] as const;
export type Tier = (typeof TIERS)[number];

export type SyncFrequency = "background" | "standard" | "realtime" | "frequent";
export type ConflictStrategy = "manual" | "automatic";

export interface TierPolicy {
  tier: Tier;
  priorityCeiling: number;
  maxConcurrentOps: number;
  syncFrequency: SyncFrequency;
  minPullIntervalMs: number;
  /** Token-bucket refill rate in bytes per second; `null` means unlimited. */
  bandwidthBytesPerSecond: number | null;
  /** Largest accepted push body in bytes; `null` means unlimited. */
  maxPushBytes: number | null;
  /** Push plus pull bytes per UTC day; `null` means unlimited. */
  dailyDataBytes: number | null;
  offlineQueueLimit: number;
  offlineRetentionDays: number;
  crossDeviceSync: boolean;
  conflictResolution: ConflictStrategy;
  priorityEscalation: boolean;
  compressionLevel: number;
  targetApplyLatencyMs: number;
}

const KiB = 1024;
const MiB = 1024 * KiB;

const POLICIES: Record<Tier, TierPolicy> = {
  trial: {
    tier: "trial", priorityCeiling: 3, maxConcurrentOps: 2, syncFrequency: "background",
    minPullIntervalMs: 60_000, bandwidthBytesPerSecond: 50 * KiB, maxPushBytes: 10 * MiB,
    dailyDataBytes: 100 * MiB, offlineQueueLimit: 20, offlineRetentionDays: 7,
    crossDeviceSync: false, conflictResolution: "manual", priorityEscalation: false,
    compressionLevel: 9, targetApplyLatencyMs: 30_000,
  },
  basic: {
    tier: "basic", priorityCeiling: 4, maxConcurrentOps: 3, syncFrequency: "standard",
    minPullIntervalMs: 15_000, bandwidthBytesPerSecond: 200 * KiB, maxPushBytes: 50 * MiB,
    dailyDataBytes: 500 * MiB, offlineQueueLimit: 50, offlineRetentionDays: 14,
    crossDeviceSync: true, conflictResolution: "automatic", priorityEscalation: false,
    compressionLevel: 6, targetApplyLatencyMs: 5_000,
  },
  premium: {
    tier: "premium", priorityCeiling: 7, maxConcurrentOps: 10, syncFrequency: "realtime",
    minPullIntervalMs: 1_000, bandwidthBytesPerSecond: null, maxPushBytes: null,
    dailyDataBytes: null, offlineQueueLimit: 200, offlineRetentionDays: 30,
    crossDeviceSync: true, conflictResolution: "automatic", priorityEscalation: true,
    compressionLevel: 0, targetApplyLatencyMs: 500,
  },
  grace_period: {
    tier: "grace_period", priorityCeiling: 5, maxConcurrentOps: 5, syncFrequency: "frequent",
    minPullIntervalMs: 5_000, bandwidthBytesPerSecond: 100 * KiB, maxPushBytes: 25 * MiB,
    dailyDataBytes: 250 * MiB, offlineQueueLimit: 75, offlineRetentionDays: 21,
    crossDeviceSync: true, conflictResolution: "automatic", priorityEscalation: false,
    compressionLevel: 7, targetApplyLatencyMs: 2_000,
  },
  free: {
    tier: "free", priorityCeiling: 2, maxConcurrentOps: 1, syncFrequency: "background",
    minPullIntervalMs: 300_000, bandwidthBytesPerSecond: 20 * KiB, maxPushBytes: 1 * MiB,
    dailyDataBytes: 20 * MiB, offlineQueueLimit: 10, offlineRetentionDays: 7,
    crossDeviceSync: false, conflictResolution: "manual", priorityEscalation: false,
    compressionLevel: 9, targetApplyLatencyMs: 60_000,
  },
};

export function policyFor(tier: Tier): TierPolicy {
  return POLICIES[tier];
}

export const BASE_FEATURES = [
  "basic_check_in", "phq9_assessment", "gad7_assessment", "crisis_button", "breathing_exercises",
] as const;

export const ALL_FEATURES = [
  ...BASE_FEATURES, "trial_features", "mood_tracking", "progress_charts", "advanced_analytics",
  "custom_exercises", "priority_support", "real_time_sync", "cross_device_sync", "advanced_crisis_features",
] as const;
export type Feature = (typeof ALL_FEATURES)[number];

const EXTRA_FEATURES: Record<Tier, readonly Feature[]> = {
  trial: ["trial_features"],
  basic: ["mood_tracking", "progress_charts"],
  premium: [
    "mood_tracking", "progress_charts", "advanced_analytics", "custom_exercises",
    "priority_support", "real_time_sync", "cross_device_sync", "advanced_crisis_features",
  ],
  grace_period: ["mood_tracking"],
  free: [],
};

export interface FeatureFlags {
  enabled: Feature[];
  disabled: Feature[];
}

/** Every feature is listed exactly once, either enabled or disabled, so devices can diff flags. */
export function featureFlagsFor(tier: Tier): FeatureFlags {
  const enabled = new Set<Feature>([...BASE_FEATURES, ...EXTRA_FEATURES[tier]]);
  return {
    enabled: ALL_FEATURES.filter((f) => enabled.has(f)),
    disabled: ALL_FEATURES.filter((f) => !enabled.has(f)),
  };
}
