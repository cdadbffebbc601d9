import { BatchWriteCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { encodeCursor } from "@paysync/core/sync/cursor";
import { PayloadCipher } from "@paysync/aws/crypto/envelope";
import type { BenchService } from "./service.js";
import { pool } from "./stats.js";
import { exemptMarkKey, feedEntryKey } from "@paysync/aws/store/keys";

/**
 * A device whose feed holds `entries` changes, written straight into its feed partition
 * (as the worker would have left them; the payloads are real ciphertexts of the key). The last
 * one is urgent (priority 7, with the feed's mark), so the repeated pulls the figure needs are
 * not held back by the pull interval.
 */
export async function seedFeed(svc: BenchService, entries: number) {
  const user = await svc.user("pull", 2, "premium");
  const deviceId = user.deviceIds[1] ?? "";
  const cipher = new PayloadCipher({ keyArn: svc.state.resources.keyArn, kmsClient: svc.kms });
  const payloadCipher = await cipher.encrypt({ note: "seeded change", words: "x".repeat(200) }, { userKey: user.userKey, entityType: "check_in" });
  const createdAt = new Date().toISOString();
  const batches = Array.from({ length: Math.ceil(entries / 25) }, (_, b) => b);
  await pool(batches, 8, async (b) => {
    const items = Array.from({ length: Math.min(25, entries - b * 25) }, (_, i) => {
      const seq = b * 25 + i + 1;
      return {
        PutRequest: {
          Item: {
            ...feedEntryKey(user.userKey, deviceId, seq), seq, entityType: "check_in",
            entityId: `e${seq % 500}`, version: 1 + Math.floor(seq / 500), action: "upsert", payloadCipher, priority: seq === entries ? 7 : 4,
            originDeviceId: user.deviceIds[0], createdAt, expiresAt: Math.floor(Date.now() / 1000) + 86_400,
          },
        },
      };
    });
    let request: Record<string, any> | undefined = { [svc.state.resources.tables.Sync]: items };
    while (request && Object.keys(request).length > 0) {
      const result: { UnprocessedItems?: Record<string, any> } = await svc.dynamo.send(new BatchWriteCommand({ RequestItems: request }));
      request = result.UnprocessedItems;
    }
  });
  await svc.dynamo.send(new PutCommand({ TableName: svc.state.resources.tables.Sync, Item: { ...exemptMarkKey(user.userKey, deviceId), lastUrgentSeq: entries } }));
  return { ...user, deviceId };
}

/** Milliseconds of `count` pulls of one page (`limit`) starting at `afterSeq`. */
export async function pullLatencies(svc: BenchService, device: Awaited<ReturnType<typeof seedFeed>>, afterSeq: number, limit: number, count: number) {
  const samples: number[] = [];
  const query = `?limit=${limit}${afterSeq > 0 ? `&cursor=${encodeCursor(afterSeq)}` : ""}`;
  for (let i = 0; i < count; i++) {
    const result = await svc.request("GET", `/v1/sync/pull${query}`, { token: device.token, headers: { "x-device-id": device.deviceId } });
    if (result.status !== 200) throw new Error(`pull answered ${result.status}: ${JSON.stringify(result.json)}`);
    if ((result.json.changes as unknown[]).length !== limit) throw new Error(`pull returned ${result.json.changes.length} changes, not ${limit}`);
    samples.push(result.ms);
  }
  return samples;
}
