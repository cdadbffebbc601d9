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
