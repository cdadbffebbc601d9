/**
 * The `Audit` queue (SQS FIFO): where an audit entry waits while the Audit table is down
 * (SQS is a separate service, and stays up when DynamoDB does not), until the drain worker
 * (`functions/workers/audit-drain.ts`) appends it. One message group per chain, so a chain's
 * kept entries are appended in the order they happened; the kept entry's random id is the
 * deduplication id, so an SDK retry of the send never keeps it twice. Body and metadata hold
 * codes, pseudonymous keys and counts only (the audit record's schema allows nothing else).
 *
 * @example
 * await new AuditQueue(() => config.queue("Audit")).keep(keepEntry(record, time), chain);
 */
import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { KeptEntry } from "@paysync/core/audit/kept";
import type { AuditKeeper } from "@paysync/core/ports";
import { sqsClient } from "../base/clients.js";

export class AuditQueue implements AuditKeeper {
  constructor(private readonly queueUrl: () => string, private readonly client: () => SQSClient = sqsClient) {}

  async keep(entry: KeptEntry, chain: string): Promise<void> {
    await this.client().send(new SendMessageCommand({
      QueueUrl: this.queueUrl(),
      MessageBody: JSON.stringify(entry),
      MessageGroupId: chain,
      MessageDeduplicationId: entry.id,
    }));
  }
}
