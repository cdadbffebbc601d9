import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { documentClient } from "../base/clients.js";
import { stripeEventKey } from "./keys.js";

/** `enqueued`: on the Webhooks lane; `ignored`: a type with no effect, acknowledged only. */
export type EventRecordStatus = "enqueued" | "ignored";

export interface EventRecord {
  eventId: string;
  eventType: string;
  createdSeconds: number;
  /** Pseudonym of the Stripe customer; absent for events that name none. */
  customerKey?: string;
  status: EventRecordStatus;
}

/** Stripe retries for three days; a month of records stops any late replay at the edge. */
const EVENT_RECORD_TTL_SECONDS = 35 * 24 * 3600;

/**
 * Stripe events received, once each by event id. A record holds the id, type, `created` and
 * the customer's pseudonym: nothing of the event's content. It is written only after the event
 * is safely on the lane, so a record always means "handed over": an enqueue that failed leaves
 * no record and Stripe's retry enqueues again (the lane's dedup id, the event id, absorbs a
 * retry whose first enqueue did succeed).
 *
 * @example
 * if (await log.has(event.id)) return duplicate();
 * await enqueue(message);
 * const fresh = await log.record({ eventId, eventType, createdSeconds, customerKey, status: "enqueued" });
 */
export class WebhookEventLog {
  constructor(private readonly table: string) {}

  async has(eventId: string): Promise<boolean> {
    const result = await documentClient().send(new GetCommand({ TableName: this.table, Key: stripeEventKey(eventId), ConsistentRead: true }));
    return result.Item !== undefined;
  }

  /** `false` when a concurrent delivery of the same event recorded it first. */
  async record(record: EventRecord, now = new Date()): Promise<boolean> {
    try {
      await documentClient().send(new PutCommand({
        TableName: this.table,
        Item: {
          ...stripeEventKey(record.eventId),
          eventId: record.eventId,
          eventType: record.eventType,
          created: record.createdSeconds,
          customerKey: record.customerKey,
          status: record.status,
          receivedAt: now.toISOString(),
          expiresAt: Math.floor(now.getTime() / 1000) + EVENT_RECORD_TTL_SECONDS,
        },
        ConditionExpression: "attribute_not_exists(pk)",
      }));
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}
