/**
 * The runtime's one clock: the shape of xstate's scheduler clock
 * (`setTimeout`/`clearTimeout`, which the lifecycle actors' delayed
 * transitions run on) plus `now()`. Every timer and timestamp of the
 * supervision tree and the gateway goes through one instance of it, so tests
 * hand in xstate's `SimulatedClock` and move time with `increment(ms)`
 * instead of sleeping.
 */

/** xstate's `Clock` (what `createActor(…, { clock })` takes) plus the current time. */
export interface Clock {
  /** Milliseconds; the system clock's are epoch ms (restart windows are persisted, start times shown as ISO dates). */
  now(): number;
  setTimeout(fn: (...args: any[]) => void, ms: number): any;
  clearTimeout(id: any): void;
}

/**
 * Real time: epoch milliseconds that never go backwards within the process
 * (`performance.timeOrigin + performance.now()`), with sub-millisecond
 * resolution for latencies.
 */
export const systemClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id),
};

/**
 * Resolves after `ms` on `clock`, or at once when `signal` aborts (it never
 * rejects: the caller checks the signal).
 */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clock.clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = clock.setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
