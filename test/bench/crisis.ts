import { GetCommand, QueryCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import type { BenchService } from "./service.js";
import { pool, timed } from "./stats.js";
import { DEVICE_PREFIX, deviceKey, entityKey, feedCounterKey, feedEntryKey, historyKey, userPartition } from "@paysync/aws/store/keys";

const LOW_PRIORITY_TYPES = ["check_in", "history", "cached_content", "mood_entry", "user_profile"] as const;

/** `count` sequential crisis activations; client-side milliseconds for each. */
export async function crisisActivations(svc: BenchService, user: Awaited<ReturnType<BenchService["user"]>>, count: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const result = await svc.request("POST", "/v1/crisis/activate", {
      token: user.token, body: { deviceId: user.deviceIds[0], level: "high", source: "button" },
    });
    if (result.status !== 200) throw new Error(`crisis activate answered ${result.status}`);
    samples.push(result.ms);
  }
  return samples;
}

export interface FloodResult {
  ops: number;
  accepted: number;
  rejected: number;
  users: number;
  requests: number;
  seconds: number;
}

/**
 * A flood of lower-priority pushes: `users` users, `opsPerUser` ops each in pushes of
 * `batch`, `concurrency` requests in flight. Runs until done; `stop` ends it early.
 */
export async function flood(
  svc: BenchService,
  users: Awaited<ReturnType<BenchService["user"]>>[],
  opsPerUser: number,
  batch: number,
  concurrency: number,
): Promise<FloodResult> {
  const pushes: { user: (typeof users)[number]; ops: unknown[] }[] = [];
  for (const user of users) {
    for (let start = 0; start < opsPerUser; start += batch) {
      const ops = Array.from({ length: Math.min(batch, opsPerUser - start) }, (_, i) => ({
        opId: svc.unique("op"), entityType: LOW_PRIORITY_TYPES[(start + i) % LOW_PRIORITY_TYPES.length],
        entityId: `e${(start + i) % 25}`, action: "upsert", baseVersion: 0,
        payload: { note: "a line of journal text", n: start + i }, clientTime: new Date().toISOString(),
      }));
      pushes.push({ user, ops });
    }
  }
  let accepted = 0;
  let rejected = 0;
  const [, ms] = await timed(() => pool(pushes, concurrency, async ({ user, ops }) => {
    const result = await svc.request("POST", "/v1/sync/push", { token: user.token, headers: { "x-device-id": user.deviceIds[0] ?? "" }, body: { ops } });
    if (result.status === 200) {
      for (const op of result.json.results as { status: string }[]) {
        if (op.status === "queued" || op.status === "applied" || op.status === "duplicate") accepted++;
        else rejected++;
      }
    } else {
      rejected += ops.length;
    }
  }));
  return { ops: pushes.reduce((n, p) => n + p.ops.length, 0), accepted, rejected, users: users.length, requests: pushes.length, seconds: ms / 1000 };
}

/**
 * The round trips a crisis activation cannot avoid, made raw with the SDK against the same
 * emulator: one parallel read (devices, crisis state, feed counter) and one transaction of the same shape (state, history, device flag, counter, one feed entry per
 * other device). Milliseconds per repetition.
 */
export async function rawCrisisRoundTrips(svc: BenchService, devices: number, count: number): Promise<number[]> {
  const table = svc.state.resources.tables.Sync;
  const userKey = `raw-${svc.unique("u")}`;
  const pk = userPartition(userKey);
  const payload = "x".repeat(600);
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const [, ms] = await timed(async () => {
      await Promise.all([
        svc.dynamo.send(new QueryCommand({ TableName: table, KeyConditionExpression: "pk = :pk AND begins_with(sk, :p)", ExpressionAttributeValues: { ":pk": pk, ":p": DEVICE_PREFIX } })),
        svc.dynamo.send(new GetCommand({ TableName: table, Key: entityKey(userKey, "crisis_state", "current"), ConsistentRead: true })),
        svc.dynamo.send(new GetCommand({ TableName: table, Key: feedCounterKey(userKey), ConsistentRead: true })),
      ]);
      await svc.dynamo.send(new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: table, Item: { ...entityKey(userKey, "crisis_state", "current"), version: i + 1, payloadCipher: payload } } },
          { Put: { TableName: table, Item: { ...historyKey(userKey, "crisis_state", "current", i), payloadCipher: payload } } },
          { Put: { TableName: table, Item: { ...deviceKey(userKey, "d0"), crisisMode: true } } },
          { Update: { TableName: table, Key: feedCounterKey(userKey), UpdateExpression: "SET seq = :n", ExpressionAttributeValues: { ":n": i + 1 } } },
          ...Array.from({ length: devices - 1 }, (_, d) => ({
            Put: { TableName: table, Item: { ...feedEntryKey(userKey, `d${d + 1}`, i), payloadCipher: payload } },
          })),
        ],
      }));
    });
    samples.push(ms);
  }
  return samples;
}
