import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { KMSClient } from "@aws-sdk/client-kms";
import { SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient, ScanCommand, type ScanCommandInput } from "@aws-sdk/lib-dynamodb";
import { inject } from "vitest";
import { PayloadCipher } from "@paysync/aws/crypto/envelope";
import { handlerEnvironment, realtimeEnvironment } from "@paysync/local/environment";
import { signDevToken } from "@paysync/local/jwt";
import { localClientConfig } from "@paysync/local/provision";
import { recordPii } from "./pii-fixtures.js";

/**
 * The running local service, as the test files see it: its base URL, dev tokens, and
 * real SDK clients on its emulators for looking at raw state.
 */
export function useRuntime() {
  const runtime = inject("runtime");
  const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient(localClientConfig(runtime.endpoints.dynamodb)));
  const sqs = new SQSClient(localClientConfig(runtime.endpoints.sqs));
  const kms = new KMSClient(localClientConfig(runtime.endpoints.kms));
  return {
    ...runtime,
    dynamo,
    sqs,
    kms,
    cipher: () => new PayloadCipher({ keyArn: runtime.resources.keyArn, kmsClient: kms }),
    /** A dev token for `userId`; the raw id is recorded for the suite-wide PII check. */
    token: (userId: string) => {
      recordPii(userId);
      return signDevToken(runtime.secrets.jwtSecret, userId);
    },
    /** The environment a handler needs to run in this test process against the same emulators. */
    handlerEnv: () => ({
      ...handlerEnvironment(
        { port: 0, dataDir: runtime.dataDir, priceTiers: {}, secrets: runtime.secrets },
        runtime.endpoints,
        runtime.resources,
      ),
      ...realtimeEnvironment(runtime.baseUrl),
    }),
    async request(method: string, path: string, options: { token?: string; body?: unknown; headers?: Record<string, string> } = {}) {
      const headers: Record<string, string> = { ...options.headers };
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      if (options.body !== undefined) headers["content-type"] = "application/json";
      const response = await fetch(`${runtime.baseUrl}${path}`, {
        method,
        headers,
        ...(options.body !== undefined ? { body: typeof options.body === "string" ? options.body : JSON.stringify(options.body) } : {}),
      });
      const text = await response.text();
      let json: unknown;
      try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
      return { status: response.status, headers: response.headers, text, json: json as any };
    },
  };
}

/** Polls until `probe` returns a value (not undefined) or the timeout passes. */
export async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 20_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * Every item a Scan matches, across all pages: a filter applies to each 1 MB page after the
 * read, so one page of a table the whole suite has filled can miss a test's own items.
 */
export async function scanAll(dynamo: DynamoDBDocumentClient, input: ScanCommandInput): Promise<Array<Record<string, any>>> {
  const items: Array<Record<string, any>> = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await dynamo.send(new ScanCommand({ ...input, ExclusiveStartKey: startKey }));
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}

