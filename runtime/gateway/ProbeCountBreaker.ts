/**
 * The breaker's decision rule, plugged into cockatiel's CircuitBreakerPolicy:
 * a count window (cockatiel's CountBreaker) plus the N-probe rule.
 *
 * cockatiel 3.2 closes a half-open breaker after one successful probe. We let
 * it, then keep `probesLeft` more probes pending: while any is pending the
 * breaker still reads as half-open (see DependencyBreaker), and any failure
 * reopens it (returning true from `failure` in the Closed state makes
 * cockatiel open). `DependencyBreaker` counts the successful probes down.
 */
import { CircuitState, CountBreaker, type IBreaker } from 'cockatiel';

export interface ProbeCountBreakerState {
  window: unknown;
  probesLeft: number;
}

export class ProbeCountBreaker implements IBreaker {
  private readonly window: CountBreaker;
  /** Successful probes still needed before the breaker counts as closed. */
  probesLeft = 0;

  constructor(opts: { failureRatio: number; window: number; minimumCalls: number }) {
    // CountBreaker opens when failures exceed `threshold` of the window; the
    // config says "opens at failureRatio", so shave an epsilon to make it >=.
    // (The epsilon also keeps a ratio of 1 inside CountBreaker's open interval.)
    this.window = new CountBreaker({ threshold: opts.failureRatio - 1e-9, size: opts.window, minimumNumberOfCalls: opts.minimumCalls });
  }

  get state(): ProbeCountBreakerState {
    return { window: this.window.state, probesLeft: this.probesLeft };
  }

  set state(value: unknown) {
    const v = value as Partial<ProbeCountBreakerState> | undefined;
    if (v?.window) this.window.state = v.window;
    this.probesLeft = typeof v?.probesLeft === 'number' && v.probesLeft > 0 ? v.probesLeft : 0;
  }

  success(state: CircuitState): void {
    this.window.success(state);
  }

  failure(state: CircuitState): boolean {
    if (state === CircuitState.Closed && this.probesLeft > 0) {
      this.probesLeft = 0;
      this.window.failure(state);
      return true;
    }
    return this.window.failure(state);
  }
}
