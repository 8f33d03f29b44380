/**
 * Counts, failures and a latency histogram over the last `windowMs`, for the
 * alert rules and the reliability summary. Time is whatever the caller passes
 * (a simulated clock in tests). Memory is bounded whatever the traffic: the
 * window is a ring of time slots, each with a log-scale latency histogram, so
 * a p95 costs a sum over the slots instead of a sort of every sample. The
 * percentile is the one nearest-rank definition (percentiles.ts), estimated
 * within the bucket that holds that rank.
 */
import { nearestRank } from './percentiles.ts';

// Latency buckets grow by 10 %: 1 ms .. ~1 h in 160 buckets; with linear
// interpolation inside a bucket the p95 is within a few percent, plenty for
// a threshold alert.
const GROWTH = 1.1;
const LOG_GROWTH = Math.log(GROWTH);
const MIN_MS = 1;
const BUCKETS = Math.ceil(Math.log(3_600_000 / MIN_MS) / LOG_GROWTH) + 2;
const upperBound = (i: number) => (i === 0 ? MIN_MS : MIN_MS * GROWTH ** i);

function bucketOf(ms: number): number {
  if (!(ms > MIN_MS)) return 0;
  return Math.min(BUCKETS - 1, Math.ceil(Math.log(ms / MIN_MS) / LOG_GROWTH));
}

interface Slot {
  /** Absolute slot number (time / slotMs); a stale slot is reset on reuse. */
  at: number;
  count: number;
  errors: number;
  latencies: number;
  maxMs: number;
  hist: Uint32Array | null;
}

export interface WindowStats {
  count: number;
  errors: number;
  /** errors / count, 0 when empty. */
  errorRate: number;
  /** Observations that carried a latency. */
  latencies: number;
  /** 95th percentile latency in ms, null when no latency was observed. */
  p95Ms: number | null;
  maxMs: number | null;
}

export class SlidingWindow {
  readonly slotMs: number;
  private readonly ring: Slot[];

  /** @param slots resolution: the window slides in steps of windowMs / slots. */
  constructor(readonly windowMs: number, slots = 60) {
    this.slotMs = Math.max(1, Math.ceil(windowMs / slots));
    this.ring = Array.from({ length: slots }, () => ({ at: -1, count: 0, errors: 0, latencies: 0, maxMs: 0, hist: null }));
  }

  /** Records one observation at time `now` (ms). */
  add(now: number, ok: boolean, latencyMs?: number): void {
    const at = Math.floor(now / this.slotMs);
    const slot = this.ring[at % this.ring.length];
    if (slot.at !== at) {
      slot.at = at;
      slot.count = slot.errors = slot.latencies = slot.maxMs = 0;
      slot.hist?.fill(0);
    }
    slot.count++;
    if (!ok) slot.errors++;
    if (latencyMs !== undefined && latencyMs >= 0) {
      slot.latencies++;
      if (latencyMs > slot.maxMs) slot.maxMs = latencyMs;
      (slot.hist ??= new Uint32Array(BUCKETS))[bucketOf(latencyMs)]++;
    }
  }

  /** Counts over the window ending at `now`. */
  stats(now: number, quantile = 0.95): WindowStats {
    const cur = Math.floor(now / this.slotMs);
    const oldest = cur - this.ring.length + 1;
    let count = 0;
    let errors = 0;
    let latencies = 0;
    let maxMs = 0;
    const live: Slot[] = [];
    for (const s of this.ring) {
      if (s.at < oldest || s.at > cur) continue;
      count += s.count;
      errors += s.errors;
      latencies += s.latencies;
      if (s.latencies) {
        live.push(s);
        if (s.maxMs > maxMs) maxMs = s.maxMs;
      }
    }
    let p95Ms: number | null = null;
    if (latencies) {
      // The bucket holding the nearest-rank sample; interpolated inside it.
      const rank = nearestRank(quantile, latencies);
      let seen = 0;
      for (let b = 0; b < BUCKETS && p95Ms === null; b++) {
        let n = 0;
        for (const s of live) n += s.hist![b];
        if (n && seen + n >= rank) {
          const lo = b === 0 ? 0 : upperBound(b - 1);
          p95Ms = Math.min(maxMs, lo + ((upperBound(b) - lo) * (rank - seen)) / n);
        }
        seen += n;
      }
      p95Ms ??= maxMs;
    }
    return { count, errors, errorRate: count ? errors / count : 0, latencies, p95Ms, maxMs: latencies ? maxMs : null };
  }

  /** True when nothing was observed within the window ending at `now`. */
  empty(now: number): boolean {
    const oldest = Math.floor(now / this.slotMs) - this.ring.length + 1;
    return this.ring.every((s) => s.at < oldest || s.count === 0);
  }
}
