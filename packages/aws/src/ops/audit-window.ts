/**
 * The audit trail as the ops dashboard reads it, every few seconds: the entries of a recent
 * window, and whether the chains of the window's days verify. Read-only and incremental: each
 * chain is verified once from its first entry, then only the entries appended since the last
 * read are fetched and checked from the verified head, so a poll costs one query per chain
 * (the daily job, `verifyAuditTrail`, seals finished days; this never writes).
 *
 * @example
 * const window = new AuditWindow(audit);
 * const { entries, status } = await window.read(new Date(Date.now() - 3_600_000), new Date());
 */
import { EMPTY_HEAD, verifyChain, type AuditEntry, type BreakReason, type ChainHead } from "@paysync/core/audit/chain";
import type { AuditStatus } from "@paysync/core/ops/summary-schema";
import { auditDay, type AuditLog } from "../store/audit-log.js";

/** Entries kept in memory: the longest window the dashboard asks for. */
export const MAX_WINDOW_MS = 24 * 3_600_000;

interface ChainState {
  day: string;
  head: ChainHead;
  checked: number;
  broken?: { brokenAt: number; reason: BreakReason | "chain_missing" };
  recent: AuditEntry[];
}

export class AuditWindow {
  private readonly chains = new Map<string, ChainState>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly audit: AuditLog) {}

  /** Entries with `from <= time < to`, and the verification of every chain of the days in between. */
  read(from: Date, to: Date): Promise<{ entries: AuditEntry[]; status: AuditStatus }> {
    // One refresh at a time: two polls must not verify the same new entries twice.
    const next = this.queue.then(() => this.refresh(from, to));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async refresh(from: Date, to: Date): Promise<{ entries: AuditEntry[]; status: AuditStatus }> {
    const keepFrom = new Date(Math.min(from.getTime(), to.getTime() - MAX_WINDOW_MS)).toISOString();
    const days = await this.audit.days({ fromDay: auditDay(keepFrom), toDay: auditDay(to.toISOString()) });
    for (const [chain, state] of this.chains) if (!days.includes(state.day)) this.chains.delete(chain);
    for (const day of days) {
      const listed = await this.audit.chainsOn(day);
      for (const chain of listed) await this.advance(chain, day, keepFrom);
      // A chain this reader verified that is no longer registered was removed: that is tampering too.
      for (const [chain, state] of this.chains) {
        if (state.day === day && !listed.includes(chain)) state.broken ??= { brokenAt: state.head.seq, reason: "chain_missing" };
      }
    }
    const fromIso = from.toISOString();
    const toIso = to.toISOString();
    const entries: AuditEntry[] = [];
    const status: AuditStatus = { intact: true, days: days.filter((d) => d >= auditDay(fromIso)), chains: 0, entries: 0, broken: [] };
    for (const [chain, state] of this.chains) {
      if (!status.days.includes(state.day)) continue;
      status.chains += 1;
      status.entries += state.checked;
      if (state.broken) status.broken.push({ chain, ...state.broken });
      for (const entry of state.recent) if (entry.time >= fromIso && entry.time < toIso) entries.push(entry);
    }
    status.intact = status.broken.length === 0;
    return { entries, status };
  }

  private async advance(chain: string, day: string, keepFrom: string): Promise<void> {
    const state = this.chains.get(chain) ?? { day, head: EMPTY_HEAD, checked: 0, recent: [] };
    this.chains.set(chain, state);
    state.recent = state.recent.filter((entry) => entry.time >= keepFrom);
    if (state.broken) return;
    const fresh: AuditEntry[] = [];
    for await (const entry of this.audit.chain(chain, state.head.seq)) fresh.push(entry);
    if (fresh.length === 0) return;
    const verdict = verifyChain(chain, fresh, state.head);
    const good = fresh.slice(0, verdict.checked);
    state.checked += verdict.checked;
    state.recent.push(...good.filter((entry) => entry.time >= keepFrom));
    if (verdict.ok) state.head = verdict.head;
    else state.broken = { brokenAt: verdict.brokenAt, reason: verdict.reason };
  }
}
