import { backoffDelay, RECONNECT_BACKOFF, type BackoffOptions } from './backoff.ts';
import { realTimers, type Timers } from '../util/timers.ts';

/**
 * Keeps trying `attempt` with backoff until it succeeds or `stop()` is
 * called. Each success resets the backoff, so the next drop starts fast again.
 */
export class Reconnector {
  private attemptNo = 0;
  private timer: unknown;
  private running = false;
  private inFlight = false;

  constructor(
    private readonly attempt: () => Promise<boolean>,
    private readonly o: { backoff?: BackoffOptions; timers?: Timers; random?: () => number; onRetry?: (attempt: number, delayMs: number) => void } = {},
  ) {}

  get active(): boolean {
    return this.running;
  }

  /** Starts trying at once (no delay on the first attempt). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.attemptNo = 0;
    this.arm(0);
  }

  stop(): void {
    this.running = false;
    if (this.timer !== undefined) (this.o.timers ?? realTimers).clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(delay: number) {
    const timers = this.o.timers ?? realTimers;
    this.timer = timers.setTimeout(() => void this.tick(), delay);
  }

  private async tick() {
    this.timer = undefined;
    if (!this.running || this.inFlight) return;
    this.inFlight = true;
    let ok = false;
    try {
      ok = await this.attempt();
    } catch {
      ok = false;
    } finally {
      this.inFlight = false;
    }
    if (!this.running) return;
    if (ok) {
      this.running = false;
      this.attemptNo = 0;
      return;
    }
    const delay = backoffDelay(this.attemptNo++, this.o.backoff ?? RECONNECT_BACKOFF, this.o.random);
    this.o.onRetry?.(this.attemptNo, delay);
    this.arm(delay);
  }
}
