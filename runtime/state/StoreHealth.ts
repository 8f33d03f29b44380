/**
 * Whether a server store answers. A write or read that finds the server
 * unreachable marks it down; from then on a probe (`ping`) runs with backoff
 * (200 ms doubling to 5 s) until the server answers again, and any write that
 * succeeds marks it up as well. The runtime shows the state in the status and
 * `/readyz`, raises the `storeDown` alert, and retries what failed once it is up.
 */
import { Emitter, type Disposable } from '../protocol/emitter.ts';

export interface StoreHealthState {
  state: 'up' | 'down';
  error?: string;
  /** Epoch ms it went down. */
  downSince?: number;
}

export class StoreHealth {
  private current: StoreHealthState = { state: 'up' };
  private changes = new Emitter<StoreHealthState>();
  private timer: NodeJS.Timeout | undefined;
  private delay = 200;
  private closed = false;

  constructor(private readonly ping: () => Promise<void>) {}

  get state(): StoreHealthState {
    return this.current;
  }

  onChange(listener: (s: StoreHealthState) => void): Disposable {
    return this.changes.event(listener);
  }

  /** The server did not answer: down, and probing until it does. */
  down(error: Error): void {
    if (this.closed) return;
    if (this.current.state === 'down') {
      this.current = { ...this.current, error: error.message };
      return;
    }
    this.current = { state: 'down', error: error.message, downSince: Date.now() };
    this.delay = 200;
    this.changes.fire(this.current);
    this.schedule();
  }

  /** The server answered. */
  up(): void {
    if (this.current.state === 'up') return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.current = { state: 'up' };
    this.changes.fire(this.current);
  }

  private schedule() {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.ping().then(
        () => this.up(),
        (e: Error) => {
          if (this.current.state === 'down') this.current = { ...this.current, error: e.message };
          this.delay = Math.min(this.delay * 2, 5000);
          this.schedule();
        },
      );
    }, this.delay);
    this.timer.unref();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
