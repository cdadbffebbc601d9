/**
 * Pulls the device's feed. Without a cursor it bootstraps: pages of `snapshot: true` upserts (the
 * server's current state), then the feed; when a page says `phase: "feed"` the snapshot is
 * complete and entities it did not confirm are removed (entities with pending local writes
 * stay, and so does the queue). A `410 resync_required` (or a cursor the server no longer
 * knows) drops the cursor and bootstraps again. Each page's changes are stored before its
 * cursor, so a crash in between pulls the page again (changes apply idempotently by version).
 *
 * Pace: pages follow each other while `hasMore`; then the next poll waits `minIntervalMs` (longer
 * while a realtime socket covers every change). A poke pulls at once when its priority is 8 or
 * more, otherwise as soon as `minIntervalMs` allows; pokes during a pull coalesce into one more.
 * `429` waits `Retry-After`; failures back off with jitter; `426` stops the client.
 *
 * @example
 * receiver.poke(10); // from the realtime socket
 */
import { Backoff, type BackoffPolicy } from "./backoff.js";
import { initialBatchState, observeBatch, type BatchingPolicy, type BatchState } from "./batching.js";
import { PaysyncHttpError, PaysyncNetworkError, UpgradeRequiredError, errorInfo } from "./errors.js";
import type { LocalState } from "./local-state.js";
import type { Clock } from "./platform.js";
import { EXEMPT_PRIORITY } from "./priority.js";
import { PullResponseSchema, type PulledChange, type PullPhase } from "./protocol.js";
import { Runner } from "./runner.js";
import type { StatusTracker } from "./status.js";
import type { ClientStore, StoreWrite } from "./store/store.js";
import type { Transport } from "./transport.js";

export interface ReceiverDeps {
  store: ClientStore;
  state: LocalState;
  transport: Transport;
  clock: Clock;
  random: () => number;
  deviceId: string;
  status: StatusTracker;
  batching: BatchingPolicy;
  backoff: BackoffPolicy;
  timeoutMs: number;
  /** Poll interval while pokes cover every change (premium realtime), at least `minIntervalMs`. */
  connectedPollMs: number;
  /** True while the realtime socket is open and the tier pokes on every change. */
  realtimeCoversAll: () => boolean;
  before: () => Promise<void>;
  reregister: () => Promise<void>;
  onUpgradeRequired: (error: UpgradeRequiredError) => void;
  /** After each stored page (the client refreshes entitlements or the crisis kit on their types). */
  onChanges: (changes: readonly PulledChange[]) => void;
  onPulled: () => void;
  onError: (error: unknown) => void;
}

interface Meta {
  cursor: string | null;
  phase: PullPhase;
  epoch: number;
  /** The epoch of a bootstrap under way, or null. */
  bootstrap: number | null;
  hasSynced: boolean;
  minIntervalMs: number;
}

const META_KEY = "meta/pull";
const INITIAL_META: Meta = { cursor: null, phase: "feed", epoch: 0, bootstrap: null, hasSynced: false, minIntervalMs: 0 };
const DEFAULT_RETRY_AFTER_MS = 1_000;

export class Receiver {
  private readonly runner: Runner;
  private readonly backoff: Backoff;
  private meta: Meta = INITIAL_META;
  private batch: BatchState;
  private holdUntil = 0;
  /** A hold from a limit (429) rather than a failure: a crisis poke may skip it. */
  private holdIsLimit = false;
  private force = true;
  private lastPullAt = Number.NEGATIVE_INFINITY;
  private stopped = true;

  constructor(private readonly deps: ReceiverDeps) {
    this.backoff = new Backoff(deps.backoff, deps.random);
    this.batch = initialBatchState(deps.batching);
    this.runner = new Runner(deps.clock, () => this.step(), deps.onError);
  }

  async load(): Promise<void> {
    this.meta = { ...INITIAL_META, ...(await this.deps.store.get<Meta>(META_KEY)) };
    this.deps.state.bootstrapEpoch = this.meta.bootstrap;
    this.deps.status.update({ hasSynced: this.meta.hasSynced, bootstrapping: this.meta.bootstrap !== null || this.meta.cursor === null });
  }

  start(): void {
    this.stopped = false;
    this.runner.restart();
    this.force = true;
    this.runner.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.runner.stop();
  }

  /** Pull now, whatever `minIntervalMs` says (the app asked; back-off still applies). */
  pullNow(): void {
    this.force = true;
    this.holdUntil = 0;
    this.backoff.reset();
    this.runner.kick();
  }

  /** The server says there is something to pull. */
  poke(priority: number): void {
    if (priority >= EXEMPT_PRIORITY) {
      if (this.holdIsLimit) this.holdUntil = 0;
      this.force = true;
    }
    this.runner.kick();
  }

  whenIdle(): Promise<void> {
    return this.runner.whenIdle();
  }

  /** Pull when `minIntervalMs` allows (reconnect, foreground). */
  kick(): void {
    this.runner.kick();
  }

  get minIntervalMs(): number {
    return this.meta.minIntervalMs;
  }

  get cursor(): string | null {
    return this.meta.cursor;
  }

  private pollDelay(): number {
    const base = this.meta.minIntervalMs;
    return this.deps.realtimeCoversAll() ? Math.max(base, this.deps.connectedPollMs) : base;
  }

  private async step(): Promise<number | null> {
    if (this.stopped) return null;
    const now = this.deps.clock.now();
    if (now < this.holdUntil) return this.holdUntil - now;
    const sinceLast = now - this.lastPullAt;
    if (!this.force && sinceLast < this.pollDelay()) return this.pollDelay() - sinceLast;
    this.force = false;
    this.deps.status.update({ downloading: true });
    try {
      await this.deps.before();
      await this.pullAll();
      this.backoff.reset();
      this.holdUntil = 0;
      this.lastPullAt = this.deps.clock.now();
      this.deps.status.pulled(this.lastPullAt);
      this.deps.onPulled();
      return this.stopped ? null : this.pollDelay();
    } catch (error) {
      return await this.onError(error);
    } finally {
      this.deps.status.update({ downloading: false, bootstrapping: this.meta.bootstrap !== null || this.meta.cursor === null, hasSynced: this.meta.hasSynced });
    }
  }

  /** Pages until `hasMore` is false. */
  private async pullAll(): Promise<void> {
    const { transport } = this.deps;
    for (;;) {
      if (this.meta.cursor === null && this.meta.bootstrap === null) await this.beginBootstrap();
      this.deps.state.bootstrapEpoch = this.meta.bootstrap;
      this.deps.status.update({ bootstrapping: this.meta.bootstrap !== null });
      const limit = this.batch.items;
      let answer;
      try {
        answer = await transport.request({
          method: "GET", path: "/v1/sync/pull", query: { cursor: this.meta.cursor ?? undefined, limit },
          headers: { "x-device-id": this.deps.deviceId, "accept-encoding": "gzip" }, timeoutMs: this.deps.timeoutMs,
        });
      } catch (error) {
        const timedOut = error instanceof PaysyncNetworkError && error.timedOut;
        this.batch = observeBatch(this.batch, { items: limit, bytes: 0, durationMs: 0, outcome: timedOut ? "timeout" : "error" }, this.deps.batching);
        throw error;
      }
      const page = PullResponseSchema.parse(answer.body);
      this.batch = observeBatch(this.batch, { items: page.changes.length, bytes: answer.bytesReceived, durationMs: answer.durationMs, outcome: "ok" }, this.deps.batching);
      // 1. the page's changes, 2. what the snapshot did not confirm, 3. only then the cursor.
      await this.deps.state.applyChanges(page.changes);
      const previousCursor = this.meta.cursor;
      const next: Meta = { ...this.meta, cursor: page.cursor, phase: page.phase, minIntervalMs: page.minIntervalMs };
      if (this.meta.bootstrap !== null && page.phase === "feed") {
        await this.deps.state.sweep(this.meta.bootstrap);
        next.bootstrap = null;
        next.hasSynced = true;
      }
      await this.saveMeta(next);
      this.deps.state.bootstrapEpoch = next.bootstrap;
      if (page.changes.length > 0) this.deps.onChanges(page.changes);
      if (!page.hasMore || this.stopped) return;
      // "More" with nothing in it and a cursor that did not move would loop: wait for the next poll.
      if (page.changes.length === 0 && page.cursor === previousCursor) return;
    }
  }

  private async beginBootstrap(): Promise<void> {
    const epoch = this.meta.epoch + 1;
    await this.saveMeta({ ...this.meta, cursor: null, phase: "snapshot", epoch, bootstrap: epoch });
  }

  /** Drops the cursor: the next pull bootstraps and rebuilds the cache. */
  async resync(): Promise<void> {
    const epoch = this.meta.epoch + 1;
    await this.saveMeta({ ...this.meta, cursor: null, phase: "snapshot", epoch, bootstrap: epoch });
    this.deps.state.bootstrapEpoch = epoch;
  }

  private async saveMeta(meta: Meta): Promise<void> {
    const writes: StoreWrite[] = [{ key: META_KEY, value: meta }];
    await this.deps.store.write(writes);
    this.meta = meta;
  }

  private async onError(error: unknown): Promise<number | null> {
    const now = this.deps.clock.now();
    this.deps.status.failed(errorInfo(error, now));
    if (error instanceof UpgradeRequiredError) {
      this.deps.onUpgradeRequired(error);
      return null;
    }
    if (error instanceof PaysyncHttpError) {
      if (error.code === "resync_required" || error.status === 410 || (error.status === 400 && this.meta.cursor !== null && isCursorError(error))) {
        await this.resync();
        this.force = true;
        return 0;
      }
      if (error.status === 429) {
        this.holdUntil = now + (error.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS);
        this.holdIsLimit = true;
        return this.holdUntil - now;
      }
      if (error.status === 404) await this.deps.reregister().catch(() => undefined);
    }
    this.holdIsLimit = false;
    const wait = this.backoff.next();
    this.holdUntil = now + wait;
    this.force = true;
    return wait;
  }
}

function isCursorError(error: PaysyncHttpError): boolean {
  return JSON.stringify(error.details ?? "").includes("cursor") || /cursor/i.test(error.message);
}
