import { createHash } from "node:crypto";
import { SendMessageBatchCommand, SendMessageCommand, type SendMessageBatchRequestEntry } from "@aws-sdk/client-sqs";
import type { LaneMessage, LaneSink } from "@paysync/core/ports";
import type { SyncLane } from "@paysync/core/sync";
import { sqsClient } from "../base/clients.js";
import { logger } from "../base/observability.js";
import type { LaneId } from "../resources.js";

export type { LaneMessage };

export const LANE_ID: Record<SyncLane, LaneId> = { realtime: "Realtime", standard: "Standard", background: "Background" };

/**
 * The lane's deduplication id of an op: scoped by the user, because op ids are chosen by devices
 * and two users may well pick the same one (SPEC.md §5). SQS deduplicates within its 5-minute
 * window by this id alone when a queue's scope is the whole queue (and fauxqs always does), so
 * an unscoped op id silently dropped the second user's op. A digest keeps it under SQS's 128
 * characters and free of the user key's shape.
 */
export function laneDeduplicationId(userKey: string, opId: string): string {
  return createHash("sha256").update(`${userKey}#${opId}`).digest("hex");
}

/** SQS caps a batch at 10 entries and 1 MiB; stay under it with room for attributes. */
const MAX_BATCH_ENTRIES = 10;
const MAX_BATCH_BYTES = 900 * 1024;

/**
 * Sends accepted ops to their lanes: one FIFO message each, deduplicated by user and op id, in
 * request order per lane (a batch keeps its order, and batches go one after another), so the
 * ops of one entity — one message group — are applied in the order the device sent them.
 * Answers the opIds that could not be sent; nothing is retried here.
 */
export class LanePublisher implements LaneSink {
  constructor(private readonly queueUrlOf: (lane: LaneId) => string) {}

  async publish(messages: readonly LaneMessage[]): Promise<{ failed: string[] }> {
    const byLane = new Map<SyncLane, LaneMessage[]>();
    for (const m of messages) byLane.set(m.lane, [...(byLane.get(m.lane) ?? []), m]);
    const failed = await Promise.all([...byLane].map(([lane, list]) => this.publishLane(lane, list)));
    return { failed: failed.flat() };
  }

  private async publishLane(lane: SyncLane, messages: LaneMessage[]): Promise<string[]> {
    const url = this.queueUrlOf(LANE_ID[lane]);
    const failed: string[] = [];
    for (const batch of batches(messages)) {
      if (failed.length > 0) {
        // An earlier batch failed: later ops of the same entities must not overtake it.
        failed.push(...batch.map((m) => m.message.opId));
        continue;
      }
      const entries: SendMessageBatchRequestEntry[] = batch.map((m, i) => ({
        Id: String(i),
        MessageBody: JSON.stringify(m.message),
        MessageGroupId: m.groupId,
        MessageDeduplicationId: laneDeduplicationId(m.message.userKey, m.message.opId),
      }));
      try {
        const result = await sqsClient().send(new SendMessageBatchCommand({ QueueUrl: url, Entries: entries }));
        for (const f of result.Failed ?? []) failed.push(batch[Number(f.Id)]?.message.opId ?? "");
      } catch (error) {
        logger.warn("lane send failed", { lane, errorName: error instanceof Error ? error.name : typeof error });
        failed.push(...batch.map((m) => m.message.opId));
      }
    }
    return failed;
  }
}

function* batches(messages: LaneMessage[]): Generator<LaneMessage[]> {
  let batch: LaneMessage[] = [];
  let bytes = 0;
  for (const m of messages) {
    const size = Buffer.byteLength(JSON.stringify(m.message), "utf8");
    if (batch.length > 0 && (batch.length >= MAX_BATCH_ENTRIES || bytes + size > MAX_BATCH_BYTES)) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(m);
    bytes += size;
  }
  if (batch.length > 0) yield batch;
}

/** The Stripe events lane: one message per event, grouped by customer pseudonym, deduplicated by event id. */
export class WebhookLane {
  constructor(private readonly queueUrl: () => string) {}

  async send(body: string, groupId: string, deduplicationId: string): Promise<void> {
    await sqsClient().send(new SendMessageCommand({ QueueUrl: this.queueUrl(), MessageBody: body, MessageGroupId: groupId, MessageDeduplicationId: deduplicationId }));
  }
}
