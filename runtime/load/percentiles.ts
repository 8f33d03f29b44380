/** Latency summaries: nearest-rank percentiles over the recorded samples. */

export interface Percentiles { n: number; mean: number; p50: number; p90: number; p99: number; max: number; min: number }

const r1 = (x: number) => Math.round(x * 10) / 10;

/** Nearest-rank percentiles (the value at or above p of the samples); undefined for no samples. */
export function percentiles(samples: readonly number[]): Percentiles | undefined {
  if (!samples.length) return undefined;
  const s = [...samples].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
  const sum = s.reduce((a, b) => a + b, 0);
  return { n: s.length, mean: r1(sum / s.length), p50: r1(at(0.5)), p90: r1(at(0.9)), p99: r1(at(0.99)), max: r1(s[s.length - 1]), min: r1(s[0]) };
}
