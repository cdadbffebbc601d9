/**
 * Reads one UTC day of the audit trail in bounded slices, for the daily jobs: chains in key
 * order, each from a seq on, at most `maxEntries` at a time. The position is plain data
 * (chain name and seq), so it can be a job's checkpoint, and a repeated slice is the same
 * slice. Every entry is read through the audit log's own reader.
 *
 * @example
 * let position: AuditDayPosition | undefined;
 * do {
 *   const slice = await readAuditDaySlice(audit, "2025-03-09", position, 1_000);
 *   // … slice.entries …
 *   position = slice.next ?? undefined;
 * } while (position);
 */
import type { AuditEntry } from "@paysync/core/audit/chain";
import type { AuditLog } from "../store/audit-log.js";

export interface AuditDayPosition {
  /** The chain being read; the day's first chain when absent. */
  chain?: string;
  /** Entries of `chain` up to this seq are done. */
  afterSeq: number;
}

export interface AuditDaySlice {
  /** Names the slice (chain and first seq): stable, so work keyed by it is done once. */
  id: string;
  entries: AuditEntry[];
  /** Where the next slice starts; `null` when the day is done. */
  next: AuditDayPosition | null;
}

export async function readAuditDaySlice(audit: AuditLog, day: string, position: AuditDayPosition | undefined, maxEntries: number): Promise<AuditDaySlice> {
  const chains = (await audit.chainsOn(day)).sort();
  // By name, not by index: a chain registered meanwhile cannot shift the position.
  const chain = position?.chain ?? chains[0];
  const afterSeq = position?.chain === undefined ? 0 : position.afterSeq;
  if (chain === undefined) return { id: `${day}#none`, entries: [], next: null };
  const entries: AuditEntry[] = [];
  for await (const entry of audit.chain(chain, afterSeq)) {
    entries.push(entry);
    if (entries.length >= maxEntries) break;
  }
  const id = `${chain}@${afterSeq}`;
  if (entries.length >= maxEntries) return { id, entries, next: { chain, afterSeq: entries.at(-1)!.seq } };
  const following = chains.find((name) => name > chain);
  return { id, entries, next: following === undefined ? null : { chain: following, afterSeq: 0 } };
}
