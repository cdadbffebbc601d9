/**
 * The sync protocol's figures: how soon a premium change pushed on one device is visible on
 * another with realtime pokes versus 1 s polling, and what a bootstrap costs as the user's live
 * entities grow (and as history grows, which it must not feel).
 */
import { BatchWriteCommand } from "@aws-sdk/lib-dynamodb";
import WebSocket from "ws";
import { PayloadCipher } from "@paysync/aws/crypto/envelope";
import { entityKey, historyKey } from "@paysync/aws/store/keys";
import type { BenchService } from "./service.js";
import { pool } from "./stats.js";

type Device = Awaited<ReturnType<BenchService["user"]>>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every page of a pull from `cursor` (undefined: a bootstrap) until `hasMore` is false. */
async function pullPages(svc: BenchService, user: Device, deviceId: string, cursor: string | undefined, limit: number) {
  const changes: any[] = [];
  for (;;) {
    const query = `?limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`;
    const result = await svc.request("GET", `/v1/sync/pull${query}`, { token: user.token, headers: { "x-device-id": deviceId } });
    if (result.status === 429) return { changes, cursor, throttled: true };
    if (result.status !== 200) throw new Error(`pull answered ${result.status}: ${JSON.stringify(result.json)}`);
    changes.push(...result.json.changes);
    cursor = result.json.cursor as string;
    if (!result.json.hasMore) return { changes, cursor, throttled: false };
  }
}

/**
 * Push → visible on the other device, `samples` times, the receiver either woken by pokes on its
 * realtime socket or polling every second (premium's `minIntervalMs`), as `@paysync/client` does.
 */
export async function pushToVisible(svc: BenchService, mode: "pokes" | "polling", samples: number): Promise<number[]> {
  const user = await svc.user(`visible-${mode}`, 2, "premium");
  const [sender = "", receiver = ""] = user.deviceIds;
  let cursor = (await pullPages(svc, user, receiver, undefined, 500)).cursor;
  let pokes = 0;
  let consumed = 0;
  const wake: (() => void)[] = [];
  let socket: WebSocket | undefined;
  if (mode === "pokes") {
    const url = `${svc.baseUrl.replace(/^http/, "ws")}/v1/realtime?token=${encodeURIComponent(user.token)}&deviceId=${receiver}`;
    socket = new WebSocket(url);
    await new Promise((resolve, reject) => { socket!.once("open", resolve); socket!.once("error", reject); });
    socket.on("message", () => {
      pokes += 1;
      wake.splice(0).forEach((w) => w());
    });
  }
  const latencies: number[] = [];
  try {
    for (let i = 0; i < samples; i++) {
      const entityId = svc.unique("visible");
      const started = performance.now();
      const pushed = await svc.request("POST", "/v1/sync/push", {
        token: user.token, headers: { "x-device-id": sender },
        body: { ops: [{ opId: svc.unique("op"), entityType: "premium_content", entityId, action: "upsert", baseVersion: 0, payload: { n: i }, clientTime: new Date().toISOString() }] },
      });
      if (pushed.status !== 200) throw new Error(`push answered ${pushed.status}`);
      for (let seen = false; !seen;) {
        if (mode === "pokes") {
          // A poke that came before we waited counts; a lost one costs at most 2 s.
          if (pokes === consumed) await new Promise<void>((resolve) => { wake.push(resolve); setTimeout(resolve, 2_000); });
          consumed = pokes;
        } else {
          await sleep(1_000);
        }
        const page = await pullPages(svc, user, receiver, cursor, 100);
        cursor = page.cursor;
        seen = page.changes.some((c) => c.entityId === entityId);
      }
      latencies.push(performance.now() - started);
      // Polling devices pull on their own clock, not the sender's: start the next push at a random phase.
      if (mode === "polling") await sleep(Math.random() * 1_000);
    }
  } finally {
    socket?.terminate();
  }
  return latencies;
}

/** A user with `live` current entities (and `history` superseded versions), written as the worker leaves them. */
export async function seedEntities(svc: BenchService, live: number, history = 0) {
  const user = await svc.user(`boot-${live}-${history}`, 1, "premium");
  const cipher = new PayloadCipher({ keyArn: svc.state.resources.keyArn, kmsClient: svc.kms });
  const payloadCipher = await cipher.encrypt({ note: "an entity", words: "x".repeat(200) }, { userKey: user.userKey, entityType: "mood_entry" });
  const origin = "another-device";
  const items = [
    ...Array.from({ length: live }, (_, i) => ({
      ...entityKey(user.userKey, "mood_entry", `m-${i}`), entityType: "mood_entry", entityId: `m-${i}`, version: 1, action: "upsert",
      payloadCipher, clientTime: new Date().toISOString(), devicePriority: 0, originDeviceId: origin, priority: 6, commitSeq: 0,
    })),
    ...Array.from({ length: history }, (_, i) => ({
      ...historyKey(user.userKey, "mood_entry", `m-${i % Math.max(1, live)}`, 1_000 + i), entityType: "mood_entry", version: 1_000 + i,
      payloadCipher, originDeviceId: origin, supersededBy: "bench",
    })),
  ];
  const batches = Array.from({ length: Math.ceil(items.length / 25) }, (_, b) => items.slice(b * 25, b * 25 + 25));
  await pool(batches, 8, async (batch) => {
    let request: Record<string, any> | undefined = { [svc.state.resources.tables.Sync]: batch.map((Item) => ({ PutRequest: { Item } })) };
    while (request && Object.keys(request).length > 0) {
      const result: { UnprocessedItems?: Record<string, any> } = await svc.dynamo.send(new BatchWriteCommand({ RequestItems: request }));
      request = result.UnprocessedItems;
    }
  });
  return user;
}

/** Milliseconds of a full bootstrap (every snapshot page, limit 500) of the user's only device. */
export async function bootstrapTime(svc: BenchService, user: Device, expected: number): Promise<number> {
  const started = performance.now();
  const { changes } = await pullPages(svc, user, user.deviceIds[0] ?? "", undefined, 500);
  const ms = performance.now() - started;
  if (changes.length !== expected) throw new Error(`bootstrap carried ${changes.length} entities, not ${expected}`);
  return ms;
}
