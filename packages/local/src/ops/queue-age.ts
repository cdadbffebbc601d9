import type { QueueAgeSource } from "@paysync/aws/ops/summary";

interface InspectedMessage {
  sentTimestamp?: number;
}

interface InspectedQueue {
  messages?: {
    ready?: InspectedMessage[];
    delayed?: InspectedMessage[];
    inflight?: Array<{ message?: InspectedMessage }>;
  };
}

/**
 * `ApproximateAgeOfOldestMessage` locally: SQS's API has no such attribute (in AWS it is a
 * CloudWatch metric), so the age is read from the emulator's non-destructive inspection endpoint
 * (fauxqs `GET /_fauxqs/queues/<name>`), which sees every message without receiving it.
 */
export function fauxqsQueueAge(sqsEndpoint: string): QueueAgeSource {
  return {
    async oldestAgeSeconds(queueUrl: string): Promise<number | null> {
      const name = new URL(queueUrl).pathname.split("/").pop() ?? "";
      const response = await fetch(`${sqsEndpoint}/_fauxqs/queues/${encodeURIComponent(name)}`, { signal: AbortSignal.timeout(2_000) });
      if (!response.ok) return null;
      const { messages = {} } = (await response.json()) as InspectedQueue;
      const sent = [
        ...(messages.ready ?? []),
        ...(messages.delayed ?? []),
        ...(messages.inflight ?? []).map((entry) => entry.message ?? {}),
      ].map((message) => message.sentTimestamp).filter((time): time is number => typeof time === "number");
      if (sent.length === 0) return null;
      return Math.max(0, Math.round((Date.now() - Math.min(...sent)) / 1000));
    },
  };
}
