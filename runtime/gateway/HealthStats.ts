/**
 * What the health registry knows about one dependency: the outcomes of its
 * recent calls, the latencies of its recent attempts, counters, the last
 * error and the cost. Fixed-size rings, so recording is O(1) and memory is
 * bounded.
 *
 * The error rate is per call, as everywhere in Faultline (the breaker's
 * failure ratio, the `errorRate` alert, the reliability summary): a call,
 * however many attempts it took, is one sample; a call the open breaker
 * refused counts as failed, one its caller aborted does not count.
 */
import { percentile } from '../observability/percentiles.ts';

export interface LastErrorInfo { type: string; message: string; time: string }

/** Calls the error rate, and attempts the latency percentiles, are measured over. */
export const HEALTH_WINDOW = 100;

export class HealthStats {
  private readonly outcomes = new Uint8Array(HEALTH_WINDOW);
  private nextCall = 0;
  private callsInWindow = 0;
  private failuresInWindow = 0;
  private readonly latencies = new Float64Array(HEALTH_WINDOW);
  private nextAttempt = 0;
  private attemptsInWindow = 0;

  calls = 0;
  attempts = 0;
  retries = 0;
  failures = 0;
  /** Calls failed at once by an open breaker, never made. */
  rejected = 0;
  degraded = 0;
  /** MCP calls answered with a tool error (`isError: true`): answers, so not failures. */
  toolErrors = 0;
  promptTokens = 0;
  completionTokens = 0;
  cost = 0;
  lastError?: LastErrorInfo;

  /** Records one attempt's latency (whatever its outcome). */
  attempt(latencyMs: number): void {
    this.attempts += 1;
    this.latencies[this.nextAttempt] = latencyMs;
    this.nextAttempt = (this.nextAttempt + 1) % HEALTH_WINDOW;
    if (this.attemptsInWindow < HEALTH_WINDOW) this.attemptsInWindow += 1;
  }

  /** Records how one call ended: answered, or failed (after its retries, or refused by the breaker). */
  callEnded(ok: boolean): void {
    const i = this.nextCall;
    if (this.callsInWindow === HEALTH_WINDOW && this.outcomes[i] === 0) this.failuresInWindow -= 1;
    this.outcomes[i] = ok ? 1 : 0;
    if (!ok) this.failuresInWindow += 1;
    this.nextCall = (i + 1) % HEALTH_WINDOW;
    if (this.callsInWindow < HEALTH_WINDOW) this.callsInWindow += 1;
  }

  /** Share of failed calls among the last HEALTH_WINDOW. */
  get errorRate(): number {
    return this.callsInWindow === 0 ? 0 : this.failuresInWindow / this.callsInWindow;
  }

  /** Latency percentile (0..1) over the last HEALTH_WINDOW attempts, in ms; undefined before any. */
  latency(p: number): number | undefined {
    if (this.attemptsInWindow === 0) return undefined;
    const sorted = this.latencies.slice(0, this.attemptsInWindow).sort();
    return Math.round(percentile(sorted, p) * 10) / 10;
  }

  /** Resets the windows (a manual breaker reset starts the dependency afresh). */
  clearWindow(): void {
    this.outcomes.fill(0);
    this.nextCall = this.callsInWindow = this.failuresInWindow = 0;
    this.nextAttempt = this.attemptsInWindow = 0;
  }
}
