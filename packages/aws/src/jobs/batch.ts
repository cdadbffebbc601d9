import { BatchWriteCommand } from "@aws-sdk/lib-dynamodb";
import { documentClient } from "../base/clients.js";
import { pause, UNPROCESSED } from "../base/retry.js";

/** Runs `fn` over `items`, at most `concurrency` at a time, results in order. */
export async function mapLimit<T, R>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

/** Deletes keys in batches of 25, retrying what DynamoDB leaves unprocessed. Deleting a missing item is a no-op. */
export async function batchDelete(table: string, keys: ReadonlyArray<Record<string, unknown>>): Promise<void> {
  for (let i = 0; i < keys.length; i += 25) {
    let requests = keys.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } }));
    for (let attempt = 1; requests.length > 0; attempt++) {
      const { UnprocessedItems } = await documentClient().send(new BatchWriteCommand({ RequestItems: { [table]: requests } }));
      requests = (UnprocessedItems?.[table] ?? []) as typeof requests;
      if (requests.length === 0) break;
      if (attempt >= UNPROCESSED.attempts) throw new Error(`${requests.length} deletes left unprocessed after ${attempt} attempts`);
      await pause(Math.random() * UNPROCESSED.pauseMs * attempt);
    }
  }
}
