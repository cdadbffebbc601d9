import { GetCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import {
  initialPaymentState,
  PAID_TIERS,
  PAYMENT_STATUSES,
  paymentStateSchema,
  type PaidTier,
  type PaymentState,
  type PaymentStatus,
} from "@paysync/core/payments";
import type { StoreWrite } from "@paysync/core/ports";
import { TIERS, type Tier } from "@paysync/core/tiers";
import { documentClient } from "../base/clients.js";
import { graceIndexKey, GRACE_INDEX_PARTITION, paymentStateKey, userKeyOfPartition } from "./keys.js";
import { toStoreWrite } from "./transactions.js";

/** A user's payment state as stored, with the write counter that guards it. */
export interface StoredPaymentState {
  state: PaymentState;
  /** +1 on every write; writes are conditional on it (optimistic concurrency). */
  version: number;
  /** Event id of the last `trial_will_end` notice sent, so a redelivery sends none. */
  noticeEventId?: string;
}

/**
 * Payment state per user in the Payments table, apart from therapeutic data
 * (`paymentStateKey`). Besides the full state (`state`), the item carries
 * top-level `tier`, `status`, `graceEndsAt` (epoch ms) and `paymentCurrent` for readers that
 * need only those (the sync engine reads `tier`), and, while the tier is `grace_period`,
 * an index entry (`graceIndexKey`, sorted by its end) so the expiry job finds due users by
 * querying one index partition in pages.
 *
 * @example
 * const stored = await repository.get(userKey);
 * const write = repository.putWrite(userKey, next, stored?.version);
 */
export class PaymentStateRepository {
  constructor(private readonly table: string) {}

  async get(userKey: string): Promise<StoredPaymentState | undefined> {
    const { Item } = await documentClient().send(new GetCommand({ TableName: this.table, Key: paymentStateKey(userKey), ConsistentRead: true }));
    if (!Item) return undefined;
    return {
      state: Item.state === undefined ? stateFromTopLevel(Item) : paymentStateSchema.parse(Item.state),
      version: typeof Item.version === "number" ? Item.version : 0,
      ...(typeof Item.noticeEventId === "string" ? { noticeEventId: Item.noticeEventId } : {}),
    };
  }

  /**
   * The conditional Put of a new state, for a transaction: it fails (ConditionalCheckFailed)
   * if anyone wrote since `previousVersion` was read (`undefined`: the item must not exist).
   */
  putWrite(userKey: string, state: PaymentState, previousVersion: number | undefined, extra: { noticeEventId?: string | undefined; now?: Date } = {}): StoreWrite {
    const now = extra.now ?? new Date();
    const inGrace = state.tier === "grace_period" && state.graceEndsAt !== null;
    return toStoreWrite({
      Put: {
        TableName: this.table,
        Item: {
          ...paymentStateKey(userKey),
          tier: state.tier,
          status: state.status,
          graceEndsAt: state.graceEndsAt ?? undefined,
          paymentCurrent: state.paymentCurrent,
          entitlementVersion: state.entitlementVersion,
          state,
          version: (previousVersion ?? 0) + 1,
          noticeEventId: extra.noticeEventId,
          updatedAt: now.toISOString(),
          ...(inGrace ? graceIndexKey(new Date(state.graceEndsAt as number).toISOString()) : {}),
        },
        ...versionCondition(previousVersion),
      },
    });
  }

  /** One page of users whose grace period ends at or before `now`, oldest first. */
  async dueGracePage(now: Date, limit: number, startKey?: Record<string, unknown>): Promise<{ userKeys: string[]; next: Record<string, unknown> | null }> {
    const result = await documentClient().send(new QueryCommand({
      TableName: this.table,
      IndexName: "gsi1",
      KeyConditionExpression: "gsi1pk = :grace AND gsi1sk <= :now",
      ExpressionAttributeValues: { ":grace": GRACE_INDEX_PARTITION, ":now": now.toISOString() },
      Limit: limit,
      ...(startKey ? { ExclusiveStartKey: startKey } : {}),
    }));
    const userKeys = (result.Items ?? []).map((item) => userKeyOfPartition(String(item.pk)));
    return { userKeys, next: (result.LastEvaluatedKey as Record<string, unknown> | undefined) ?? null };
  }
}


/** `undefined`: the item must not exist; 0: an item none of our writers wrote (no version yet). */
function versionCondition(previousVersion: number | undefined) {
  if (previousVersion === undefined) return { ConditionExpression: "attribute_not_exists(pk)" };
  if (previousVersion === 0) return { ConditionExpression: "attribute_not_exists(version)" };
  return { ConditionExpression: "version = :version", ExpressionAttributeValues: { ":version": previousVersion } };
}

const oneOf = <T extends string>(values: readonly T[], value: unknown): T | undefined =>
  typeof value === "string" && (values as readonly string[]).includes(value) ? (value as T) : undefined;

/**
 * An item with only the top-level fields (seeded by a test or an operator, as the sync suite
 * does): its visible fields over an initial state, so reads and the next event still work.
 */
function stateFromTopLevel(item: Record<string, unknown>): PaymentState {
  const tier = oneOf<Tier>(TIERS, item.tier) ?? "free";
  return {
    ...initialPaymentState(),
    tier,
    status: oneOf<PaymentStatus>(PAYMENT_STATUSES, item.status) ?? "none",
    paidTier: oneOf<PaidTier>(PAID_TIERS, tier) ?? null,
    graceEndsAt: typeof item.graceEndsAt === "number" ? item.graceEndsAt : null,
    paymentCurrent: typeof item.paymentCurrent === "boolean" ? item.paymentCurrent : true,
  };
}
