/**
 * The one percentile definition: nearest rank (the smallest sample with at
 * least a share `q` of the samples at or below it). Load runs, drills, the
 * gateway's health figures, the alert windows and the benchmarks all use it.
 */

/** 1-based rank of the q-quantile among `n` samples (nearest rank), 1..n. */
export function nearestRank(q: number, n: number): number {
  return Math.min(n, Math.max(1, Math.ceil(q * n)));
}

/** The q-quantile (0..1) of samples sorted ascending; NaN for none. */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[nearestRank(q, sorted.length) - 1];
}

export interface Percentiles { n: number; mean: number; p50: number; p90: number; p99: number; max: number; min: number }

const r1 = (x: number) => Math.round(x * 10) / 10;

/** A latency summary of unsorted samples (rounded to 0.1); undefined for no samples. */
export function percentiles(samples: readonly number[]): Percentiles | undefined {
  if (!samples.length) return undefined;
  const s = [...samples].sort((a, b) => a - b);
  const sum = s.reduce((a, b) => a + b, 0);
  return { n: s.length, mean: r1(sum / s.length), p50: r1(percentile(s, 0.5)), p90: r1(percentile(s, 0.9)), p99: r1(percentile(s, 0.99)), max: r1(s[s.length - 1]), min: r1(s[0]) };
}
