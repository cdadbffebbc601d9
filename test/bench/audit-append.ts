/**
 * Rough audit-append numbers against a running local service (DynamoDB Local):
 *   PAYSYNC_DATA_DIR=<data dir of a running npm start> npx tsx test/bench/audit-append.ts
 * W concurrent writers (each standing for one Lambda container) appending in a loop, with
 * the shipped design (a chain per writer) and, for comparison, writers sharing chains with
 * optimistic conditional writes (one chain; 8 shards), each writer caching its own head.
 */
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { EMPTY_HEAD, sealEntry, type ChainHead } from "@paysync/core/audit/chain";
import { handlerEnvironment } from "@paysync/local/environment";
import { readRuntimeState } from "@paysync/local/runtime";
import { loadSettings } from "@paysync/local/settings";

const settings = loadSettings();
const state = readRuntimeState(settings.dataDir);
if (!state) throw new Error(`no running service in ${settings.dataDir}`);
Object.assign(process.env, handlerEnvironment(settings, state.endpoints, state.resources));
const { wiring } = await import("@paysync/aws/wiring");
const { auditChainPartition: auditPartition, auditEntrySortKey: auditSortKey } = await import("@paysync/aws/store/keys");
const appendAudit = (entry: Parameters<ReturnType<typeof wiring.audit>["append"]>[0]) => wiring.audit().append(entry);
const { documentClient } = await import("@paysync/aws/base/clients");
const table = state.resources.tables.Audit!;
const USER_KEY = `u_${"b".repeat(32)}`;
const run = Date.now().toString(36);

/** The rejected design: a shared chain, conditional put on the next seq, re-read on conflict. */
async function sharedAppend(chain: string, heads: Map<string, ChainHead>): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const sealed = sealEntry({ time: new Date().toISOString(), actor: "device", action: "bench.shared", outcome: "ok" }, { chain, head: heads.get(chain) ?? EMPTY_HEAD });
    try {
      await documentClient().send(new PutCommand({ TableName: table, Item: { pk: auditPartition(chain), sk: auditSortKey(sealed.seq), ...sealed }, ConditionExpression: "attribute_not_exists(pk)" }));
      heads.set(chain, { seq: sealed.seq, hash: sealed.hash });
      return attempt;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException) || attempt > 200) throw error;
      await new Promise((r) => setTimeout(r, Math.random() * Math.min(40, 2 ** attempt)));
      const { Items } = await documentClient().send(new QueryCommand({ TableName: table, KeyConditionExpression: "pk = :pk", ExpressionAttributeValues: { ":pk": auditPartition(chain) }, ScanIndexForward: false, Limit: 1, ConsistentRead: true }));
      heads.set(chain, Items?.[0] ? { seq: Items[0].seq as number, hash: Items[0].hash as string } : EMPTY_HEAD);
    }
  }
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!.toFixed(1);

async function measure(label: string, writers: number, perWriter: number, append: (writer: number, heads: Map<string, ChainHead>) => Promise<number>) {
  const times: number[] = [];
  let attempts = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: writers }, async (_, w) => {
    const heads = new Map<string, ChainHead>();
    for (let i = 0; i < perWriter; i++) {
      const t = performance.now();
      const tries = await append(w, heads);
      attempts += tries;
      times.push(performance.now() - t);
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  times.sort((a, b) => a - b);
  console.log(`| ${label} | ${writers} | ${(times.length / seconds).toFixed(0)} | ${pct(times, 50)} | ${pct(times, 99)} | ${(attempts / times.length).toFixed(2)} |`);
}

const own = async () => { await appendAudit({ actor: "device", action: "bench.own", userKey: USER_KEY, outcome: "ok", latencyMs: 1 }); return 1; };
console.log("| design | writers | appends/s | p50 ms | p99 ms | attempts/append |\n|---|---|---|---|---|---|");
for (const writers of [1, 8, 16]) {
  await measure("chain per writer (shipped)", writers, 40, own);
  await measure("one shared chain", writers, 40, (_w, heads) => sharedAppend(`bench-${run}-one-${writers}`, heads));
  // Many users hash to random shards; each writer keeps the head it last saw per shard.
  await measure("8 shared chains (by user)", writers, 40, (_w, heads) => sharedAppend(`bench-${run}-shard-${writers}-${Math.floor(Math.random() * 8)}`, heads));
}
