/** Small statistics for the benchmarks: percentiles over samples and medians over repeats. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

export const median = (values: readonly number[]) => percentile(values, 50);

export interface Figure {
  /** Median over the repeats of each repeat's value. */
  median: number;
  /** 99th percentile over all samples of all repeats (or over repeats for rates). */
  p99: number;
  repeats: number;
  samples: number;
  unit: string;
}

/** A latency figure: per-repeat p50s, their median, and the p99 over every sample. */
export function latencyFigure(repeats: readonly number[][], unit = "ms"): Figure & { p99PerRepeat: number } {
  const all = repeats.flat();
  return {
    median: round(median(repeats.map((r) => median(r)))),
    p99: round(percentile(all, 99)),
    p99PerRepeat: round(median(repeats.map((r) => percentile(r, 99)))),
    repeats: repeats.length,
    samples: all.length,
    unit,
  };
}

/** A rate figure (e.g. events/s) from one value per repeat. */
export function rateFigure(values: readonly number[], unit: string): Figure {
  return { median: round(median(values)), p99: round(percentile(values, 1)), repeats: values.length, samples: values.length, unit };
}

export const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

/** Runs `task` for every item with at most `limit` in flight. */
export async function pool<T>(items: readonly T[], limit: number, task: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      await task(items[index] as T, index);
    }
  });
  await Promise.all(workers);
}

export async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await work();
  return [result, performance.now() - started];
}
