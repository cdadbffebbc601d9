/**
 * A per-key gate: at most `limit` calls of one key run at once, the rest wait their turn in
 * arrival order. The crisis function puts each user's calls through one, so one user's burst
 * (many devices, retries) queues behind itself instead of taking every slot of the function,
 * and one user's writes run one after another instead of racing each other's transactions.
 * Nothing is ever refused: a waiting call only waits.
 *
 * @example
 * const writes = new KeyedGate(1);
 * await writes.run(userKey, () => commitActivation());
 */
export class KeyedGate {
  private readonly running = new Map<string, { active: number; waiting: (() => void)[] }>();

  constructor(private readonly limit: number) {}

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const slot = this.running.get(key) ?? { active: 0, waiting: [] };
    this.running.set(key, slot);
    if (slot.active >= this.limit) await new Promise<void>((turn) => slot.waiting.push(turn));
    else slot.active++;
    try {
      return await work();
    } finally {
      const next = slot.waiting.shift();
      // The slot passes straight to the next waiter; the key is forgotten once nobody holds it.
      if (next) next();
      else if (--slot.active === 0) this.running.delete(key);
    }
  }

  /** Keys with a call running or waiting (for tests and metrics). */
  get size(): number {
    return this.running.size;
  }
}

/**
 * Coalesces one key's concurrent reads. A caller joins a read that has not started yet, or
 * schedules one that starts when the running read ends: every caller gets a read that began
 * after it arrived (never an older answer), and a burst of N callers of one key costs about
 * two reads instead of N. Errors reach every caller of that read.
 *
 * @example
 * const views = new KeyedCoalescer((userKey) => readCrisisView(userKey));
 * const view = await views.get(userKey);
 */
export class KeyedCoalescer<T> {
  private readonly slots = new Map<string, { running?: Promise<T>; queued?: Promise<T> }>();

  constructor(private readonly read: (key: string) => Promise<T>) {}

  get(key: string): Promise<T> {
    const slot = this.slots.get(key) ?? {};
    this.slots.set(key, slot);
    if (slot.queued) return slot.queued;
    const previous = slot.running;
    const own: { read?: Promise<T> } = {};
    own.read = (async () => {
      await (previous ? previous.then(() => undefined, () => undefined) : Promise.resolve());
      // Started: callers arriving from now on need a read of their own.
      if (slot.queued === own.read) slot.queued = undefined;
      slot.running = own.read;
      try {
        return await this.read(key);
      } finally {
        if (slot.running === own.read && slot.queued === undefined && this.slots.get(key) === slot) this.slots.delete(key);
      }
    })();
    const mine = own.read;
    if (previous) slot.queued = mine;
    else slot.running = mine;
    return mine;
  }

  /** Keys with a read running or queued (for tests). */
  get size(): number {
    return this.slots.size;
  }
}
