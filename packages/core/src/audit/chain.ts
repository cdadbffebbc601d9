import { createHash } from "node:crypto";
import { z } from "zod";

/**
 * The audit trail's hash chain, pure: canonical form, hash and verification. An entry carries
 * the hash of the one before it in its chain, so changing, removing or reordering any entry
 * breaks the chain at that entry. Storage (DynamoDB, sharding, retries) lives in
 * `@paysync/aws/audit/audit-log`.
 *
 * @example
 * const first = sealEntry({ time, actor: "system", action: "job.run", outcome: "ok" }, { chain: "0", seq: 1, prevHash: GENESIS_HASH });
 * verifyChain([first]); // { ok: true, checked: 1, … }
 */

/** The `prevHash` of a chain's first entry. */
export const GENESIS_HASH = "0".repeat(64);

/**
 * What may be audited. Every string is a code or a pseudonymous key, checked by pattern, so
 * no free text (and with it no email, phone number or name) can enter the trail.
 */
const code = z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/);
export const auditRecordSchema = z.strictObject({
  actor: z.enum(["device", "stripe", "job", "system", "operator"]),
  action: code,
  /** Pseudonymous user key (`u_` + 32 hex), never a raw id. */
  userKey: z.string().regex(/^u_[0-9a-f]{32}$/).optional(),
  /** Pseudonymous key of the device that acted (`d_` + 32 hex, scoped by the user), never its id. */
  deviceKey: z.string().regex(/^d_[0-9a-f]{32}$/).optional(),
  /** How many items a read returned (changes, resources, entities): a count, never what they were. */
  count: z.number().int().nonnegative().optional(),
  /** How many bytes a read sent: a size, never the payload. */
  bytes: z.number().int().nonnegative().optional(),
  entityType: z.string().regex(/^[a-z_]{1,40}$/).optional(),
  priority: z.number().int().min(1).max(10).optional(),
  outcome: code,
  latencyMs: z.number().finite().nonnegative().optional(),
  /** The version an action produced (an operator's crisis-directory update). */
  version: z.number().int().positive().optional(),
});
export type AuditRecord = z.infer<typeof auditRecordSchema>;

/** An entry as stored: the record, when it happened, and its place in its chain. */
export interface AuditEntry extends AuditRecord {
  /** ISO 8601 time of the append. */
  time: string;
  /**
   * Set on an entry kept while storage was down and appended by the drain (`kept.ts`): `time`
   * is then when it was appended, `occurredAt` when it happened, and `keptId` its stable id.
   */
  late?: true;
  occurredAt?: string;
  keptId?: string;
  /** Which chain (shard) the entry belongs to; hashed, so an entry cannot be moved. */
  chain: string;
  seq: number;
  prevHash: string;
  hash: string;
}

export type UnsealedEntry = Omit<AuditEntry, "hash">;

/** Where a chain ends: the next entry links to this. */
export interface ChainHead {
  seq: number;
  hash: string;
}

export const EMPTY_HEAD: ChainHead = { seq: 0, hash: GENESIS_HASH };

// Fields added later go anywhere in this list: an absent field is left out of the canonical
// form, so the hashes of entries written before a field existed do not change.
const HASHED_FIELDS = [
  "action", "actor", "bytes", "chain", "count", "deviceKey", "entityType", "keptId", "late", "latencyMs", "occurredAt", "outcome", "prevHash", "priority", "seq", "time", "userKey", "version",
] as const;

/** JSON with keys in a fixed order and absent fields left out: one byte string per entry. */
export function canonicalize(entry: UnsealedEntry): string {
  const fields = entry as unknown as Record<string, unknown>;
  const present = HASHED_FIELDS.filter((name) => fields[name] !== undefined && fields[name] !== null);
  return JSON.stringify(Object.fromEntries(present.map((name) => [name, fields[name]])));
}

/** sha256(canonical(entry without hash) + prevHash), hex. */
export function entryHash(entry: UnsealedEntry): string {
  return createHash("sha256").update(canonicalize(entry), "utf8").update(entry.prevHash, "utf8").digest("hex");
}

/** Places a record after `head` in `chain`. */
export function sealEntry(record: AuditRecord & Pick<AuditEntry, "time" | "late" | "occurredAt" | "keptId">, place: { chain: string; head: ChainHead }): AuditEntry {
  const unsealed: UnsealedEntry = { ...record, chain: place.chain, seq: place.head.seq + 1, prevHash: place.head.hash };
  return { ...unsealed, hash: entryHash(unsealed) };
}

export type BreakReason = "content_changed" | "link_broken" | "entry_missing" | "wrong_chain";

export type ChainVerdict =
  | { ok: true; chain: string; checked: number; head: ChainHead }
  | { ok: false; chain: string; checked: number; brokenAt: number; reason: BreakReason };

/**
 * Verifies one chain's entries in seq order, from `from` (a head already verified, e.g. the
 * last run's anchor; the genesis by default). Reports the first broken seq: an edited entry
 * breaks at itself, a removed one at its seq, a re-hashed edit at the entry after it.
 */
export function verifyChain(chain: string, entries: Iterable<AuditEntry>, from: ChainHead = EMPTY_HEAD): ChainVerdict {
  let head = from;
  let checked = 0;
  for (const entry of entries) {
    const expected = head.seq + 1;
    const broken = (brokenAt: number, reason: BreakReason): ChainVerdict => ({ ok: false, chain, checked, brokenAt, reason });
    if (entry.seq !== expected) return broken(expected, "entry_missing");
    if (entry.chain !== chain) return broken(entry.seq, "wrong_chain");
    if (entry.hash !== entryHash(entry)) return broken(entry.seq, "content_changed");
    if (entry.prevHash !== head.hash) return broken(entry.seq, "link_broken");
    head = { seq: entry.seq, hash: entry.hash };
    checked += 1;
  }
  return { ok: true, chain, checked, head };
}

/**
 * A day's seal: the digest of every chain's head once the day is over. A chain removed,
 * added, truncated or rewritten after sealing no longer matches it.
 */
export function sealDigest(day: string, heads: ReadonlyArray<{ chain: string } & ChainHead>): string {
  const lines = heads.map((h) => `${h.chain}:${h.seq}:${h.hash}`).sort();
  return createHash("sha256").update(`${day}\n${lines.join("\n")}`, "utf8").digest("hex");
}
