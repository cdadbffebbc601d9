import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
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

export interface Answer {
  /** 0 when the request never got an answer (refused, reset, timed out). */
  status: number;
  json: any;
  retryAfterSeconds: number | undefined;
}

/** Longest wait for one answer: a request caught by an emulator restart is retried, not waited on. */
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * A fresh local service for one soak run (its own data dir and log), with raw clients on its
 * emulators and the pids of the emulators to kill.
 */
export async function startSoakService() {
  const dataDir = mkdtempSync(join(tmpdir(), "paysync-soak-"));
  const logFile = join(TEST_OUTPUT_DIR, "soak-runtime.log");
  rmSync(logFile, { force: true });
  const { child, baseUrl } = await startRuntimeProcess(dataDir, logFile);
  const readState = () => JSON.parse(readFileSync(join(dataDir, "runtime.json"), "utf8")) as RuntimeState;
  const state = readState();
  const secrets = JSON.parse(readFileSync(join(dataDir, "secrets.json"), "utf8")) as LocalSecrets;
  // More SDK retries than the default: the audit's own reads must ride out nothing, but setup may.
  const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({ ...localClientConfig(state.endpoints.dynamodb), maxAttempts: 6 }));
  const sqs = new SQSClient({ ...localClientConfig(state.endpoints.sqs), maxAttempts: 6 });

  async function request(method: string, path: string, options: { token?: string; body?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.body !== undefined) headers["content-type"] ??= "application/json";
    try {
      const response = await fetch(`${baseUrl}${path}`, { method, headers, body: options.body, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      const text = await response.text();
      let json: unknown;
      try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
      const retryAfter = response.headers.get("retry-after");
      return { status: response.status, json, retryAfterSeconds: retryAfter === null ? undefined : Number(retryAfter) };
    } catch {
      return { status: 0, json: undefined, retryAfterSeconds: undefined };
    }
  }

  return {
    baseUrl, dataDir, state, secrets, dynamo, sqs, request,
    /** The emulator's current pid: the runtime restarts a killed one and rewrites runtime.json within a second. */
    emulatorPid: (name: "dynamodb" | "sqs") => readState().emulatorPids[name],
    userKeyOf: (userId: string) => pseudonymousKey(secrets.pseudonymSecret, userId, "u"),
    token: (userId: string) => signDevToken(secrets.jwtSecret, userId),
    /** Payment state written directly, as the payments worker would leave it. */
    async setTier(userKey: string, tier: Tier) {
      await dynamo.send(new PutCommand({
        TableName: state.resources.tables.Payments,
        Item: { ...paymentStateKey(userKey), tier, status: tier === "free" ? "none" : "active" },
      }));
    },
    async stop() {
      await stopRuntimeProcess(child);
      dynamo.destroy();
      sqs.destroy();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export type SoakService = Awaited<ReturnType<typeof startSoakService>>;
