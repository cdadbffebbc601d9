import { GetCommand } from "@aws-sdk/lib-dynamodb";
import type { TierSource } from "@paysync/core/ports";
import { TIERS, type Tier } from "@paysync/core/tiers";
import { documentClient } from "../base/clients.js";
import { paymentStateKey } from "./keys.js";

const TIER_SET: ReadonlySet<string> = new Set(TIERS);

/**
 * The tier to enforce for a user right now, read from the top-level `tier` and `graceEndsAt`
 * of the payment state item (one consistent `GetItem` of two attributes). A grace period past
 * its end is `free` even before the expiry job has run; a user Stripe never heard of is `free`.
 *
 * @example
 * const policy = policyFor(await new TierReader(paymentsTable).effectiveTier(userKey));
 */
export class TierReader implements TierSource {
  constructor(private readonly table: string) {}

  async effectiveTier(userKey: string, now = new Date()): Promise<Tier> {
    const { Item } = await documentClient().send(new GetCommand({
      TableName: this.table,
      Key: paymentStateKey(userKey),
      ProjectionExpression: "tier, graceEndsAt",
      ConsistentRead: true,
    }));
    const tier = typeof Item?.tier === "string" && TIER_SET.has(Item.tier) ? (Item.tier as Tier) : "free";
    if (tier === "grace_period" && typeof Item?.graceEndsAt === "number" && now.getTime() >= Item.graceEndsAt) return "free";
    return tier;
  }
}
