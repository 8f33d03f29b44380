/**
 * What the health registry knows about one dependency: outcomes and
 * latencies of its recent attempts, counters, the last error and the cost.
 * Fixed-size rings, so recording is O(1) and memory is bounded.
 */
import { percentile } from '../observability/percentiles.ts';

export interface LastErrorInfo { type: string; message: string; time: string }

/** Attempts the error rate and the latency percentiles are measured over. */
export const HEALTH_WINDOW = 100;

export class HealthStats {
  private readonly outcomes = new Uint8Array(HEALTH_WINDOW);
  private readonly latencies = new Float64Array(HEALTH_WINDOW);
  private next = 0;
  private filled = 0;
  private failuresInWindow = 0;

  calls = 0;
  attempts = 0;
  retries = 0;
  failures = 0;
  /** Calls failed at once by an open breaker, never made. */
  rejected = 0;
  degraded = 0;
  promptTokens = 0;
  completionTokens = 0;
  cost = 0;
  lastError?: LastErrorInfo;

  /** Records one attempt's outcome. */
  record(ok: boolean, latencyMs: number): void {
    this.attempts += 1;
    const i = this.next;
    if (this.filled === HEALTH_WINDOW && this.outcomes[i] === 0) this.failuresInWindow -= 1;
    this.outcomes[i] = ok ? 1 : 0;
    if (!ok) this.failuresInWindow += 1;
    this.latencies[i] = latencyMs;
    this.next = (i + 1) % HEALTH_WINDOW;
    if (this.filled < HEALTH_WINDOW) this.filled += 1;
  }

  /** Share of failed attempts among the last HEALTH_WINDOW. */
  get errorRate(): number {
    return this.filled === 0 ? 0 : this.failuresInWindow / this.filled;
  }

  /** Latency percentile (0..1) over the last HEALTH_WINDOW attempts, in ms; undefined before any. */
  latency(p: number): number | undefined {
    if (this.filled === 0) return undefined;
    const sorted = this.latencies.slice(0, this.filled).sort();
    return Math.round(percentile(sorted, p) * 10) / 10;
  }

  /** Resets the window (a manual breaker reset starts the dependency afresh). */
  clearWindow(): void {
    this.outcomes.fill(0);
    this.next = 0;
    this.filled = 0;
    this.failuresInWindow = 0;
  }
}
