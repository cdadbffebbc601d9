/**
 * Virtual time for client tests: timers run only when a test advances the clock, in due order,
 * with pending promise work drained between them, so back-off, polling and watchdogs are
 * deterministic and take no real time.
 */
import type { Clock } from "@paysync/client/platform";

/** Lets every promise continuation that is ready run (several macrotask turns). */
export async function flush(turns = 3): Promise<void> {
  for (let i = 0; i < turns; i += 1) await new Promise<void>((resolve) => setImmediate(resolve));
}

interface Timer {
  id: number;
  at: number;
  fn: () => void;
}

export const T0 = Date.UTC(2025, 5, 1, 8, 0, 0);

export class FakeClock implements Clock {
  private t: number;
  private readonly timers = new Map<number, Timer>();
  private nextId = 1;

  constructor(start = T0) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): number {
    const id = this.nextId++;
    this.timers.set(id, { id, at: this.t + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** Due times of the pending timers, relative to now. */
  pending(): number[] {
    return [...this.timers.values()].map((t) => t.at - this.t).sort((a, b) => a - b);
  }

  /** Moves time forward by `ms`, running every timer that falls due, in order. */
  async advance(ms: number): Promise<void> {
    const target = this.t + ms;
    for (;;) {
      await flush();
      const next = [...this.timers.values()].filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!next) break;
      this.timers.delete(next.id);
      this.t = next.at;
      next.fn();
    }
    this.t = target;
    await flush();
  }

  /** Advances in steps until `done()` holds; fails after `maxMs` of virtual time. */
  async until(done: () => boolean, maxMs = 600_000, stepMs = 50): Promise<void> {
    const limit = this.t + maxMs;
    await flush();
    while (!done()) {
      if (this.t >= limit) throw new Error(`condition not met within ${maxMs} ms of virtual time`);
      await this.advance(stepMs);
    }
  }
}

export function sequenceRandom(values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length]!;
}
