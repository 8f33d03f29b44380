/**
 * The policy one dependency's calls run under: retries with exponential
 * backoff and jitter inside its circuit breaker, a timeout per attempt, a
 * total time budget, error classification, health figures and events.
 *
 * Retry loop and timeout are written here rather than taken from cockatiel's
 * RetryPolicy and TimeoutPolicy (see README.md): the delay must honour
 * Retry-After and give up when it would overrun the budget, every sleep and
 * timer goes through the injected clock, and the timeout is one timer per
 * attempt with no AbortSignal unless the transport asks for one (cockatiel's
 * cooperative timeout costs ~19 µs a call in AbortSignal listeners alone).
 * The delays come from the one backoff (runtime/protocol/backoff.ts).
 */
import { backoffDelay, type BackoffOptions } from '../protocol/backoff.ts';
import { DependencyBreaker } from './DependencyBreaker.ts';
import { HealthStats } from './HealthStats.ts';
import { classify, type Classifier } from './classify.ts';
import { withFault, type FaultHook } from './faults.ts';
import { AbortError, BreakerOpenError, BudgetExceededError, DependencyTimeoutError, RetriesExhaustedError, StreamInterruptedError } from './errors.ts';
import type { Clock } from './clock.ts';
import type { AttemptContext, Transport } from './httpTransport.ts';
import type { HttpCall } from './httpCall.ts';
import type { DependencyCallEvent, GatewayEvent } from './GatewayEvents.ts';
import type { Emitter } from '../protocol/emitter.ts';
import type { ResolvedDependency } from './policyConfig.ts';
import type { SecretScrubber } from '../protocol/redact.ts';
import type { BreakerState } from '../protocol/status.ts';

export type LogFn = (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown>) => void;

export interface CallOptions {
  agent?: string;
  point?: string;
  /** Overrides the dependency's per-attempt timeout for this call. */
  timeoutMs?: number;
  /** Aborts the call (not counted as a failure of the dependency). */
  signal?: AbortSignal;
  /** Set by a model chain, for events. */
  chain?: string;
  /** Checked `http` options of a call to a kind "http" dependency. */
  http?: HttpCall;
  /** The call's span (tracing on): its events (retry, fallback, give-up, fault, …) as they happen. */
  trace?: (phase: string, e: DependencyCallEvent) => void;
  /** A streamed chat: each text delta as it arrives. A failure after the first one is a `StreamInterruptedError`. */
  onDelta?: (text: string) => void;
}

export interface PolicyEnv {
  clock: Clock;
  /** Waits out a retry delay; resolves early when `signal` aborts. */
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  emitter: Emitter<GatewayEvent>;
  scrubber: SecretScrubber;
  log?: LogFn;
  classifier?: Classifier;
  faultHook: () => FaultHook | undefined;
  /** Aborted when the gateway is disposed: ends retry sleeps. */
  disposed: AbortSignal;
  onBreakerTransition: (dep: string, state: BreakerState, previous: BreakerState) => void;
  /** The retry delays' jitter source (default Math.random). */
  random?: () => number;
}

/** Retry delays double from `baseDelayMs`, ±20 % jitter, so agents that failed together do not retry together. */
const RETRY_FACTOR = 2;
const RETRY_JITTER = 0.2;

/** Errors that mean the dependency failed (they count against the breaker). */
function isDependencyFailure(e: Error): boolean {
  return e instanceof RetriesExhaustedError || e instanceof BudgetExceededError;
}

export class DependencyPolicy {
  readonly breaker: DependencyBreaker;
  readonly stats = new HealthStats();
  private readonly backoff: BackoffOptions;
  /** Cancels of attempts in flight, so dispose does not wait out their timeouts. */
  private readonly inFlight = new Set<(e: Error) => void>();

  constructor(
    readonly dep: ResolvedDependency,
    private readonly transport: Transport,
    private readonly env: PolicyEnv,
    breakerState?: unknown,
  ) {
    this.backoff = { baseMs: dep.retry.baseDelayMs, maxMs: dep.retry.maxDelayMs, factor: RETRY_FACTOR, jitter: RETRY_JITTER };
    this.breaker = new DependencyBreaker(dep.id, dep.breaker, isDependencyFailure, (s, p) => env.onBreakerTransition(dep.id, s, p), env.clock, breakerState);
  }

  /** Runs one call: breaker admission, then attempts until success, a non-retryable error, exhaustion or the budget. */
  async execute(request: unknown, o: CallOptions = {}): Promise<unknown> {
    let admission;
    try {
      admission = this.breaker.admit();
    } catch (e) {
      this.stats.rejected += 1;
      this.stats.callEnded(false);
      if (this.env.emitter.active || o.trace) this.event('rejected', o, { reason: (e as BreakerOpenError).state, error: errInfo(e) });
      this.env.log?.('debug', `dependency ${this.dep.id} rejected: breaker ${(e as BreakerOpenError).state}`, { dependency: this.dep.id, agent: o.agent, point: o.point });
      throw e;
    }
    this.stats.calls += 1;
    // A probe is a single attempt: retrying it would hammer a dependency that is only being tested.
    const maxAttempts = admission === 'call' ? this.dep.retry.maxAttempts : 1;
    return this.breaker.run(admission, () => this.attempts(request, o, maxAttempts));
  }

  private async attempts(request: unknown, o: CallOptions, maxAttempts: number): Promise<unknown> {
    const { clock, emitter } = this.env;
    const deadline = clock.now() + this.dep.budgetMs;
    let lastError: Error | undefined;
    for (let attempt = 1; ; attempt++) {
      const remaining = deadline - clock.now();
      if (remaining <= 0) throw this.giveUp(o, attempt - 1, new BudgetExceededError(this.dep.id, this.dep.budgetMs, attempt - 1, lastError), 'budget');
      const timeoutMs = Math.min(o.timeoutMs ?? this.dep.timeoutMs, remaining);
      if (emitter.active || o.trace) this.event('attempt', o, { attempt });
      this.env.log?.('debug', `dependency ${this.dep.id} attempt ${attempt}`, { dependency: this.dep.id, agent: o.agent, point: o.point, attempt });
      const t0 = clock.now();
      try {
        const value = await this.attempt(request, o, timeoutMs);
        const latencyMs = clock.now() - t0;
        this.stats.attempt(latencyMs);
        this.stats.callEnded(true);
        if (emitter.active || o.trace) this.event('success', o, { attempt, latencyMs: round(latencyMs) });
        return value;
      } catch (raw) {
        const latencyMs = clock.now() - t0;
        const err = this.env.scrubber.scrubError(raw instanceof Error ? raw : new Error(String(raw)));
        if (o.signal?.aborted || this.env.disposed.aborted) throw this.giveUp(o, attempt, err, 'aborted');
        this.stats.attempt(latencyMs);
        this.stats.lastError = { type: err.name, message: err.message, time: new Date().toISOString() };
        lastError = err;
        const verdict = classify(err, this.dep, this.env.classifier);
        if (!verdict.retryable) throw this.giveUp(o, attempt, err, 'non-retryable', latencyMs);
        if (attempt >= maxAttempts) throw this.giveUp(o, attempt, new RetriesExhaustedError(this.dep.id, attempt, err), 'exhausted', latencyMs);
        // Another caller's failures opened the breaker meanwhile: stop now, so every caller switches at once.
        if (this.breaker.state !== 'closed') throw this.giveUp(o, attempt, new BreakerOpenError(this.dep.id, this.breaker.state, this.breaker.retryInMs()), 'breaker-open', latencyMs);
        const backoffMs = backoffDelay(attempt - 1, this.backoff, this.env.random);
        const delayMs = verdict.retryAfterMs !== undefined ? Math.max(verdict.retryAfterMs, backoffMs) : backoffMs;
        const left = deadline - clock.now();
        if (delayMs >= left) {
          const why = verdict.retryAfterMs !== undefined ? `the server asked to wait ${verdict.retryAfterMs} ms (Retry-After), ${Math.round(left)} ms were left` : `the next retry in ${Math.round(delayMs)} ms would overrun it`;
          throw this.giveUp(o, attempt, new BudgetExceededError(this.dep.id, this.dep.budgetMs, attempt, err, why), 'budget', latencyMs);
        }
        this.stats.retries += 1;
        if (emitter.active || o.trace) this.event('retry', o, { attempt, latencyMs: round(latencyMs), delayMs: Math.round(delayMs), error: errInfo(err) });
        this.env.log?.('info', `dependency ${this.dep.id} attempt ${attempt} failed (${err.name}); retrying in ${Math.round(delayMs)} ms`, { dependency: this.dep.id, agent: o.agent, point: o.point, attempt, delayMs: Math.round(delayMs), error: errInfo(err) });
        const signal = o.signal ? AbortSignal.any([o.signal, this.env.disposed]) : this.env.disposed;
        await this.env.sleep(delayMs, signal);
        if (signal.aborted) throw this.giveUp(o, attempt, err, 'aborted');
      }
    }
  }

  /**
   * One attempt, raced against one timer. The AbortController exists only if
   * the transport reads `ctx.signal` (HTTP does, to close the socket; an
   * in-process tool usually does not).
   */
  private attempt(request: unknown, o: CallOptions, timeoutMs: number): Promise<unknown> {
    const { clock } = this.env;
    const dep = this.dep;
    return new Promise((resolve, reject) => {
      let settled = false;
      let controller: AbortController | undefined;
      let onCancel: ((reason: Error) => void)[] | undefined;
      let partial: string | undefined;
      const finish = (e: Error | undefined, v?: unknown) => {
        if (settled) return;
        settled = true;
        // Part of the reply went out: a retry or a fallback would repeat it.
        if (e && partial !== undefined && !(o.signal?.aborted || this.env.disposed.aborted)) e = new StreamInterruptedError(dep.id, partial, e);
        clock.clearTimeout(timer);
        this.inFlight.delete(cancel);
        if (onCallerAbort) o.signal!.removeEventListener('abort', onCallerAbort);
        if (e) {
          controller?.abort(e);
          if (onCancel) for (const f of onCancel) f(e);
          reject(e);
        } else resolve(v);
      };
      const cancel = (e: Error) => finish(e);
      const timer = clock.setTimeout(() => finish(new DependencyTimeoutError(dep.id, timeoutMs)), timeoutMs);
      this.inFlight.add(cancel);
      let onCallerAbort: (() => void) | undefined;
      if (o.signal) {
        onCallerAbort = () => finish(abortReason(o.signal!, dep.id));
        if (o.signal.aborted) return onCallerAbort();
        o.signal.addEventListener('abort', onCallerAbort, { once: true });
      }
      const ctx: AttemptContext = {
        get signal() {
          return (controller ??= new AbortController()).signal;
        },
        onCancel(fn) {
          (onCancel ??= []).push(fn);
        },
        http: o.http,
        onDelta: o.onDelta && ((text: string) => {
          if (settled) return;
          partial = (partial ?? '') + text;
          o.onDelta!(text);
        }),
      };
      let p: Promise<unknown>;
      try {
        const fault = this.env.faultHook()?.(dep.id, o.point);
        if (fault && o.trace) o.trace('fault', { time: new Date().toISOString(), dependency: dep.id, phase: 'attempt', reason: fault.type, ...(fault.type === 'error' ? { error: { type: 'InjectedFault', message: `injected ${fault.status}`, status: fault.status } } : {}) });
        p = fault ? withFault(fault, dep, clock, () => this.transport(request, ctx), () => settled) : this.transport(request, ctx);
      } catch (e) {
        p = Promise.reject(e);
      }
      p.then(
        (v) => finish(undefined, v),
        (e) => finish(e instanceof Error ? e : new Error(String(e))),
      );
    });
  }

  private giveUp(o: CallOptions, attempts: number, err: Error, reason: string, latencyMs?: number): Error {
    if (reason !== 'aborted') this.stats.callEnded(false);
    if (reason !== 'aborted' && reason !== 'non-retryable') this.stats.failures += 1;
    if (this.env.emitter.active || o.trace) this.event('give-up', o, { attempt: attempts, reason, latencyMs: latencyMs === undefined ? undefined : round(latencyMs), error: errInfo(err) });
    this.env.log?.(reason === 'aborted' ? 'debug' : 'warn', `dependency ${this.dep.id} call failed after ${attempts} attempt${attempts === 1 ? '' : 's'} (${reason}): ${err.message}`, { dependency: this.dep.id, agent: o.agent, point: o.point, attempts, reason, error: errInfo(err) });
    return err;
  }

  event(phase: DependencyCallEvent['phase'], o: CallOptions, extra: Partial<DependencyCallEvent>): void {
    const payload: DependencyCallEvent = { time: new Date().toISOString(), dependency: this.dep.id, phase, ...extra };
    if (o.agent) payload.agent = o.agent;
    if (o.point) payload.point = o.point;
    if (o.chain) payload.chain = o.chain;
    o.trace?.(phase, payload);
    if (this.env.emitter.active) this.env.emitter.fire({ name: 'dependency.call', payload });
  }

  /** Ends attempts in flight (their callers see the error) so shutdown does not wait out timeouts. */
  cancelAll(e: Error): void {
    for (const cancel of [...this.inFlight]) cancel(e);
  }
}

export function errInfo(e: unknown): { type: string; message: string; status?: number } {
  if (!(e instanceof Error)) return { type: 'Error', message: String(e) };
  const info: { type: string; message: string; status?: number } = { type: e.name, message: e.message };
  const status = (e as { status?: unknown }).status;
  if (typeof status === 'number') info.status = status;
  return info;
}

function abortReason(signal: AbortSignal, dependency: string): Error {
  const r = signal.reason;
  return r instanceof Error ? r : new AbortError(dependency);
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
