/**
 * One circuit breaker per dependency: cockatiel's CircuitBreakerPolicy with
 * the N-probe rule on top, state names a person reads (closed, open,
 * half-open, isolated), and JSON state that survives a runtime restart.
 *
 * Half-open admits one probe at a time; other calls fail at once with
 * BreakerOpenError instead of queueing behind the probe (cockatiel's default),
 * so a fallback chain moves on without waiting.
 *
 * The open period is timed here, on the gateway's clock, not by cockatiel
 * (which reads Date.now()): cockatiel gets `halfOpenAfter: 0` and is only
 * called once `admit` has decided the period is over. So tests drive the
 * breaker with a simulated clock, and a restart keeps the remaining period.
 */
import { BrokenCircuitError, CircuitState, IsolatedCircuitError, circuitBreaker, handleWhen, type CircuitBreakerPolicy } from 'cockatiel';
import { BreakerOpenError } from './errors.ts';
import { ProbeCountBreaker } from './ProbeCountBreaker.ts';
import type { BreakerState } from '../protocol/status.ts';
import type { ResolvedDependency } from './policyConfig.ts';
import type { Clock } from './clock.ts';

/** How a call was admitted: a plain call, the first probe after the open period, or a later probe. */
export type Admission = 'call' | 'first-probe' | 'probe';

const STATE_VERSION = 2;

interface SavedState { v?: number; policy?: unknown; openUntil?: number }

export class DependencyBreaker {
  private policy!: CircuitBreakerPolicy;
  private rule!: ProbeCountBreaker;
  private cockatielState = CircuitState.Closed;
  /** clock.now() when the breaker last opened. */
  private openedAt = 0;
  private probeInFlight = false;
  private reported: BreakerState = 'closed';

  constructor(
    readonly id: string,
    private readonly cfg: ResolvedDependency['breaker'],
    /** Which final errors count as a failure of the dependency (others pass through unrecorded). */
    private readonly isFailure: (e: Error) => boolean,
    private readonly onTransition: (state: BreakerState, previous: BreakerState) => void,
    private readonly clock: Clock,
    initialState?: unknown,
  ) {
    this.build(initialState);
  }

  private build(initialState?: unknown): void {
    this.rule = new ProbeCountBreaker(this.cfg);
    const saved = initialState as SavedState | undefined;
    // cockatiel adopts and mutates the object it restores from: hand it a copy.
    const usable = saved?.v === STATE_VERSION && saved.policy ? structuredClone(saved.policy) : undefined;
    this.policy = circuitBreaker(handleWhen(this.isFailure), { halfOpenAfter: 0, breaker: this.rule, initialState: usable });
    this.cockatielState = this.policy.state;
    // The saved end of the open period is wall-clock time: map it onto this process's clock.
    const left = typeof saved?.openUntil === 'number' ? Math.max(0, Math.min(this.cfg.openMs, saved.openUntil - Date.now())) : 0;
    this.openedAt = this.clock.now() - this.cfg.openMs + left;
    this.probeInFlight = false;
    this.policy.onStateChange((s) => {
      if (s === CircuitState.Open) this.openedAt = this.clock.now();
      // cockatiel closed after its one probe: N - 1 more must succeed.
      if (s === CircuitState.Closed && this.cockatielState === CircuitState.HalfOpen) this.rule.probesLeft = this.cfg.halfOpenProbes - 1;
      this.cockatielState = s;
      this.sync();
    });
    this.reported = this.read();
  }

  /** The state as status and events show it. */
  get state(): BreakerState {
    return this.reported;
  }

  private read(): BreakerState {
    switch (this.policy.state) {
      case CircuitState.Open:
        return 'open';
      case CircuitState.HalfOpen:
        return 'half-open';
      case CircuitState.Isolated:
        return 'isolated';
      default:
        return this.rule.probesLeft > 0 ? 'half-open' : 'closed';
    }
  }

  private sync(): void {
    const next = this.read();
    if (next === this.reported) return;
    const previous = this.reported;
    this.reported = next;
    this.onTransition(next, previous);
  }

  /** Ms until an open breaker lets a probe through (0 when it would now). */
  retryInMs(): number {
    return this.policy.state === CircuitState.Open ? Math.max(0, this.openedAt + this.cfg.openMs - this.clock.now()) : 0;
  }

  /**
   * Whether a call may start now. Throws BreakerOpenError when not; a probe
   * must be handed back through `run` so the next one is admitted.
   */
  admit(): Admission {
    switch (this.policy.state) {
      case CircuitState.Closed:
        if (this.rule.probesLeft === 0) return 'call';
        if (this.probeInFlight) throw new BreakerOpenError(this.id, 'half-open');
        this.probeInFlight = true;
        return 'probe';
      case CircuitState.Open: {
        const wait = this.retryInMs();
        if (wait > 0) throw new BreakerOpenError(this.id, 'open', wait);
        if (this.probeInFlight) throw new BreakerOpenError(this.id, 'half-open');
        this.probeInFlight = true;
        return 'first-probe';
      }
      case CircuitState.HalfOpen:
        throw new BreakerOpenError(this.id, 'half-open');
      default:
        throw new BreakerOpenError(this.id, 'isolated');
    }
  }

  /** Runs an admitted call through the breaker, which records its outcome. */
  async run<T>(admission: Admission, fn: () => Promise<T>): Promise<T> {
    if (admission === 'call') {
      try {
        return await this.policy.execute(fn);
      } catch (e) {
        throw this.translate(e);
      }
    }
    let failed = false;
    try {
      return await this.policy.execute(fn);
    } catch (e) {
      failed = e instanceof Error && this.isFailure(e);
      throw this.translate(e);
    } finally {
      this.probeInFlight = false;
      // Later probes are counted here, not in the IBreaker, so that a slow call
      // admitted before the breaker opened cannot pass for a probe. A probe that
      // ended in a non-failure (e.g. a 400) still proves the dependency answers,
      // as cockatiel itself treats the first probe.
      if (admission === 'probe' && !failed && this.rule.probesLeft > 0 && this.policy.state === CircuitState.Closed) {
        this.rule.probesLeft -= 1;
        this.sync();
      }
    }
  }

  private translate(e: unknown): unknown {
    if (e instanceof BrokenCircuitError) return new BreakerOpenError(this.id, 'open', this.retryInMs());
    if (e instanceof IsolatedCircuitError) return new BreakerOpenError(this.id, 'isolated');
    return e;
  }

  /** Holds the breaker open by hand until `reset`. */
  isolate(): void {
    if (this.policy.state !== CircuitState.Isolated) this.policy.isolate();
  }

  /** Closes the breaker and empties its window, whatever its state. */
  reset(): void {
    const previous = this.reported;
    this.build(undefined);
    if (this.reported !== previous) this.onTransition(this.reported, previous);
  }

  /** Plain JSON for the state store; `new DependencyBreaker(…, json)` restores it. */
  toJSON(): unknown {
    const out: SavedState = { v: STATE_VERSION, policy: this.policy.toJSON() };
    if (this.policy.state === CircuitState.Open) out.openUntil = Date.now() + this.retryInMs();
    return out;
  }
}
