import { BatchGetCommand, QueryCommand, type BatchGetCommandOutput } from "@aws-sdk/lib-dynamodb";
import { fansOut, type LedgerOp, type SoakUser } from "./devices.js";
import type { SoakService } from "./service.js";
import type { StripeStream } from "./stripe.js";
import { CONFLICT_PREFIX, entityKey, opRecordKey, PENDING_PREFIX, pendingCountKey, stripeEventKey, userPartition } from "@paysync/aws/store/keys";

/**
 * The final exactly-once audit. Every op of the soak has an entity of its own (fresh id,
 * base version 0), so in each feed it is one change, found by entity id:
 * - an accepted op is in each of the user's other devices' feeds exactly once when it fans
 *   out (crisis class, or a tier with cross-device sync), in none when it does not, and never
 *   in its origin's feed; it has its op record, its entity is at version 1 and no conflict
 *   exists (a second apply of a base-version-0 op would conflict or bump the version);
 * - an op refused by a limit is nowhere; one never answered is all-or-nothing;
 * - no feed holds a change twice, or a change of an entity no device pushed;
 * - every offline-queue slot is released once the lanes have drained;
 * - a Stripe user's entitlements are the last event's, and every event id is recorded once.
 */
export interface Change {
  seq: number;
  entityType: string;
  entityId: string;
  version: number;
  originDeviceId: string | null;
  payload: any;
}

/** Entities the server writes on its own: not ops of the ledger. */
const SERVER_MADE = new Set(["crisis_state", "payment_state", "feature_flags", "sync_policy"]);

export async function partition(svc: SoakService, table: string, pk: string): Promise<Record<string, any>[]> {
  const items: Record<string, any>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await svc.dynamo.send(new QueryCommand({
      TableName: table, KeyConditionExpression: "pk = :pk", ExpressionAttributeValues: { ":pk": pk }, ConsistentRead: true, ExclusiveStartKey: start,
    }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

/** A device's whole feed as the device sees it: pulled page by page from the start. */
export async function pullAll(svc: SoakService, user: SoakUser, deviceId: string): Promise<Change[]> {
  const changes: Change[] = [];
  let cursor: string | undefined;
  for (let failures = 0; ;) {
    const answer = await svc.request("GET", `/v1/sync/pull?limit=500${cursor ? `&cursor=${cursor}` : ""}`, { token: user.token, headers: { "x-device-id": deviceId } });
    if (answer.status !== 200) {
      if (++failures > 10) throw new Error(`pull of ${deviceId} answered ${answer.status} ten times`);
      await new Promise((r) => setTimeout(r, 500));
      continue;
    }
    changes.push(...(answer.json.changes as Change[]));
    cursor = answer.json.cursor as string;
    if (!answer.json.hasMore) return changes;
  }
}

/** Op records (`OP#<opId>`) present for these ops. */
export async function opRecords(svc: SoakService, ops: LedgerOp[]): Promise<Set<string>> {
  const table = svc.state.resources.tables.Sync;
  const found = new Set<string>();
  for (let i = 0; i < ops.length; i += 100) {
    let keys: Record<string, unknown>[] | undefined = ops.slice(i, i + 100).map((op): Record<string, unknown> => ({ ...opRecordKey(op.user.userKey, op.opId) }));
    while (keys && keys.length > 0) {
      const result: BatchGetCommandOutput = await svc.dynamo.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: keys, ConsistentRead: true, ProjectionExpression: "sk" } } }));
      for (const item of result.Responses?.[table] ?? []) found.add(String(item.sk).slice(3));
      keys = result.UnprocessedKeys?.[table]?.Keys;
    }
  }
  return found;
}

export interface AuditTotals {
  feedsAudited: number;
  changesAudited: number;
  violations: string[];
}

/** One user's feeds and raw items against the ledger. */
export async function auditUser(svc: SoakService, user: SoakUser, ops: LedgerOp[], totals: AuditTotals): Promise<void> {
  const fail = (message: string) => totals.violations.push(`${user.userId}: ${message}`);
  const feeds = new Map<string, Change[]>();
  for (const deviceId of user.deviceIds) {
    const feed = await pullAll(svc, user, deviceId);
    feeds.set(deviceId, feed);
    totals.feedsAudited += 1;
    totals.changesAudited += feed.length;
    const seen = new Set<string>();
    for (const change of feed) {
      const key = `${change.entityType}#${change.entityId}#${change.version}`;
      if (seen.has(key)) fail(`${deviceId} got ${key} twice`);
      seen.add(key);
      if (change.originDeviceId === deviceId) fail(`${deviceId} got its own change ${key} back`);
    }
  }
  const byEntity = new Map(ops.map((op) => [op.entityId, op]));
  for (const [deviceId, feed] of feeds) {
    for (const change of feed) {
      if (!SERVER_MADE.has(change.entityType) && !byEntity.has(change.entityId)) fail(`${deviceId} got ${change.entityType}#${change.entityId}, which no device pushed`);
    }
  }
  for (const op of ops) {
    const counts = user.deviceIds.map((deviceId) => (feeds.get(deviceId) ?? []).filter((c) => c.entityId === op.entityId && c.entityType === op.entityType).length);
    const others = user.deviceIds.map((d, i) => [d, counts[i]!] as const).filter(([d]) => d !== op.deviceId);
    const own = counts[user.deviceIds.indexOf(op.deviceId)] ?? 0;
    if (own !== 0) fail(`op ${op.opId} is in its origin's feed ${own} time(s)`);
    const expected = op.fate === "accepted" && fansOut(op) ? 1 : 0;
    for (const [deviceId, count] of others) {
      if (op.fate === "uncertain") {
        if (count > 1 || count !== others[0]![1] || (!fansOut(op) && count > 0)) fail(`unanswered op ${op.opId} is in ${deviceId}'s feed ${count} time(s), not all-or-nothing`);
      } else if (count !== expected) {
        fail(`${op.fate} op ${op.opId} (${op.entityType}, fan-out ${fansOut(op)}) is in ${deviceId}'s feed ${count} time(s), expected ${expected}`);
      }
    }
  }
  const items = await partition(svc, svc.state.resources.tables.Sync, userPartition(user.userKey));
  const bySk = new Map(items.map((item) => [item.sk as string, item]));
  for (const op of ops) {
    const record = bySk.get(opRecordKey(op.user.userKey, op.opId).sk);
    const entity = bySk.get(entityKey(op.user.userKey, op.entityType, op.entityId).sk);
    if (op.fate === "accepted" && !record) fail(`accepted op ${op.opId} has no op record (never applied)`);
    if (op.fate === "rejected" && (record || entity)) fail(`refused op ${op.opId} was applied`);
    if (entity && entity.version !== 1) fail(`entity of op ${op.opId} is at version ${entity.version}, not 1 (applied twice?)`);
  }
  for (const item of items) {
    const sk = item.sk as string;
    if (sk.startsWith(CONFLICT_PREFIX)) fail(`conflict ${sk}: an op applied twice`);
    if (sk.startsWith(PENDING_PREFIX)) fail(`offline-queue slot ${sk} never released`);
    if (sk === pendingCountKey(user.userKey).sk && item.pending !== 0) fail(`pending counter is ${item.pending} after the drain`);
  }
}

/** A Stripe user: entitlements of the last event, the last payment_state change on every device, every event recorded. */
export async function auditStripe(svc: SoakService, stream: StripeStream, totals: AuditTotals): Promise<void> {
  const { user, expected } = stream;
  const fail = (message: string) => totals.violations.push(`${user.userId} (Stripe): ${message}`);
  const answer = await svc.request("GET", "/v1/me/entitlements", { token: user.token });
  if (answer.json?.tier !== expected.tier || answer.json?.status !== expected.status) {
    fail(`entitlements ${answer.json?.tier}/${answer.json?.status}, expected ${expected.tier}/${expected.status}`);
  }
  for (const deviceId of user.deviceIds) {
    const states = (await pullAll(svc, user, deviceId)).filter((c) => c.entityType === "payment_state");
    const last = states.at(-1)?.payload as { tier?: string } | undefined;
    if (last?.tier !== expected.tier) fail(`${deviceId}'s last payment_state says ${last?.tier}, expected ${expected.tier}`);
  }
  const table = svc.state.resources.tables.Payments;
  const ids = [...new Set(stream.events.map((e) => e.id))];
  const result = await svc.dynamo.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: ids.map((id) => stripeEventKey(id)), ConsistentRead: true } } }));
  const recorded = new Set((result.Responses?.[table] ?? []).map((item) => item.eventId as string));
  for (const id of ids) if (!recorded.has(id)) fail(`event ${id} has no record`);
}
