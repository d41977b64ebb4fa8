/**
 * The benchmark harness. Every figure is printed beside a baseline measured in the same run, on the
 * same machine, so a ratio means something even on a noisy 2-core box. A figure is never an assertion.
 */
export interface Figure {
  /** What was measured, e.g. "classify (dev cases cycled)". */
  name: string;
  value: number;
  /** e.g. "calls/s", "ms p99", "MiB". */
  unit: string;
  /** true when a larger value is better (throughput), false when smaller is (latency, memory). */
  higherIsBetter: boolean;
  baseline: { name: string; value: number };
  /** Optional target ratio against the baseline, printed for the reader; never enforced. */
  targetRatio?: number;
  notes?: string;
}

export interface Bench {
  /** Section name in the table, e.g. "rules". */
  name: string;
  /** Services the bench needs; the harness skips it (and says why) when one is not configured. */
  needs?: Array<'kafka' | 'postgres' | 'redis'>;
  run(): Promise<Figure[]>;
}

/** value / baseline for higher-is-better figures, baseline / value otherwise: > 1 means we beat it. */
export function ratio(f: Figure): number {
  if (f.baseline.value === 0 || f.value === 0) return 0;
  return f.higherIsBetter ? f.value / f.baseline.value : f.baseline.value / f.value;
}

/** Runs `fn` repeatedly for about `ms` milliseconds and returns operations per second. */
export function opsPerSecond(fn: (i: number) => void, ms = 2000): number {
  // Warm up so the JIT has compiled the hot path before we time it.
  const warmEnd = performance.now() + Math.min(500, ms / 4);
  let i = 0;
  while (performance.now() < warmEnd) fn(i++);
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let k = 0; k < 100; k++) fn(n++);
    now = performance.now();
  }
  return (n * 1000) / (now - start);
}

/** Runs async `fn` with `concurrency` workers for about `ms` milliseconds; returns operations per second. */
export async function asyncOpsPerSecond(
  fn: (i: number) => Promise<unknown>,
  { ms = 2000, concurrency = 8 }: { ms?: number; concurrency?: number } = {},
): Promise<number> {
  let n = 0;
  const run = async (until: number) => {
    while (performance.now() < until) await fn(n++);
  };
  await Promise.all(
    Array.from({ length: concurrency }, () => run(performance.now() + Math.min(300, ms / 4))),
  );
  n = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, () => run(start + ms)));
  return (n * 1000) / (performance.now() - start);
}
