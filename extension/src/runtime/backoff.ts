/**
 * Exponential backoff with jitter for reconnecting to the runtime and for
 * restarting it, plus the restart budget (OTP's intensity/period) that stops
 * a runtime which dies at once from being restarted forever.
 */
export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  factor: number;
  /** 0..1: the delay is scaled by a random factor in [1 - jitter, 1 + jitter]. */
  jitter: number;
}

export const RECONNECT_BACKOFF: BackoffOptions = { baseMs: 250, maxMs: 10_000, factor: 2, jitter: 0.2 };
export const RESTART_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 15_000, factor: 2, jitter: 0.2 };

/** The delay before attempt `attempt` (0-based). */
export function backoffDelay(attempt: number, o: BackoffOptions, random: () => number = Math.random): number {
  const raw = Math.min(o.maxMs, o.baseMs * Math.pow(o.factor, Math.max(0, attempt)));
  const scale = 1 + o.jitter * (2 * random() - 1);
  return Math.round(Math.min(o.maxMs, raw * scale));
}

/** Allows at most `limit` restarts in any `periodMs` window. */
export class RestartBudget {
  private times: number[] = [];
  constructor(readonly limit: number, readonly periodMs: number) {}

  /** Records a restart at `now`; false when that restart would exceed the budget. */
  take(now: number): boolean {
    this.times = this.times.filter((t) => now - t < this.periodMs);
    if (this.times.length >= this.limit) return false;
    this.times.push(now);
    return true;
  }

  /** How many restarts fall in the window ending at `now`. */
  used(now: number): number {
    return this.times.filter((t) => now - t < this.periodMs).length;
  }

  reset(): void {
    this.times = [];
  }
}
