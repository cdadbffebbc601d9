/**
 * Daily usage per user (SPEC.md §6), pure: bytes moved (the sync engine's daily data
 * counters) and ops by priority (counted from the day's audit entries).
 *
 * An op is a `sync.apply` entry (applied, conflict or lost to a later write — work the
 * server did for the user; a `duplicate` is a redelivery of an op already counted) or a
 * crisis-class op answered synchronously (`crisis.op` with outcome `ok`).
 *
 * @example
 * const counts = countOpsByUser(entries); // Map { "u_…" => { "6": 3, "10": 1 } }
 */
import type { AuditEntry } from "../audit/chain.js";

/** Priority (as a string, `"1"`–`"10"`) → ops. */
export type OpsByPriority = Record<string, number>;

export interface ByteUsage {
  bytes: number;
  pushBytes: number;
  pullBytes: number;
}

export interface UsageTotals extends ByteUsage {
  users: number;
  ops: OpsByPriority;
}

export const emptyTotals = (): UsageTotals => ({ users: 0, bytes: 0, pushBytes: 0, pullBytes: 0, ops: {} });

const isPriority = (value: unknown): value is number => Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 10;

/** Whether an audit entry is one op done for a user, and at which priority. */
export function opOf(entry: Pick<AuditEntry, "action" | "outcome" | "priority" | "userKey">): { userKey: string; priority: number } | undefined {
  if (entry.userKey === undefined || !isPriority(entry.priority)) return undefined;
  const counted = (entry.action === "sync.apply" && entry.outcome !== "duplicate") || (entry.action === "crisis.op" && entry.outcome === "ok");
  return counted ? { userKey: entry.userKey, priority: entry.priority } : undefined;
}

export function countOpsByUser(entries: Iterable<AuditEntry>): Map<string, OpsByPriority> {
  const counts = new Map<string, OpsByPriority>();
  for (const entry of entries) {
    const op = opOf(entry);
    if (op === undefined) continue;
    const ops = counts.get(op.userKey) ?? {};
    ops[String(op.priority)] = (ops[String(op.priority)] ?? 0) + 1;
    counts.set(op.userKey, ops);
  }
  return counts;
}

const count = (value: unknown): number => (typeof value === "number" && Number.isFinite(value) && value > 0 ? value : 0);

/** The byte fields of a daily data counter as stored (missing or odd values count as 0). */
export function byteUsageOf(item: Record<string, unknown>): ByteUsage {
  return { bytes: count(item.bytes), pushBytes: count(item.pushBytes), pullBytes: count(item.pullBytes) };
}

export function addOps(into: OpsByPriority, ops: OpsByPriority): OpsByPriority {
  for (const [priority, n] of Object.entries(ops)) into[priority] = (into[priority] ?? 0) + n;
  return into;
}

export const totalOps = (ops: OpsByPriority): number => Object.values(ops).reduce((sum, n) => sum + n, 0);
