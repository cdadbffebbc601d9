/**
 * Sync status, overall and per priority, in the spirit of powersync's `SyncStatus`: what an app
 * needs to show "saved on this device", "synced", "offline", "update the app". The tracker
 * keeps the facts the loops report and hands out immutable snapshots.
 *
 * @example
 * client.on("status", (s) => banner(s.upgradeRequired ? "Update the app" : s.online ? "" : "Offline"));
 */
import type { SyncErrorInfo } from "./errors.js";
import type { SupportedRange } from "./protocol.js";
import type { QueuedOp } from "./types.js";

export interface PriorityStatus {
  priority: number;
  /** Local writes of this priority waiting for the server. */
  pending: number;
  /**
   * When this priority was last in sync: an op of it reached the server, or a pull completed
   * while none of its writes were pending. Null until then.
   */
  lastSyncedAt: number | null;
  lastError: SyncErrorInfo | null;
}

export interface SyncStatus {
  /** `start()` was called and `stop()` was not. */
  running: boolean;
  /** The last request reached the server (any answer but a network error or timeout). */
  online: boolean;
  /** The realtime socket is open (pokes arrive); otherwise the client polls. */
  realtime: boolean;
  uploading: boolean;
  downloading: boolean;
  /** A bootstrap (first sync or rebuild) is under way: the cache is not complete yet. */
  bootstrapping: boolean;
  /** The device has completed at least one bootstrap: its cache is a full copy. */
  hasSynced: boolean;
  /** The server refused this protocol version (426): sync has stopped; crisis routes still work. */
  upgradeRequired: SupportedRange | null;
  /** Last successful complete pull. */
  lastPulledAt: number | null;
  lastPushedAt: number | null;
  lastError: SyncErrorInfo | null;
  /** When the next retry after a failure or a `Retry-After` is due, if one is. */
  nextRetryAt: number | null;
  pending: number;
  failed: number;
  /** Priorities 10 down to 1. */
  priorities: PriorityStatus[];
}

const PRIORITIES = [10, 9, 8, 7, 6, 5, 4, 3, 2, 1] as const;

export class StatusTracker {
  private state: Omit<SyncStatus, "priorities" | "pending" | "failed">;
  private readonly lastSynced = new Map<number, number>();
  private readonly lastErrors = new Map<number, SyncErrorInfo | null>();
  private counts = { pending: new Map<number, number>(), total: 0, failed: 0 };
  private snapshot: SyncStatus | null = null;

  constructor(private readonly onChange: (status: SyncStatus) => void) {
    this.state = {
      running: false, online: false, realtime: false, uploading: false, downloading: false, bootstrapping: false,
      hasSynced: false, upgradeRequired: null, lastPulledAt: null, lastPushedAt: null, lastError: null, nextRetryAt: null,
    };
  }

  get(): SyncStatus {
    if (!this.snapshot) {
      this.snapshot = Object.freeze({
        ...this.state,
        pending: this.counts.total,
        failed: this.counts.failed,
        priorities: PRIORITIES.map((priority) => Object.freeze({
          priority, pending: this.counts.pending.get(priority) ?? 0, lastSyncedAt: this.lastSynced.get(priority) ?? null,
          lastError: this.lastErrors.get(priority) ?? null,
        })),
      });
    }
    return this.snapshot;
  }

  update(patch: Partial<Omit<SyncStatus, "priorities" | "pending" | "failed">>): void {
    const keys = Object.keys(patch) as Array<keyof typeof patch>;
    if (keys.every((key) => this.state[key] === patch[key])) return;
    this.state = { ...this.state, ...patch };
    this.changed();
  }

  /** Recounts pending writes per priority from the queue. */
  setQueue(pending: readonly QueuedOp[], failed: number): void {
    const byPriority = new Map<number, number>();
    for (const op of pending) byPriority.set(op.priority, (byPriority.get(op.priority) ?? 0) + 1);
    const same = failed === this.counts.failed && pending.length === this.counts.total
      && PRIORITIES.every((p) => (byPriority.get(p) ?? 0) === (this.counts.pending.get(p) ?? 0));
    if (same) return;
    this.counts = { pending: byPriority, total: pending.length, failed };
    this.changed();
  }

  /** Ops of these priorities reached the server. */
  pushed(priorities: Iterable<number>, at: number): void {
    for (const priority of priorities) {
      this.lastSynced.set(priority, at);
      this.lastErrors.set(priority, null);
    }
    this.state = { ...this.state, lastPushedAt: at, lastError: null };
    this.changed();
  }

  /** A pull completed: every priority without pending writes is in sync. */
  pulled(at: number): void {
    for (const priority of PRIORITIES) if ((this.counts.pending.get(priority) ?? 0) === 0) this.lastSynced.set(priority, at);
    this.state = { ...this.state, lastPulledAt: at, lastError: null };
    this.changed();
  }

  /** A push of ops of these priorities failed (or none: a pull or another call). */
  failed(error: SyncErrorInfo, priorities: Iterable<number> = []): void {
    for (const priority of priorities) this.lastErrors.set(priority, error);
    this.state = { ...this.state, lastError: error };
    this.changed();
  }

  private changed(): void {
    this.snapshot = null;
    this.onChange(this.get());
  }
}
