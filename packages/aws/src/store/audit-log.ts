/**
 * The audit trail in DynamoDB (SPEC.md §5): append-only, hash-chained, no PII.
 *
 * Writer-owned daily chains. Each container appends to a chain of its own for the current
 * UTC day (`<day>.<random id>`), so writers never contend: an append is one conditional
 * PutItem (`attribute_not_exists`, so nothing is overwritten) with the head kept in memory.
 * Chains shared by several writers (one, or N shards by user key) were measured and dropped:
 * every loser of the conditional write re-reads and retries, 2–5 attempts per append and
 * p99s of seconds once 8–16 containers wrote at once (docs/SECURITY.md). A process serving
 * several requests at once (the local runtime) opens one chain per concurrent append.
 *
 * Layout (Audit table):
 *   AUDIT_DAYS      / <day>            a day that has chains
 *   AUDIT_DAY#<day> / <chain>          a chain of that day (written before its first entry)
 *   AUDIT#<chain>   / E#<seq, 12 dig>  the entries
 *
 * A write that fails is never lost silently. When the table is unavailable (a dependency
 * fault: down, throttled, timed out) and a keeper is wired, the entry is kept — sent to the
 * `Audit` queue, one message group per chain, deduplicated by its id — and the caller goes on;
 * the drain (`appendKept`) appends it later, marked late (`@paysync/core/audit/kept`), exactly
 * once: the entry and an "appended" mark of its id are one transaction. Otherwise, or when the
 * keeper fails too (the one remaining gap), the entry (codes and a pseudonymous key only) goes
 * to the error log as `auditEntryNotWritten`, `AuditAppendFailed` counts it, and the error is
 * thrown to the caller.
 *
 * @example
 * await new AuditLog(config.table("Audit")).append({ actor: "device", action: "crisis.activate", userKey, outcome: "ok", latencyMs: 41.2 });
 */
import { randomBytes } from "node:crypto";
import { ConditionalCheckFailedException, TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { auditRecordSchema, EMPTY_HEAD, sealEntry, type AuditEntry, type AuditRecord, type ChainHead } from "@paysync/core/audit/chain";
import { keepEntry, keptEntrySchema, lateFields } from "@paysync/core/audit/kept";
import type { AuditKeeper, AuditSink } from "@paysync/core/ports";
import { documentClient } from "../base/clients.js";
import { isDependencyFault } from "../base/http.js";
import { errorName, logger, metrics } from "../base/observability.js";
import {
  AUDIT_DAYS_PARTITION, AUDIT_ENTRY_PREFIX, auditChainPartition, auditDayChainKey, auditDayKey, auditDayPartition, auditEntryKey, auditEntrySortKey, auditKeptKey,
} from "./keys.js";

export type { AuditEntry, AuditRecord } from "@paysync/core/audit/chain";

const MAX_ATTEMPTS = 5;
/** The UTC day (`YYYY-MM-DD`) of an ISO time, and of the chains its entries go to. */
export const auditDay = (time: string): string => time.slice(0, 10);

export interface AuditLogOptions {
  /** Where an entry waits while the table is unavailable (the `Audit` queue); none: it is only logged. */
  keeper?: AuditKeeper;
  /** The table's client; tests pass one on a dead endpoint to take storage down for appends. */
  client?: () => DynamoDBDocumentClient;
}

/** What became of a kept entry: appended now, or found already in a chain (a redelivery, or a write that had landed). */
export type KeptOutcome = "appended" | "duplicate" | "written_before";

type Sealable = Parameters<typeof sealEntry>[0];

/** The seq of this writer's chain was taken (by a lost answer of ours, or an edit). */
class SeqTaken extends Error {}
/** The kept entry's "appended" mark exists: it is in a chain already. */
class AlreadyAppended extends Error {}

interface WriterChain {
  chain: string;
  day: string;
  head: ChainHead;
  busy: boolean;
}

/**
 * The audit trail's table: appends (the `AuditSink` every service records to) and the reads
 * of verification, reports and the dashboard.
 */
export class AuditLog implements AuditSink {
  /** This container's chains: one in Lambda (one request at a time), more in a shared process. */
  private readonly writers: WriterChain[] = [];

  constructor(private readonly table: string, private readonly options: AuditLogOptions = {}) {}

  private db(): DynamoDBDocumentClient {
    return (this.options.client ?? documentClient)();
  }

  async append(entry: AuditRecord): Promise<void> {
    const record = auditRecordSchema.parse(entry);
    const time = new Date().toISOString();
    const writer = this.takeWriter(auditDay(time));
    const tried: { last?: AuditEntry } = {};
    try {
      await this.appendTo(writer, { ...record, time }, tried);
    } catch (error) {
      if (isDependencyFault(error) && (await this.keep(record, time, writer.chain, tried.last, error))) return;
      logger.error("audit entry not written", {
        auditEntryNotWritten: { ...record, time, chain: writer.chain },
        errorName: errorName(error),
      });
      try {
        // Published at once: the invocation may be failing, and this count is what pages someone.
        metrics.singleMetric().addMetric("AuditAppendFailed", MetricUnit.Count, 1);
      } catch {
        // The error log above is the record of last resort.
      }
      throw error;
    } finally {
      writer.busy = false;
    }
  }

  /** Sends the entry to the keeper; false when there is none or it failed too. */
  private async keep(record: AuditRecord, time: string, chain: string, attempted: AuditEntry | undefined, cause: unknown): Promise<boolean> {
    if (this.options.keeper === undefined) return false;
    const kept = keepEntry(record, time, attempted);
    try {
      await this.options.keeper.keep(kept, chain);
    } catch (error) {
      logger.error("audit entry not kept", { action: record.action, errorName: errorName(error) });
      return false;
    }
    logger.warn("audit entry kept for a late append", { auditEntryKept: { action: record.action, chain, keptId: kept.id }, errorName: errorName(cause) });
    try {
      metrics.singleMetric().addMetric("AuditEntryKept", MetricUnit.Count, 1);
    } catch {
      // The warning above records it.
    }
    return true;
  }

  /**
   * Appends an entry kept during an outage (a message of the `Audit` queue) to this writer's
   * chain, marked late with when it happened: once, however often it is delivered.
   */
  async appendKept(message: unknown): Promise<KeptOutcome> {
    const kept = keptEntrySchema.parse(message);
    if (kept.attempted !== undefined) {
      const there = await this.readEntry(kept.attempted.chain, kept.attempted.seq);
      if (there?.hash === kept.attempted.hash) return "written_before";
    }
    const time = new Date().toISOString();
    const writer = this.takeWriter(auditDay(time));
    try {
      await this.appendTo(writer, { ...kept.record, ...lateFields(kept, time) }, {}, kept.id);
      return "appended";
    } catch (error) {
      if (error instanceof AlreadyAppended) return "duplicate";
      throw error;
    } finally {
      writer.busy = false;
    }
  }

  private takeWriter(day: string): WriterChain {
    let writer = this.writers.find((w) => !w.busy && w.day === day) ?? this.writers.find((w) => !w.busy);
    if (writer === undefined) {
      writer = { chain: "", day: "", head: EMPTY_HEAD, busy: false };
      this.writers.push(writer);
    }
    if (writer.day !== day) Object.assign(writer, { chain: `${day}.${randomBytes(8).toString("hex")}`, day, head: EMPTY_HEAD });
    writer.busy = true;
    return writer;
  }

  /** `tried.last`: the last entry a write was sent for, which may have landed although the call failed. */
  private async appendTo(writer: WriterChain, record: Sealable, tried: { last?: AuditEntry }, keptId?: string): Promise<void> {
    if (writer.head.seq === 0) await this.registerChain(writer);
    for (let attempt = 1; ; attempt += 1) {
      const sealed = sealEntry(record, { chain: writer.chain, head: writer.head });
      tried.last = sealed;
      try {
        await this.write(sealed, keptId);
        writer.head = { seq: sealed.seq, hash: sealed.hash };
        return;
      } catch (error) {
        if (!(error instanceof SeqTaken) || attempt >= MAX_ATTEMPTS) throw error;
        // Only this writer appends here, so the seq is taken by an earlier attempt of ours whose
        // answer was lost (an SDK retry after a timeout): if it is this entry, it is written.
        const taken = await this.readEntry(writer.chain, sealed.seq);
        if (taken?.hash === sealed.hash) {
          writer.head = { seq: sealed.seq, hash: sealed.hash };
          return;
        }
        writer.head = await this.readTail(writer.chain);
      }
    }
  }

  /** One conditional put; for a kept entry, a transaction with its "appended" mark. */
  private async write(sealed: AuditEntry, keptId: string | undefined): Promise<void> {
    const entry = { TableName: this.table, Item: { ...auditEntryKey(sealed.chain, sealed.seq), ...sealed }, ConditionExpression: "attribute_not_exists(pk)" };
    try {
      if (keptId === undefined) {
        await this.db().send(new PutCommand(entry));
        return;
      }
      const mark = { TableName: this.table, Item: { ...auditKeptKey(keptId), chain: sealed.chain, seq: sealed.seq }, ConditionExpression: "attribute_not_exists(pk)" };
      await this.db().send(new TransactWriteCommand({ TransactItems: [{ Put: entry }, { Put: mark }] }));
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new SeqTaken("audit seq taken", { cause: error });
      if (error instanceof TransactionCanceledException) {
        const [entryReason, markReason] = error.CancellationReasons ?? [];
        if (markReason?.Code === "ConditionalCheckFailed") throw new AlreadyAppended("kept entry already appended", { cause: error });
        if (entryReason?.Code === "ConditionalCheckFailed") throw new SeqTaken("audit seq taken", { cause: error });
      }
      throw error;
    }
  }

  private async registerChain(writer: WriterChain): Promise<void> {
    const startedAt = new Date().toISOString();
    await Promise.all([
      this.db().send(new PutCommand({ TableName: this.table, Item: auditDayKey(writer.day) })),
      this.db().send(new PutCommand({ TableName: this.table, Item: { ...auditDayChainKey(writer.day, writer.chain), startedAt } })),
    ]);
  }

  /** One entry of a chain, if written. */
  async readEntry(chain: string, seq: number): Promise<AuditEntry | undefined> {
    const { Item } = await this.db().send(new GetCommand({ TableName: this.table, Key: auditEntryKey(chain, seq), ConsistentRead: true }));
    return Item === undefined ? undefined : toEntry(Item);
  }

  private async readTail(chain: string): Promise<ChainHead> {
    const { Items } = await this.db().send(new QueryCommand({
      TableName: this.table,
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :e)",
      ExpressionAttributeValues: { ":pk": auditChainPartition(chain), ":e": AUDIT_ENTRY_PREFIX },
      ScanIndexForward: false,
      Limit: 1,
      ConsistentRead: true,
    }));
    const last = Items?.[0];
    return last === undefined ? EMPTY_HEAD : { seq: last.seq as number, hash: last.hash as string };
  }

  private async *query(input: Omit<ConstructorParameters<typeof QueryCommand>[0], "TableName">): AsyncGenerator<Record<string, unknown>> {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.db().send(new QueryCommand({ ...input, TableName: this.table, ConsistentRead: true, ExclusiveStartKey: startKey }));
      yield* page.Items ?? [];
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
  }

  /** Days that have audit chains, oldest first, optionally only `[fromDay, toDay]`. */
  async days(range: { fromDay?: string | undefined; toDay?: string | undefined } = {}): Promise<string[]> {
    const days: string[] = [];
    for await (const item of this.query({
      KeyConditionExpression: "pk = :pk AND sk BETWEEN :from AND :to",
      ExpressionAttributeValues: { ":pk": AUDIT_DAYS_PARTITION, ":from": range.fromDay ?? "0000", ":to": range.toDay ?? "9999" },
    })) days.push(item.sk as string);
    return days;
  }

  /** The chains written on a day. */
  async chainsOn(day: string): Promise<string[]> {
    const chains: string[] = [];
    for await (const item of this.query({ KeyConditionExpression: "pk = :pk", ExpressionAttributeValues: { ":pk": auditDayPartition(day) } })) {
      chains.push(item.sk as string);
    }
    return chains;
  }

  /** One chain's entries in seq order, after `afterSeq` (0: from its first entry). */
  async *chain(chain: string, afterSeq = 0): AsyncGenerator<AuditEntry> {
    for await (const item of this.query({
      KeyConditionExpression: "pk = :pk AND sk > :after",
      ExpressionAttributeValues: { ":pk": auditChainPartition(chain), ":after": auditEntrySortKey(afterSeq) },
    })) yield toEntry(item);
  }

  /** Every entry whose time is in `[from, to)`, chain by chain (no cross-chain order). */
  async entries(range: { from?: Date; to?: Date } = {}): Promise<AuditEntry[]> {
    const from = range.from?.toISOString();
    const to = range.to?.toISOString();
    const entries: AuditEntry[] = [];
    for (const day of await this.days({ fromDay: from?.slice(0, 10), toDay: to?.slice(0, 10) })) {
      for (const chain of await this.chainsOn(day)) {
        for await (const entry of this.chain(chain)) {
          if ((from === undefined || entry.time >= from) && (to === undefined || entry.time < to)) entries.push(entry);
        }
      }
    }
    return entries;
  }
}

export function toEntry(item: Record<string, unknown>): AuditEntry {
  const { pk: _pk, sk: _sk, ...entry } = item;
  return entry as unknown as AuditEntry;
}
