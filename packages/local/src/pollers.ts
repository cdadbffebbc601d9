import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SQSClient,
  type Message,
} from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { LANES, LANE_CONSUMER, type LaneId } from "@paysync/aws/resources";
import type { FunctionHost } from "./function-host.js";
import { PriorityGate } from "./priority-gate.js";
import { LOCAL_REGION, localClientConfig } from "./provision.js";

/** The sync lanes, highest priority first: the order the gate serves them in. */
export const GATED_LANES = ["Realtime", "Standard", "Background"] as const satisfies readonly LaneId[];
type GatedLane = (typeof GATED_LANES)[number];

/** A lane's local share: a fifth of its AWS `maxConcurrency`, at least one (Realtime 10, Standard 4, Background 2). */
export function localShare(lane: LaneId): number {
  return Math.max(1, Math.ceil(LANES[lane].maxConcurrency / 5));
}

const isGated = (lane: LaneId): lane is GatedLane => (GATED_LANES as readonly LaneId[]).includes(lane);

export interface PollerOptions {
  sqsEndpoint: string;
  /** Where the consumer functions run. */
  host: FunctionHost;
  queues: Record<LaneId, { url: string; arn: string }>;
  /** Local pollers per lane; default the lane's local share (`localShare`). */
  pollersPerLane?: number;
  /** Seconds before a failed message is first retried locally, doubling with each receive. */
  retryDelaySeconds?: number;
  onError?: (lane: LaneId, error: unknown) => void;
}

function toRecord(message: Message, arn: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? "",
    receiptHandle: message.ReceiptHandle ?? "",
    body: message.Body ?? "",
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? "1",
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? "local",
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      ...(attributes.MessageGroupId ? { MessageGroupId: attributes.MessageGroupId } : {}),
      ...(attributes.MessageDeduplicationId ? { MessageDeduplicationId: attributes.MessageDeduplicationId } : {}),
      ...(attributes.SequenceNumber ? { SequenceNumber: attributes.SequenceNumber } : {}),
    },
    messageAttributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
        name,
        { dataType: value.DataType ?? "String", ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}) },
      ]),
    ),
    md5OfBody: message.MD5OfBody ?? "",
    eventSource: "aws:sqs",
    eventSourceARN: arn,
    awsRegion: LOCAL_REGION,
  };
}

/**
 * Lambda's SQS event source, locally: receive up to the lane's batch size, call the same
 * worker handler with a real `SQSEvent`, delete what succeeded and return the reported
 * failures to the queue (so FIFO order, retries and DLQ redrive behave as in AWS).
 */
export function startPollers(options: PollerOptions): { stop(): Promise<void> } {
  const client = new SQSClient(localClientConfig(options.sqsEndpoint));
  const controller = new AbortController();
  const loops: Promise<void>[] = [];
  const retryDelay = options.retryDelaySeconds ?? 1;
  const pollersOf = (lane: LaneId) => options.pollersPerLane ?? localShare(lane);
  // The webhook lane has a consumer function of its own; the sync lanes share SyncWorker and yield by priority.
  const gate = new PriorityGate(GATED_LANES.map((lane) => ({ lane, share: pollersOf(lane) })));

  async function pollOnce(lane: LaneId): Promise<void> {
    const def = LANES[lane];
    const queue = options.queues[lane];
    const received = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: queue.url,
        MaxNumberOfMessages: def.batchSize,
        WaitTimeSeconds: 1,
        MessageSystemAttributeNames: ["All"],
        MessageAttributeNames: ["All"],
      }),
      { abortSignal: controller.signal },
    );
    const messages = received.Messages ?? [];
    if (messages.length === 0) return;
    const event: SQSEvent = { Records: messages.map((m) => toRecord(m, queue.arn)) };
    const functionId = LANE_CONSUMER[lane];
    let failed: Set<string>;
    const release = isGated(lane) ? await gate.acquire(lane) : undefined;
    try {
      const response = (await options.host.invoke(functionId, event)) as SQSBatchResponse | undefined;
      failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
    } catch (error) {
      options.onError?.(lane, error);
      failed = new Set(messages.map((m) => m.MessageId ?? ""));
    } finally {
      release?.();
    }
    const done = messages.filter((m) => !failed.has(m.MessageId ?? ""));
    const retry = messages.filter((m) => failed.has(m.MessageId ?? ""));
    if (done.length > 0) {
      await client.send(new DeleteMessageBatchCommand({
        QueueUrl: queue.url,
        Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? "" })),
      }));
    }
    if (retry.length > 0) {
      await client.send(new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queue.url,
        // Backing off with each receive (1, 2, 4, 4 … s): an emulator restarting for a few
        // seconds does not push messages to the DLQ locally (AWS waits the visibility timeout).
        Entries: retry.map((m, i) => ({
          Id: String(i),
          ReceiptHandle: m.ReceiptHandle ?? "",
          VisibilityTimeout: Math.min(def.visibilityTimeoutSeconds, 4 * retryDelay, retryDelay * 2 ** (Number(m.Attributes?.ApproximateReceiveCount ?? 1) - 1)),
        })),
      }));
    }
  }

  async function loop(lane: LaneId): Promise<void> {
    while (!controller.signal.aborted) {
      try {
        await pollOnce(lane);
      } catch (error) {
        if (controller.signal.aborted) return;
        options.onError?.(lane, error);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  for (const lane of Object.keys(LANES) as LaneId[]) {
    // Busier, more urgent lanes get more pollers, as they get more concurrency in AWS.
    for (let i = 0; i < pollersOf(lane); i++) loops.push(loop(lane));
  }
  return {
    stop: async () => {
      controller.abort();
      await Promise.allSettled(loops);
      client.destroy();
    },
  };
}
