/**
 * Pushes the op queue. Two lanes: the crisis lane sends ops of send priority ≥ 9 at once and on
 * their own (a large batch in flight never delays a crisis write); the main lane sends the rest,
 * highest priority first, in batches sized by {@link observeBatch}. An entity with an op in flight
 * sends nothing else until it is answered, so one entity's ops reach the server in order.
 *
 * Answers: `applied`/`queued`/`duplicate`/`conflict` mean the server has the op (out of the
 * queue); `rejected` and `429` keep it until `Retry-After` (ops below 8 only: the server never
 * limits 8-10); `413` and validation errors move the op to the failed list (an op the server can
 * never take would otherwise be retried forever); 5xx, network errors and timeouts retry the same
 * ops, same opIds, after a capped back-off with full jitter; `426` stops the client.
 *
 * @example
 * const sender = new Sender(deps);
 * sender.kick(); // after a write, on reconnect, on start
 */
import { EXEMPT_PRIORITY } from "@paysync/core/sync/entities";
import { Backoff, type BackoffPolicy } from "./backoff.js";
import { initialBatchState, observeBatch, planBatch, type BatchingPolicy, type BatchState } from "./batching.js";
import {
  PaysyncHttpError, PaysyncNetworkError, UpgradeRequiredError, errorInfo, parseRetryAfter, type SyncErrorInfo,
} from "./errors.js";
import type { LocalState } from "./local-state.js";
import type { Clock } from "./platform.js";
import { CRISIS_PRIORITY, sendOrder } from "./priority.js";
import { LimitDetailsSchema, PushResponseSchema, TooLargeDetailsSchema, type PushResult } from "./protocol.js";
import { Runner } from "./runner.js";
import type { StatusTracker } from "./status.js";
import type { Transport } from "./transport.js";
import type { FailedOp, QueuedOp } from "./types.js";

export interface SenderDeps {
  state: LocalState;
  transport: Transport;
  clock: Clock;
  random: () => number;
  deviceId: string;
  status: StatusTracker;
  batching: BatchingPolicy;
  backoff: BackoffPolicy;
  crisisBackoff: BackoffPolicy;
  timeoutMs: number;
  /** Runs before every push: registration, queued crisis activations. */
  before: () => Promise<void>;
  /** The device is unknown to the server (404): register it again. */
  reregister: () => Promise<void>;
  onUpgradeRequired: (error: UpgradeRequiredError) => void;
  onFailed: (ops: FailedOp[]) => void;
  onConflict: () => void;
  onError: (error: unknown) => void;
}

type LaneName = "crisis" | "main";

const DEFAULT_RETRY_AFTER_MS = 1_000;

class Lane {
  readonly runner: Runner;
  readonly backoff: Backoff;
  /** No request before this (back-off after a failure). */
  holdUntil = 0;
  /** Ops below priority 8 wait until this (`Retry-After` of a tier limit). */
  limitedUntil = 0;
  batch: BatchState;
  /** Send one op at a time for this many requests (finding which op a 400/413 is about). */
  isolate = 0;

  constructor(readonly name: LaneName, sender: Sender, deps: SenderDeps) {
    this.backoff = new Backoff(name === "crisis" ? deps.crisisBackoff : deps.backoff, deps.random);
    this.batch = initialBatchState(deps.batching);
    this.runner = new Runner(deps.clock, () => sender.step(this), deps.onError);
  }
}

/** Crisis writes the crisis routes take when sync itself is refused (426): route by entity type. */
const CRISIS_ROUTES: Readonly<Record<string, { path: string; body: (payload: unknown) => unknown }>> = {
  safety_plan: { path: "/v1/crisis/safety-plan", body: (payload) => payload },
  emergency_contacts: { path: "/v1/crisis/contacts", body: (payload) => payload },
};

export class Sender {
  private readonly lanes: Record<LaneName, Lane>;
  private readonly inFlight = new Set<string>();
  private stopped = true;
  /** After a 426: only the crisis lane runs, and only over the crisis routes (which answer every version). */
  private crisisRoutesOnly = false;

  constructor(private readonly deps: SenderDeps) {
    this.lanes = { crisis: new Lane("crisis", this, deps), main: new Lane("main", this, deps) };
  }

  start(): void {
    this.stopped = false;
    this.crisisRoutesOnly = false;
    for (const lane of Object.values(this.lanes)) lane.runner.restart();
    this.kick();
  }

  /** Look at the queue again (after a write, a reconnect, a start). */
  kick(): void {
    if (this.stopped) return;
    this.lanes.crisis.runner.kick();
    this.lanes.main.runner.kick();
  }

  /** Retry now: clears back-off (not `Retry-After`, which the server asked for). */
  retryNow(): void {
    for (const lane of Object.values(this.lanes)) {
      lane.holdUntil = 0;
      lane.backoff.reset();
    }
    this.kick();
  }

  /**
   * The server refused the protocol: stop pushing, except safety plans and emergency contacts,
   * which go on through `PUT /v1/crisis/safety-plan` and `PUT /v1/crisis/contacts`.
   */
  onlyCrisisRoutes(): void {
    this.crisisRoutesOnly = true;
    void this.lanes.main.runner.stop();
    this.lanes.crisis.holdUntil = 0;
    this.lanes.crisis.runner.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(Object.values(this.lanes).map((lane) => lane.runner.stop()));
  }

  get busy(): boolean {
    return this.inFlight.size > 0;
  }

  /** Resolves once neither lane has a run under way. */
  async whenIdle(): Promise<void> {
    while (this.lanes.crisis.runner.busy || this.lanes.main.runner.busy) {
      await Promise.all([this.lanes.crisis.runner.whenIdle(), this.lanes.main.runner.whenIdle()]);
    }
  }

  /** The next retry time of either lane, for status. */
  nextRetryAt(): number | null {
    const now = this.deps.clock.now();
    const times = Object.values(this.lanes).flatMap((l) => [l.holdUntil, l.limitedUntil]).filter((t) => t > now);
    return times.length > 0 ? Math.min(...times) : null;
  }

  /** One request of a lane; answers when to run again (0 = at once, null = when kicked). */
  async step(lane: Lane): Promise<number | null> {
    if (this.stopped) return null;
    const now = this.deps.clock.now();
    if (now < lane.holdUntil) return lane.holdUntil - now;
    if (this.crisisRoutesOnly) return lane.name === "crisis" ? this.viaCrisisRoutes(lane) : null;
    const { batch, waitMs } = this.select(lane, now);
    if (batch.length === 0) return waitMs;
    try {
      await this.deps.before();
    } catch (error) {
      this.deps.status.failed(errorInfo(error, this.deps.clock.now()), new Set(batch.map((op) => op.priority)));
      if (error instanceof UpgradeRequiredError) return this.onError(lane, batch, error, errorInfo(error, now));
      return this.hold(lane);
    }
    if (this.stopped) return null;
    batch.forEach((op) => this.inFlight.add(op.opId));
    this.deps.status.update({ uploading: true });
    try {
      return await this.push(lane, batch);
    } finally {
      batch.forEach((op) => this.inFlight.delete(op.opId));
      this.deps.status.update({ uploading: this.inFlight.size > 0, nextRetryAt: this.nextRetryAt() });
    }
  }

  /** One crisis write over its crisis route; the op is acknowledged with the version the route answers. */
  private async viaCrisisRoutes(lane: Lane): Promise<number | null> {
    const op = this.deps.state.pending().find((o) => CRISIS_ROUTES[o.entityType] && o.entityId === "current" && o.action === "upsert");
    if (!op) return null;
    const route = CRISIS_ROUTES[op.entityType]!;
    this.inFlight.add(op.opId);
    try {
      const answer = await this.deps.transport.request({
        method: "PUT", path: route.path, headers: { "x-device-id": this.deps.deviceId }, body: route.body(op.payload), timeoutMs: this.deps.timeoutMs,
      });
      const version = (answer.body as { version?: unknown } | null)?.version;
      await this.deps.state.acknowledge([{ opId: op.opId, applied: true }]);
      if (typeof version === "number") await this.deps.state.setServerVersion(op.entityType, op.entityId, version, op.payload ?? null, false);
      lane.backoff.reset();
      this.deps.status.pushed([10], this.deps.clock.now());
      return 0;
    } catch (error) {
      const info = errorInfo(error, this.deps.clock.now());
      this.deps.status.failed(info, [op.priority]);
      if (error instanceof PaysyncHttpError && (error.status === 400 || error.status === 413)) {
        const failed = await this.deps.state.fail([op.opId], info);
        this.deps.onFailed(failed);
        return 0;
      }
      return this.hold(lane);
    } finally {
      this.inFlight.delete(op.opId);
    }
  }

  private select(lane: Lane, now: number): { batch: QueuedOp[]; waitMs: number | null } {
    const queued = this.deps.state.pending().filter((op) => !this.inFlight.has(op.opId));
    const busy = new Set(this.deps.state.pending().filter((op) => this.inFlight.has(op.opId)).map((op) => `${op.entityType}/${op.entityId}`));
    const ordered = sendOrder(queued.map((op) => ({ ...op, entityKey: `${op.entityType}/${op.entityId}` })));
    const mine = ordered.filter((op) => (lane.name === "crisis" ? op.sendPriority >= CRISIS_PRIORITY : op.sendPriority < CRISIS_PRIORITY));
    const limited = now < lane.limitedUntil;
    const blockedEntities = new Set(busy);
    const candidates: typeof mine = [];
    for (const op of mine) {
      if (blockedEntities.has(op.entityKey)) continue;
      if (limited && op.sendPriority < EXEMPT_PRIORITY) {
        blockedEntities.add(op.entityKey);
        continue;
      }
      candidates.push(op);
    }
    if (candidates.length === 0) {
      const waitingOnLimit = limited && mine.some((op) => op.sendPriority < EXEMPT_PRIORITY && !busy.has(op.entityKey));
      return { batch: [], waitMs: waitingOnLimit ? lane.limitedUntil - now : null };
    }
    const state = lane.isolate > 0 ? { ...lane.batch, items: 1 } : lane.batch;
    const { count } = planBatch(state, candidates.map((op) => op.bytes), this.deps.batching);
    return { batch: candidates.slice(0, count), waitMs: 0 };
  }

  private async push(lane: Lane, batch: QueuedOp[]): Promise<number | null> {
    const { clock, transport, status } = this.deps;
    const ops = batch.map((op) => ({
      opId: op.opId, entityType: op.entityType, entityId: op.entityId, action: op.action, baseVersion: op.baseVersion,
      ...(op.payload !== undefined ? { payload: op.payload } : {}), clientTime: op.clientTime,
    }));
    const bytes = batch.reduce((sum, op) => sum + op.bytes, 0);
    const started = clock.now();
    try {
      const answer = await transport.request({
        method: "POST", path: "/v1/sync/push", headers: { "x-device-id": this.deps.deviceId }, body: { ops },
        compress: true, timeoutMs: this.deps.timeoutMs,
      });
      lane.batch = observeBatch(lane.batch, { items: batch.length, bytes, durationMs: answer.durationMs, outcome: "ok" }, this.deps.batching);
      const { results } = PushResponseSchema.parse(answer.body);
      const retryAfterMs = parseRetryAfter(answer.headers.get("retry-after"), clock.now());
      return await this.settle(lane, batch, results, retryAfterMs);
    } catch (error) {
      const durationMs = clock.now() - started;
      const timedOut = error instanceof PaysyncNetworkError && error.timedOut;
      lane.batch = observeBatch(lane.batch, { items: batch.length, bytes, durationMs, outcome: timedOut ? "timeout" : "error" }, this.deps.batching);
      const info = errorInfo(error, clock.now());
      status.failed(info, new Set(batch.map((op) => op.priority)));
      return this.onError(lane, batch, error, info);
    }
  }

  /** Acts on per-op results; answers when to run the lane again. */
  private async settle(lane: Lane, batch: QueuedOp[], results: PushResult[], retryAfterMs: number | null): Promise<number | null> {
    const now = this.deps.clock.now();
    const byId = new Map(results.map((r) => [r.opId, r]));
    const acks: Array<{ opId: string; applied: boolean }> = [];
    const priorities = new Set<number>();
    let rejected = false;
    let conflict = false;
    for (const op of batch) {
      const result = byId.get(op.opId);
      if (!result) continue;
      if (result.status === "rejected") {
        rejected = true;
        continue;
      }
      acks.push({ opId: op.opId, applied: result.status !== "conflict" });
      priorities.add(result.priority);
      if (result.status === "conflict") conflict = true;
    }
    await this.deps.state.acknowledge(acks);
    if (acks.length > 0) {
      lane.backoff.reset();
      if (lane.isolate > 0) lane.isolate -= 1;
      this.deps.status.pushed(priorities, now);
    }
    if (conflict) this.deps.onConflict();
    if (rejected) lane.limitedUntil = now + (retryAfterMs ?? DEFAULT_RETRY_AFTER_MS);
    const unanswered = batch.length - acks.length - batch.filter((op) => byId.get(op.opId)?.status === "rejected").length;
    // An answer that leaves ops out is a server fault: retry them, but not in a tight loop.
    if (unanswered > 0) return this.hold(lane);
    return 0;
  }

  private async onError(lane: Lane, batch: QueuedOp[], error: unknown, info: SyncErrorInfo): Promise<number | null> {
    const now = this.deps.clock.now();
    if (error instanceof UpgradeRequiredError) {
      this.deps.onUpgradeRequired(error);
      return null;
    }
    if (!(error instanceof PaysyncHttpError)) return this.hold(lane);
    if (error.status === 429) {
      const details = LimitDetailsSchema.safeParse(error.details);
      const results = details.success ? (details.data.results ?? []) : [];
      const wait = error.retryAfterMs ?? (details.success && details.data.retryAfterSeconds !== undefined ? details.data.retryAfterSeconds * 1000 : DEFAULT_RETRY_AFTER_MS);
      if (results.length > 0) await this.settle(lane, batch, results, wait);
      lane.limitedUntil = now + wait;
      if (batch.some((op) => op.priority >= EXEMPT_PRIORITY)) lane.holdUntil = now + wait;
      return 0;
    }
    if (error.status === 404) {
      await this.deps.reregister().catch(() => undefined);
      return this.hold(lane);
    }
    if (error.status === 413 || error.status === 400) {
      const named = error.status === 413 ? tooLargeIds(error.details) : invalidIds(error.details, batch);
      const culprits = named.length > 0 ? named : batch.length === 1 ? [batch[0]!.opId] : [];
      if (culprits.length > 0) {
        const failed = await this.deps.state.fail(culprits, info);
        if (failed.length === 0) return this.hold(lane);
        this.deps.onFailed(failed);
        return 0;
      }
      // Which op? Send them one at a time until each has an answer.
      lane.isolate = batch.length;
      return 0;
    }
    return this.hold(lane);
  }

  private hold(lane: Lane): number {
    const wait = lane.backoff.next();
    lane.holdUntil = this.deps.clock.now() + wait;
    return wait;
  }
}

function tooLargeIds(details: unknown): string[] {
  const parsed = TooLargeDetailsSchema.safeParse(details);
  return parsed.success ? (parsed.data.ops ?? []).map((op) => op.opId) : [];
}

/** zod issues of a 400 point at `ops.<index>`: those ops, by id. */
function invalidIds(details: unknown, batch: readonly QueuedOp[]): string[] {
  if (!Array.isArray(details)) return [];
  const ids = new Set<string>();
  for (const issue of details as Array<{ path?: unknown }>) {
    const path = Array.isArray(issue?.path) ? issue.path : [];
    if (path[0] === "ops" && typeof path[1] === "number" && batch[path[1]]) ids.add(batch[path[1]]!.opId);
  }
  return [...ids];
}
