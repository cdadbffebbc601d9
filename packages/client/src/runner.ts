/**
 * One background task that runs at most once at a time: `kick()` runs it now (or right after
 * the current run), and the task itself says when it wants to run next (a poll interval, a
 * back-off, a `Retry-After`) or `null` to wait for the next kick. Timers come from the injected
 * clock. Holds (back-off, Retry-After) are the task's business: a kick during one runs the task,
 * which sees the hold and answers the time left.
 *
 * @example
 * const runner = new Runner(clock, async () => (await pullOnce()) ? 0 : minIntervalMs, report);
 * runner.kick();
 */
import type { Clock, TimerHandle } from "./platform.js";

export class Runner {
  private running: Promise<void> | null = null;
  private rerun = false;
  private timer: TimerHandle | null = null;
  private timerAt = Number.POSITIVE_INFINITY;
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly task: () => Promise<number | null>,
    private readonly onError: (error: unknown) => void,
  ) {}

  kick(): void {
    this.schedule(0);
  }

  /** Runs the task in `delayMs` unless something earlier is already due. */
  schedule(delayMs: number): void {
    if (this.stopped) return;
    if (delayMs <= 0) {
      if (this.running) {
        this.rerun = true;
        return;
      }
      this.clearTimer();
      this.running = this.run();
      return;
    }
    const at = this.clock.now() + delayMs;
    if (at >= this.timerAt) return;
    this.clearTimer();
    this.timerAt = at;
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      this.timerAt = Number.POSITIVE_INFINITY;
      this.schedule(0);
    }, delayMs);
  }

  /** True while the task runs. */
  get busy(): boolean {
    return this.running !== null;
  }

  /** Resolves once no run is under way or due at once (timers for later do not count). */
  async whenIdle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Stops scheduling and waits for a run under way to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clearTimer();
    await this.running;
  }

  /** Allows scheduling again after `stop()`. */
  restart(): void {
    this.stopped = false;
  }

  private async run(): Promise<void> {
    this.rerun = false;
    let next: number | null = null;
    try {
      next = await this.task();
    } catch (error) {
      this.onError(error);
    }
    this.running = null;
    if (this.stopped) return;
    if (this.rerun) this.schedule(0);
    else if (next !== null) this.schedule(next);
  }

  private clearTimer(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = Number.POSITIVE_INFINITY;
  }
}
