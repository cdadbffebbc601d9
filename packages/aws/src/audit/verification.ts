/**
 * Audit-trail verification for the scheduled job (SPEC.md §6), cheap enough to run daily
 * over the whole history: a day that is over and verified is *sealed* (each chain's head,
 * plus a digest of them all); later runs check a sealed day against its seal — the head
 * entries still carry the sealed hashes, nothing was appended, no chain came or went —
 * instead of re-reading it. `full: true` re-verifies every entry of every day.
 * Idempotent and safe to run concurrently: a seal is written once, conditionally.
 *
 * @example
 * const result = await verifyAuditTrail(audit, { now: new Date() });
 * if (!result.intact) logger.error("audit chain broken", { broken: result.broken });
 * // or a day per job page: for (const day of await audit.days()) await verifyAuditDay(audit, day, result);
 */
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { GetCommand, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { sealDigest, verifyChain, type AuditEntry, type ChainHead } from "@paysync/core/audit/chain";
import { emptyCheck, tally, type BrokenChain, type ChainCheck } from "@paysync/core/audit/report";
import { documentClient } from "../base/clients.js";
import { config } from "../base/config.js";
import { logger } from "../base/observability.js";
import type { AuditLog } from "../store/audit-log.js";
import { auditSealHeadKey, auditSealHeadsPartition, auditSealKey } from "../store/keys.js";

/** A day is sealed only this long after it ended: no append of that day can still be in flight. */
const SEAL_AFTER_MS = 60 * 60_000;

export interface TrailVerification extends ChainCheck {
  intact: boolean;
  sealedNow: string[];
}

export async function verifyAuditTrail(audit: AuditLog, options: { now?: Date; full?: boolean } = {}): Promise<TrailVerification> {
  const result: TrailVerification = { ...emptyCheck(await audit.days()), intact: true, sealedNow: [] };
  for (const day of result.days) await verifyAuditDay(audit, day, result, options);
  result.intact = result.broken.length === 0;
  return result;
}

/** One day, added to `result`: a page of work for a job that checkpoints between days. */
export async function verifyAuditDay(audit: AuditLog, day: string, result: TrailVerification, options: { now?: Date; full?: boolean } = {}): Promise<void> {
  const seal = options.full ? undefined : await readSeal(day);
  if (seal !== undefined) {
    await checkSeal(audit, day, seal, result);
  } else {
    const heads: Array<{ chain: string } & ChainHead> = [];
    const before = result.broken.length;
    for (const chain of await audit.chainsOn(day)) {
      const entries: AuditEntry[] = [];
      for await (const entry of audit.chain(chain)) entries.push(entry);
      const verdict = verifyChain(chain, entries);
      tally(result, verdict);
      if (verdict.ok) heads.push({ chain, ...verdict.head });
    }
    const over = Date.parse(`${day}T00:00:00.000Z`) + 86_400_000 + SEAL_AFTER_MS <= (options.now ?? new Date()).getTime();
    if (over && result.broken.length === before && (await writeSeal(day, heads, options.now ?? new Date()))) result.sealedNow.push(day);
  }
  result.intact = result.broken.length === 0;
}

interface Seal {
  digest: string;
  heads: Record<string, ChainHead>;
}

async function checkSeal(audit: AuditLog, day: string, seal: Seal, result: TrailVerification): Promise<void> {
  const chains = await audit.chainsOn(day);
  const broken = (b: BrokenChain) => result.broken.push(b);
  for (const chain of new Set([...chains, ...Object.keys(seal.heads)])) {
    const head = seal.heads[chain];
    result.chains += 1;
    if (head === undefined || !chains.includes(chain)) {
      broken({ chain, brokenAt: head?.seq ?? 1, reason: "seal_mismatch", checked: 0 });
      continue;
    }
    const [atHead, after] = await Promise.all([audit.readEntry(chain, head.seq), audit.readEntry(chain, head.seq + 1)]);
    if (atHead?.hash !== head.hash) broken({ chain, brokenAt: head.seq, reason: "seal_mismatch", checked: 0 });
    else if (after !== undefined) broken({ chain, brokenAt: head.seq + 1, reason: "seal_mismatch", checked: 0 });
    else result.entries += head.seq;
  }
  const heads = Object.entries(seal.heads).map(([chain, head]) => ({ chain, ...head }));
  if (sealDigest(day, heads) !== seal.digest) broken({ chain: `${day}.*`, brokenAt: 0, reason: "seal_mismatch", checked: 0 });
}

async function readSeal(day: string): Promise<Seal | undefined> {
  const { Item } = await documentClient().send(new GetCommand({ TableName: config.table("Audit"), Key: auditSealKey(day), ConsistentRead: true }));
  if (Item === undefined) return undefined;
  const heads: Record<string, ChainHead> = {};
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await documentClient().send(new QueryCommand({
      TableName: config.table("Audit"), KeyConditionExpression: "pk = :pk", ExpressionAttributeValues: { ":pk": auditSealHeadsPartition(day) },
      ConsistentRead: true, ExclusiveStartKey: startKey,
    }));
    for (const item of page.Items ?? []) heads[item.sk as string] = { seq: item.seq as number, hash: item.hash as string };
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
  return { digest: Item.digest as string, heads };
}

/** Chain heads first, the day's digest last: a seal without its digest is not a seal. */
async function writeSeal(day: string, heads: Array<{ chain: string } & ChainHead>, now: Date): Promise<boolean> {
  const table = config.table("Audit");
  for (const head of heads) {
    await documentClient().send(new PutCommand({ TableName: table, Item: { ...auditSealHeadKey(day, head.chain), seq: head.seq, hash: head.hash } }));
  }
  const digest = sealDigest(day, heads);
  try {
    await documentClient().send(new PutCommand({
      TableName: table,
      Item: { ...auditSealKey(day), digest, chains: heads.length, sealedAt: now.toISOString() },
      ConditionExpression: "attribute_not_exists(pk)",
    }));
    // A witness outside the table: whoever could rewrite a day and its seal cannot rewrite the log.
    logger.info("audit day sealed", { auditDay: day, auditDigest: digest, chains: heads.length });
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}
