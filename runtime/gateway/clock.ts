/**
 * Time as the gateway sees it: retry delays, per-attempt timeouts, the call
 * budget, the breakers' open periods and latencies. Injected so tests can
 * skip delays (a `SteppingClock` records them and moves on) instead of sleeping.
 */
export interface Clock {
  /** Monotonic milliseconds. */
  now(): number;
  /** Resolves after `ms`, or at once when `signal` aborts (it never rejects: the caller checks the signal). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const done = () => {
        clearTimeout(t);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const t = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
    }),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

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
