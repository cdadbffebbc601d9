/**
 * Priority isolation of the local lanes. In AWS each lane's event source mapping has a
 * concurrency of its own and DynamoDB scales out, so a background flood cannot slow a realtime
 * op; locally every lane shares two cores and one DynamoDB Local. The gate turns each lane's
 * concurrency into its local share and orders the lanes by priority (highest first):
 *
 * - a lane runs at most `share` batches at once; the highest lane's share is always its own;
 * - a lower lane starts no batch while a higher lane has a batch running or waiting: it yields;
 * - a lower lane that has yielded `maxYieldMs` starts one batch anyway (within its share), so a
 *   sustained higher load slows background work but never parks it.
 *
 * Pollers receive first and ask the gate before invoking the consumer: an idle higher lane
 * (long-polling an empty queue) holds nothing back.
 *
 * @example
 * const gate = new PriorityGate([{ lane: "Realtime", share: 10 }, { lane: "Background", share: 2 }]);
 * const release = await gate.acquire("Background");
 * try { await invoke(batch); } finally { release(); }
 */
export interface GateLane<L extends string> {
  lane: L;
  /** Batches the lane may run at once. */
  share: number;
}

export interface PriorityGateOptions {
  /** How long a lower lane yields at most before one of its batches starts anyway. */
  maxYieldMs?: number;
  setTimer?: (run: () => void, ms: number) => unknown;
}

interface Waiter {
  resolve(release: () => void): void;
  overdue: boolean;
}

export class PriorityGate<L extends string> {
  readonly #order: L[];
  readonly #share = new Map<L, number>();
  readonly #running = new Map<L, number>();
  readonly #waiting = new Map<L, Waiter[]>();
  readonly #maxYieldMs: number;
  readonly #setTimer: (run: () => void, ms: number) => unknown;

  /** `lanes` highest priority first. */
  constructor(lanes: GateLane<L>[], options: PriorityGateOptions = {}) {
    this.#order = lanes.map((l) => l.lane);
    for (const { lane, share } of lanes) {
      this.#share.set(lane, Math.max(1, share));
      this.#running.set(lane, 0);
      this.#waiting.set(lane, []);
    }
    this.#maxYieldMs = options.maxYieldMs ?? 2_000;
    this.#setTimer = options.setTimer ?? ((run, ms) => setTimeout(run, ms).unref());
  }

  /** Resolves with a release function once the lane may run one batch. */
  acquire(lane: L): Promise<() => void> {
    return new Promise((resolve) => {
      const waiter: Waiter = { resolve, overdue: false };
      this.#waitersOf(lane).push(waiter);
      this.#drain();
      if (this.#waitersOf(lane).includes(waiter)) {
        this.#setTimer(() => {
          waiter.overdue = true;
          this.#drain();
        }, this.#maxYieldMs);
      }
    });
  }

  /** Batches running now, per lane (for tests and the ops view). */
  running(lane: L): number {
    return this.#running.get(lane) ?? 0;
  }

  #waitersOf(lane: L): Waiter[] {
    const waiters = this.#waiting.get(lane);
    if (!waiters) throw new Error(`lane ${lane} is not gated`);
    return waiters;
  }

  #busy(lane: L): boolean {
    return this.running(lane) > 0 || this.#waitersOf(lane).length > 0;
  }

  /** Starts every waiter the rules allow, highest lane first. */
  #drain(): void {
    for (const [rank, lane] of this.#order.entries()) {
      const waiters = this.#waitersOf(lane);
      const higherBusy = this.#order.slice(0, rank).some((higher) => this.#busy(higher));
      while (waiters.length > 0 && this.running(lane) < (this.#share.get(lane) ?? 1)) {
        const next = waiters[0]!;
        if (higherBusy && !next.overdue) break;
        waiters.shift();
        this.#start(lane, next);
      }
    }
  }

  #start(lane: L, waiter: Waiter): void {
    this.#running.set(lane, this.running(lane) + 1);
    let released = false;
    waiter.resolve(() => {
      if (released) return;
      released = true;
      this.#running.set(lane, this.running(lane) - 1);
      this.#drain();
    });
  }
}
