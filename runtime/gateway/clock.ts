/**
 * Time as the gateway sees it — retry delays, per-attempt timeouts, the call
 * budget, the breakers' open periods and latencies — is the runtime's one
 * clock (`../clock.ts`). Tests that must not wait out retry delays use a
 * `SteppingClock`, whose `sleep` records the delay and moves time on.
 */
import type { Clock } from '../clock.ts';

export { systemClock, sleep, type Clock } from '../clock.ts';

/**
 * A clock whose `sleep` returns at once and advances the clock by the time
 * slept, recording each sleep. Timers (per-attempt timeouts) stay real, so a
 * test against a real server keeps its short timeouts meaningful.
 */
export class SteppingClock implements Clock {
  private offset = 0;
  /** Every sleep requested, in order. */
  readonly sleeps: number[] = [];
  now(): number {
    return performance.now() + this.offset;
  }
  sleep(ms: number, _signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    this.offset += ms;
    return new Promise((resolve) => setImmediate(resolve));
  }
  /** Moves time forward without a sleep (past a breaker's open period, or a budget). */
  advance(ms: number): void {
    this.offset += ms;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    return setTimeout(fn, ms);
  }
  clearTimeout(handle: unknown): void {
    clearTimeout(handle as NodeJS.Timeout);
  }
}
