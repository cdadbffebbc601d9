import { createHash } from "node:crypto";
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
} from "@aws-sdk/client-sqs";
import type { AuditSink } from "@paysync/core/ports";
import { sqsClient } from "../base/clients.js";
import { config } from "../base/config.js";
import { LANES, type LaneId } from "../resources.js";
import type { PageResult } from "./job-runner.js";

/** A message is redriven at most this many times; after that it stays in the DLQ for a person. */
export const MAX_REDRIVES = 3;
export const REDRIVE_ATTRIBUTE = "paysyncRedrives";
/** An exhausted message is hidden this long so one run does not see it again (SQS maximum). */
const PARKED_VISIBILITY_SECONDS = 12 * 3600;

export interface RedriveCheckpoint {
  lane: number;
}

const LANE_IDS = Object.keys(LANES) as LaneId[];

function redriveCount(message: Message): number {
  const value = Number(message.MessageAttributes?.[REDRIVE_ATTRIBUTE]?.StringValue ?? "0");
  return Number.isFinite(value) ? value : 0;
}

/** Deterministic per attempt, so a page repeated after a crash is deduplicated by the lane. */
function redriveDedupId(message: Message, attempt: number): string {
  const original = message.Attributes?.MessageDeduplicationId ?? message.MessageId ?? "";
  return createHash("sha256").update(`${original}#redrive#${attempt}`).digest("hex").slice(0, 64);
}

/**
 * One page of the redrive job: up to 10 messages from one lane's DLQ. Each is sent back to
 * its lane (same group, so per-entity order holds; a fresh dedup id per attempt) and then
 * deleted from the DLQ; one redriven too often stays, hidden for 12 hours. Every message
 * gets an audit entry. Sending before deleting means a crash repeats, never loses, and the
 * repeat is deduplicated by the lane and by the op's own id.
 */
export async function redrivePage(audit: AuditSink, checkpoint: RedriveCheckpoint | undefined): Promise<PageResult<RedriveCheckpoint>> {
  const laneIndex = checkpoint?.lane ?? 0;
  const lane = LANE_IDS[laneIndex];
  if (lane === undefined) return { processed: 0, next: null };
  const dlq = config.deadLetterQueue(lane);
  const { Messages = [] } = await sqsClient().send(new ReceiveMessageCommand({
    QueueUrl: dlq,
    MaxNumberOfMessages: 10,
    WaitTimeSeconds: 0,
    MessageSystemAttributeNames: ["All"],
    MessageAttributeNames: ["All"],
  }));
  if (Messages.length === 0) {
    return { processed: 0, next: laneIndex + 1 < LANE_IDS.length ? { lane: laneIndex + 1 } : null };
  }
  for (const message of Messages) {
    const count = redriveCount(message);
    if (count >= MAX_REDRIVES) {
      await sqsClient().send(new ChangeMessageVisibilityCommand({ QueueUrl: dlq, ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: PARKED_VISIBILITY_SECONDS }));
      await audit.append({ actor: "job", action: `dlq.redrive.${lane.toLowerCase()}`, outcome: "exhausted" });
      continue;
    }
    await sqsClient().send(new SendMessageCommand({
      QueueUrl: config.queue(lane),
      MessageBody: message.Body ?? "",
      MessageGroupId: message.Attributes?.MessageGroupId ?? "redrive",
      MessageDeduplicationId: redriveDedupId(message, count + 1),
      MessageAttributes: { [REDRIVE_ATTRIBUTE]: { DataType: "Number", StringValue: String(count + 1) } },
    }));
    await sqsClient().send(new DeleteMessageCommand({ QueueUrl: dlq, ReceiptHandle: message.ReceiptHandle }));
    await audit.append({ actor: "job", action: `dlq.redrive.${lane.toLowerCase()}`, outcome: "redriven" });
  }
  return { processed: Messages.length, next: { lane: laneIndex } };
}
