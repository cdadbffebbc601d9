import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { KMSClient } from "@aws-sdk/client-kms";
import { SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import { pseudonymousKey } from "@paysync/core/pii";
import type { Tier } from "@paysync/core/tiers";
import { signDevToken } from "@paysync/local/jwt";
import { localClientConfig } from "@paysync/local/provision";
import type { RuntimeState } from "@paysync/local/runtime";
import type { LocalSecrets } from "@paysync/local/settings";
import { startRuntimeProcess, stopRuntimeProcess, TEST_OUTPUT_DIR } from "../helpers/global-setup.js";
import { paymentStateKey } from "@paysync/aws/store/keys";

export interface HttpResult {
  status: number;
  ms: number;
  json: any;
}

/**
 * The environment the bench was launched with: the run later takes on the first service's handler
 * environment (its emulators and secrets), which a service started after it must not inherit.
 */
const LAUNCH_ENV = { ...process.env };

/** A fresh local service for one benchmark run, with clients on its emulators. */
export async function startBenchService() {
  const dataDir = mkdtempSync(join(tmpdir(), "paysync-bench-"));
  const runEnv = process.env;
  process.env = { ...LAUNCH_ENV };
  // The child's environment is taken when it is spawned, before the first await.
  const starting = startRuntimeProcess(dataDir, join(TEST_OUTPUT_DIR, "bench-runtime.log"));
  process.env = runEnv;
  const { child, baseUrl } = await starting;
  const state = JSON.parse(readFileSync(join(dataDir, "runtime.json"), "utf8")) as RuntimeState;
  const secrets = JSON.parse(readFileSync(join(dataDir, "secrets.json"), "utf8")) as LocalSecrets;
  const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({ ...localClientConfig(state.endpoints.dynamodb), maxAttempts: 3 }), {
    marshallOptions: { removeUndefinedValues: true },
  });
  const sqs = new SQSClient(localClientConfig(state.endpoints.sqs));
  const kms = new KMSClient(localClientConfig(state.endpoints.kms));
  let counter = 0;

  async function request(method: string, path: string, options: { token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<HttpResult> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.body !== undefined) headers["content-type"] = "application/json";
    const started = performance.now();
    const response = await fetch(`${baseUrl}${path}`, {
      method, headers, ...(options.body !== undefined ? { body: typeof options.body === "string" ? options.body : JSON.stringify(options.body) } : {}),
    });
    const text = await response.text();
    const ms = performance.now() - started;
    let json: unknown;
    try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
    return { status: response.status, ms, json };
  }

  return {
    baseUrl, state, secrets, dynamo, sqs, kms, request,
    unique: (label: string) => `${label}-${Date.now().toString(36)}-${(++counter).toString(36)}`,
    userKeyOf: (userId: string) => pseudonymousKey(secrets.pseudonymSecret, userId, "u"),
    token: (userId: string) => signDevToken(secrets.jwtSecret, userId),
    async setTier(userId: string, tier: Tier) {
      await dynamo.send(new PutCommand({
        TableName: state.resources.tables.Payments,
        Item: { ...paymentStateKey(pseudonymousKey(secrets.pseudonymSecret, userId, "u")), tier, status: tier === "free" ? "none" : "active" },
      }));
    },
    async user(label: string, devices: number, tier?: Tier) {
      const userId = `bench-${label}-${Date.now().toString(36)}-${(++counter).toString(36)}`;
      const token = await signDevToken(secrets.jwtSecret, userId);
      const deviceIds: string[] = [];
      for (let i = 0; i < devices; i++) {
        const deviceId = `${userId}-d${i}`;
        const result = await request("POST", "/v1/devices", { token, body: { deviceId, platform: "ios" } });
        if (result.status !== 201) throw new Error(`device registration answered ${result.status}`);
        deviceIds.push(deviceId);
      }
      if (tier) await this.setTier(userId, tier);
      return { userId, token, deviceIds, userKey: pseudonymousKey(secrets.pseudonymSecret, userId, "u") };
    },
    async stop() {
      await stopRuntimeProcess(child);
      dynamo.destroy(); sqs.destroy(); kms.destroy();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export type BenchService = Awaited<ReturnType<typeof startBenchService>>;
