import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { DeleteCommand, GetCommand, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { orderKeyFor, type EventMeta } from "@paysync/core/payments";
import { documentClient } from "../base/clients.js";
import { customerLinkKey, parkedEventKey, parkedPartition } from "./keys.js";

/** Events of a customer nobody claims are kept half a year, then left to TTL. */
const PARKED_TTL_SECONDS = 180 * 24 * 3600;

/** What is parked: an event's order fields and its lane message, kept as the JSON it travelled in. */
export interface ParkedEvent {
  eventId: string;
  createdSeconds: number;
  customerKey: string;
}
/** Stripe time, then a digest of the event id (as the reducer orders): a late, older link never replaces a newer one. */
const linkOrder = (meta: EventMeta) => orderKeyFor(meta, "none");

/**
 * Which user a Stripe customer belongs to (`CUSTOMER#<customerKey>` → userKey), and the events
 * of customers not linked yet (`PARKED#<customerKey>`, sorted by Stripe time then event id),
 * held until the link arrives. Both keys are pseudonyms: no Stripe customer id is stored.
 *
 * @example
 * const userKey = await links.userKeyOf(customerKey);
 * if (!userKey) await links.park(message);
 */
export class CustomerLinks<M extends ParkedEvent = ParkedEvent> {
  /** `parse` reads a parked message back (the payments feature's schema). */
  constructor(private readonly table: string, private readonly parse: (value: unknown) => M) {}

  async userKeyOf(customerKey: string): Promise<string | undefined> {
    const { Item } = await documentClient().send(new GetCommand({ TableName: this.table, Key: customerLinkKey(customerKey), ConsistentRead: true }));
    return typeof Item?.userKey === "string" ? Item.userKey : undefined;
  }

  /** Links the customer to the user unless a newer event already linked it; `false` then. */
  async link(customerKey: string, userKey: string, meta: EventMeta, now = new Date()): Promise<boolean> {
    try {
      await documentClient().send(new PutCommand({
        TableName: this.table,
        Item: { ...customerLinkKey(customerKey), userKey, linkOrder: linkOrder(meta), linkedAt: now.toISOString() },
        ConditionExpression: "attribute_not_exists(pk) OR linkOrder < :order",
        ExpressionAttributeValues: { ":order": linkOrder(meta) },
      }));
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Parks an event; parking the same event again overwrites it (idempotent). */
  async park(message: M, now = new Date()): Promise<void> {
    await documentClient().send(new PutCommand({
      TableName: this.table,
      Item: {
        ...parkedEventKey(message.customerKey, message.createdSeconds, message.eventId),
        message: JSON.stringify(message),
        parkedAt: now.toISOString(),
        expiresAt: Math.floor(now.getTime() / 1000) + PARKED_TTL_SECONDS,
      },
    }));
  }

  /** The customer's parked events in Stripe-time order (expired ones left out: TTL deletes lazily). */
  async parked(customerKey: string, now = new Date()): Promise<M[]> {
    const messages: M[] = [];
    const nowSeconds = Math.floor(now.getTime() / 1000);
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await documentClient().send(new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": parkedPartition(customerKey) },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }));
      for (const item of page.Items ?? []) {
        if (typeof item.expiresAt === "number" && item.expiresAt <= nowSeconds) continue;
        messages.push(this.parse(JSON.parse(item.message as string)));
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return messages;
  }

  /** Removes a parked event once applied. */
  async unpark(message: M): Promise<void> {
    await documentClient().send(new DeleteCommand({
      TableName: this.table,
      Key: parkedEventKey(message.customerKey, message.createdSeconds, message.eventId),
    }));
  }
}
