/**
 * The one retry loop of the adapters: optimistic concurrency (read, decide, conditional write;
 * another writer won → read again) and DynamoDB's unprocessed batch items. Each attempt waits a
 * random pause that grows with the attempt number (full jitter), so racing writers spread out.
 *
 * @example
 * const seqs = await retrying({ retryOn: (e) => e instanceof CounterMoved }, (attempt) => append(attempt));
 */

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  /** The pause before attempt n+1 is random in [0, pauseMs · n). 0: no pause. */
  pauseMs: number;
}

/** Writers racing on one user's items: a handful of rounds settles any real contention. */
export const OPTIMISTIC: RetryPolicy = { attempts: 10, pauseMs: 10 };

/** Unprocessed items of a batch call: DynamoDB asks to back off before sending them again. */
export const UNPROCESSED: RetryPolicy = { attempts: 8, pauseMs: 20 };

export interface RetryOptions extends Partial<RetryPolicy> {
  /** Whether this failure is worth another attempt; any other error is thrown at once. */
  retryOn: (error: unknown) => boolean;
  /** What to throw when the attempts run out (default: the last error). */
  exhausted?: (lastError: unknown) => Error;
}

export const pause = (ms: number): Promise<void> => (ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms)));

export async function retrying<T>(options: RetryOptions, attempt: (n: number) => Promise<T>): Promise<T> {
  const attempts = options.attempts ?? OPTIMISTIC.attempts;
  const pauseMs = options.pauseMs ?? OPTIMISTIC.pauseMs;
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      if (!options.retryOn(error)) throw error;
      if (n >= attempts) throw options.exhausted ? options.exhausted(error) : error;
      await pause(Math.random() * pauseMs * n);
    }
  }
}
