/**
 * The backoffs of reconnecting to the runtime and of restarting it (the one
 * backoff of runtime/protocol/backoff.ts), plus the restart budget (OTP's
 * intensity/period) that stops a runtime which dies at once from being
 * restarted forever.
 */
import type { BackoffOptions } from '../../../runtime/protocol/backoff.ts';

export { backoffDelay, type BackoffOptions } from '../../../runtime/protocol/backoff.ts';

export const RECONNECT_BACKOFF: BackoffOptions = { baseMs: 250, maxMs: 10_000, factor: 2, jitter: 0.2 };
export const RESTART_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 15_000, factor: 2, jitter: 0.2 };

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
