import { randomBytes } from "node:crypto";
import { z } from "zod";
import { auditRecordSchema, type AuditEntry, type AuditRecord } from "./chain.js";

/**
 * An audit entry kept while its chain's storage was down (SPEC.md §5): the record (already
 * checked: codes, pseudonymous keys, counts — no payload), when it happened, and a stable id.
 * It waits durably (the `Audit` queue) until the drain appends it to a chain, marked late.
 *
 * Order and time: a late entry takes the next seq of the drain's own chain and that chain's
 * `time` (when it was appended), so every chain stays in append order and its days stay whole;
 * `occurredAt` keeps when it happened. Kept entries of one chain wait in one message group, so
 * they are appended in the order they happened.
 *
 * @example
 * const kept = keepEntry(record, new Date().toISOString(), attempted);
 * await keeper.keep(kept, chain); // later: await audit.appendKept(kept)
 */

const isoTime = z.iso.datetime();

export const keptEntrySchema = z.strictObject({
  /** 128 random bits, hex: the queue's deduplication id and the chain's "already appended" mark. */
  id: z.string().regex(/^[0-9a-f]{32}$/),
  occurredAt: isoTime,
  record: auditRecordSchema,
  /**
   * The write that failed, if it got as far as one: a timeout may have written it after all,
   * and the drain then finds it there instead of appending it twice.
   */
  attempted: z.strictObject({
    chain: z.string().regex(/^[0-9A-Za-z.-]{1,64}$/),
    seq: z.number().int().positive(),
    hash: z.string().regex(/^[0-9a-f]{64}$/),
  }).optional(),
});
export type KeptEntry = z.infer<typeof keptEntrySchema>;

export function keepEntry(record: AuditRecord, occurredAt: string, attempted?: Pick<AuditEntry, "chain" | "seq" | "hash">): KeptEntry {
  return keptEntrySchema.parse({
    id: randomBytes(16).toString("hex"),
    occurredAt,
    record,
    ...(attempted === undefined ? {} : { attempted: { chain: attempted.chain, seq: attempted.seq, hash: attempted.hash } }),
  });
}

/** The fields a kept entry is appended with, besides its record. */
export function lateFields(kept: KeptEntry, appendedAt: string): Pick<AuditEntry, "time" | "late" | "occurredAt" | "keptId"> {
  return { time: appendedAt, late: true, occurredAt: kept.occurredAt, keptId: kept.id };
}
