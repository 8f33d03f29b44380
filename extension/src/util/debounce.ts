import { realTimers, type Timers } from './timers.ts';
import type { Disposable } from './emitter.ts';

export interface Debounced extends Disposable {
  /** Asks for a run; runs once `waitMs` after the last ask, or `maxWaitMs` after the first. */
  schedule(): void;
  /** Runs now if a run is pending. */
  flush(): void;
  readonly pending: boolean;
}

/**
 * Trailing debounce with a ceiling: a steady stream of runtime events still
 * gives an update every `maxWaitMs` instead of starving the views.
 */
export function debounce(fn: () => void, waitMs: number, o: { maxWaitMs?: number; timers?: Timers } = {}): Debounced {
  const timers = o.timers ?? realTimers;
  const maxWait = o.maxWaitMs ?? waitMs * 4;
  let timer: unknown;
  let firstAsk: number | undefined;
  let disposed = false;

  const run = () => {
    if (timer !== undefined) timers.clearTimeout(timer);
    timer = undefined;
    firstAsk = undefined;
    fn();
  };
  return {
    schedule() {
      if (disposed) return;
      const now = timers.now();
      firstAsk ??= now;
      if (timer !== undefined) timers.clearTimeout(timer);
      const delay = Math.max(0, Math.min(waitMs, firstAsk + maxWait - now));
      timer = timers.setTimeout(run, delay);
    },
    flush() {
      if (timer !== undefined) run();
    },
    get pending() {
      return timer !== undefined;
    },
    dispose() {
      disposed = true;
      if (timer !== undefined) timers.clearTimeout(timer);
      timer = undefined;
    },
  };
}
