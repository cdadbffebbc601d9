/**
 * Which change-feed entries the retention purge removes (SPEC.md §1 offline retention, §6).
 *
 * A feed entry waits in a device's feed until the device pulls it. The purge may remove:
 * - every entry of a device that is no longer registered (nobody will pull it);
 * - an entry of a registered device once it is older than the user's tier's offline
 *   retention — and never earlier, pulled or not, so an in-retention change a device has
 *   not pulled yet is always there when it comes back.
 *
 * Crisis entries (priority 9–10) are kept for the longest retention of any tier, whatever
 * the user pays: money never shortens how long a safety-plan change waits for a device.
 *
 * @example
 * decideFeedEntry({ createdAt: "2025-03-01T00:00:00Z", priority: 4, tier: "free", deviceRegistered: true }, new Date("2025-03-10T00:00:00Z"));
 * // { purge: true, reason: "past_retention" }
 */
import { PRIORITY_LEVELS, asPriority } from "../sync/entities.js";
import { TIERS, policyFor, type Tier } from "../tiers.js";

const DAY_MS = 86_400_000;

/** The longest offline retention of any tier (premium, 30 days). */
export const LONGEST_RETENTION_DAYS = Math.max(...TIERS.map((tier) => policyFor(tier).offlineRetentionDays));

export function isCrisisPriority(priority: number): boolean {
  return Number.isInteger(priority) && priority >= 1 && priority <= 10 && PRIORITY_LEVELS[asPriority(priority)].synchronous;
}

/** Days an entry of this priority waits for a registered device of a user on `tier`. */
export function retentionDaysFor(tier: Tier, priority: number): number {
  return isCrisisPriority(priority) ? LONGEST_RETENTION_DAYS : policyFor(tier).offlineRetentionDays;
}

export interface FeedEntryFacts {
  /** ISO time the entry was appended (`createdAt` of the feed item). */
  createdAt: string | undefined;
  priority: number | undefined;
  /** The user's effective tier now. */
  tier: Tier;
  /** Whether the feed's device is still registered to the user. */
  deviceRegistered: boolean;
}

export type FeedEntryDecision =
  | { purge: true; reason: "device_removed" | "past_retention" }
  | { purge: false; reason: "in_retention" | "undated" };

export function decideFeedEntry(entry: FeedEntryFacts, now: Date): FeedEntryDecision {
  if (!entry.deviceRegistered) return { purge: true, reason: "device_removed" };
  const created = entry.createdAt === undefined ? Number.NaN : Date.parse(entry.createdAt);
  // An entry without a readable time is left to the table's TTL backstop rather than guessed at.
  if (Number.isNaN(created)) return { purge: false, reason: "undated" };
  const days = retentionDaysFor(entry.tier, entry.priority ?? 1);
  return now.getTime() - created > days * DAY_MS ? { purge: true, reason: "past_retention" } : { purge: false, reason: "in_retention" };
}
