import { existsSync, readFileSync } from "node:fs";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient, ScanCommand } from "@aws-sdk/lib-dynamodb";
import type { Endpoints } from "@paysync/local/environment";
import { localClientConfig, type ProvisionedResources } from "@paysync/local/provision";

/**
 * The suite-wide PII check (SPEC.md §5, zero PII in metadata): after the integration run,
 * no known PII value may appear in the runtime's log output, in any DynamoDB key, in any
 * stored therapeutic or audit item, or in a queued message's group id, dedup id, attributes
 * or body. Payment link records are the one place a Stripe customer id may live.
 */
export interface Leak {
  where: string;
  value: string;
  context: string;
}

/** Patterns that are PII whatever their value: raw Stripe customer ids and email addresses. */
const PII_PATTERNS = [/\bcus_[A-Za-z0-9]{6,}/g, /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g];
/** Attributes of Payments items allowed to hold a Stripe customer id (the link records). */
const PAYMENT_LINK_FIELDS = new Set(["customerId", "stripeCustomerId"]);
const KEY_FIELDS = ["pk", "sk", "gsi1pk", "gsi1sk"];

function scan(text: string, where: string, values: readonly string[], patterns = true): Leak[] {
  const leaks: Leak[] = [];
  const around = (at: number) => text.slice(Math.max(0, at - 60), at + 80).replace(/\s+/g, " ");
  for (const value of values) {
    const at = text.indexOf(value);
    if (at >= 0) leaks.push({ where, value, context: around(at) });
  }
  if (patterns) {
    for (const pattern of PII_PATTERNS) {
      for (const match of text.matchAll(pattern)) {
        if (!leaks.some((l) => l.value === match[0])) leaks.push({ where, value: match[0], context: around(match.index) });
      }
    }
  }
  return leaks;
}

export function findLeaksInLogs(files: readonly string[], values: readonly string[]): Leak[] {
  return files.filter(existsSync).flatMap((file) => {
    const lines = readFileSync(file, "utf8").split("\n");
    return lines.flatMap((line, i) => scan(line, `${file.split("/").at(-1)}:${i + 1}`, values));
  });
}

/** `keysOnly`: look at `pk`/`sk`/`gsi1pk`/`gsi1sk` only (for values that items may hold, such as device-chosen ids). */
export async function findLeaksInTables(endpoint: string, tables: ProvisionedResources["tables"], values: readonly string[], options: { keysOnly?: boolean } = {}): Promise<Leak[]> {
  const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient(localClientConfig(endpoint)));
  const leaks: Leak[] = [];
  for (const [id, table] of Object.entries(tables)) {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await dynamo.send(new ScanCommand({ TableName: table, ExclusiveStartKey: startKey }));
      for (const item of page.Items ?? []) {
        const where = `${id} item ${String(item.pk)} / ${String(item.sk)}`;
        const keys = KEY_FIELDS.map((k) => item[k]).filter((v) => typeof v === "string").join(" ");
        leaks.push(...scan(keys, `${where} (key)`, values, !options.keysOnly));
        if (options.keysOnly) continue;
        const rest = Object.fromEntries(Object.entries(item).filter(([k]) => !KEY_FIELDS.includes(k) && !(id === "Payments" && PAYMENT_LINK_FIELDS.has(k))));
        leaks.push(...scan(JSON.stringify(rest), where, values));
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
  }
  dynamo.destroy();
  return leaks;
}

/** `metadataOnly`: group id, dedup id and attributes, not the body. */
export async function findLeaksInQueues(endpoint: string, queues: ProvisionedResources["queues"], values: readonly string[], options: { metadataOnly?: boolean } = {}): Promise<Leak[]> {
  const sqs = new SQSClient(localClientConfig(endpoint));
  const leaks: Leak[] = [];
  for (const [lane, queue] of Object.entries(queues)) {
    for (const [url, name] of [[queue.url, lane], [queue.dlqUrl, `${lane} DLQ`]] as const) {
      // Peek: visibility 0 leaves every message where it was.
      const { Messages } = await sqs.send(new ReceiveMessageCommand({
        QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 0, WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ["All"], MessageAttributeNames: ["All"],
      }));
      for (const message of Messages ?? []) {
        const metadata = JSON.stringify({ attributes: message.Attributes, messageAttributes: message.MessageAttributes });
        leaks.push(...scan(metadata, `${name} message metadata`, values, !options.metadataOnly));
        if (!options.metadataOnly) leaks.push(...scan(message.Body ?? "", `${name} message body`, values));
      }
    }
  }
  sqs.destroy();
  return leaks;
}

/** All three, for the running local service. */
export async function findPiiLeaks(input: { logFiles: string[]; endpoints: Endpoints; resources: ProvisionedResources; values: string[] }): Promise<Leak[]> {
  return [
    ...findLeaksInLogs(input.logFiles, input.values),
    ...(await findLeaksInTables(input.endpoints.dynamodb, input.resources.tables, input.values)),
    ...(await findLeaksInQueues(input.endpoints.sqs, input.resources.queues, input.values)),
  ];
}

export function describeLeaks(leaks: readonly Leak[]): string {
  const shown = leaks.slice(0, 25).map((l) => `  - ${l.where}: ${JSON.stringify(l.value)} in …${l.context}…`);
  return [`PII check failed: ${leaks.length} leak(s) of known PII values`, ...shown, ...(leaks.length > 25 ? [`  … and ${leaks.length - 25} more`] : [])].join("\n");
}
