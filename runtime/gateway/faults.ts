/**
 * Fault injection at the policy layer (used by the fault catalogue): a hook
 * the gateway asks before every attempt. An action replaces or delays the
 * attempt, so the breaker, the retries and the fallbacks react to it exactly
 * as to a real failure; the dependency itself is not contacted for
 * error-type actions.
 */
import { ContentFilterError, DependencyHttpError, DependencyNetworkError, MalformedResponseError } from './errors.ts';
import { honoursRetryAfter, isRetryableStatus } from './classify.ts';
import type { Clock } from './clock.ts';
import type { ResolvedDependency } from './policyConfig.ts';

export type FaultAction =
  /** Fail the attempt with this HTTP status; `retryAfter` in seconds. */
  | { type: 'error'; status: number; retryAfter?: number }
  /** Delay the attempt by `ms`, then make it. */
  | { type: 'latency'; ms: number }
  /** The attempt hangs: it never answers, and its own timeout ends it. */
  | { type: 'timeout' }
  /** The dependency cannot be reached: the connection is refused at once (the network to it is blocked). */
  | { type: 'blackhole' }
  /** The model refuses on content grounds. */
  | { type: 'content-filter' }
  /** The reply stream breaks off mid-reply. */
  | { type: 'stream-cut' }
  /** The first token comes after `ms` (for a whole reply: a delay before it). */
  | { type: 'slow-first-token'; ms: number }
  /** The reply is not valid JSON. */
  | { type: 'malformed' };

/** Asked before each attempt; returns the fault to apply, or undefined for none. */
export type FaultHook = (dependency: string, point: string | undefined) => FaultAction | undefined;

/**
 * Runs `attempt` under `fault`. Delays use the gateway's clock timers so the
 * per-attempt timeout still races them; an attempt that timed out while
 * delayed (`settled()`) is then not made at all.
 */
export function withFault<T>(fault: FaultAction, dep: ResolvedDependency, clock: Clock, attempt: () => Promise<T>, settled: () => boolean): Promise<T> {
  switch (fault.type) {
    case 'error': {
      const status = fault.status;
      const retryAfterMs = fault.retryAfter !== undefined && honoursRetryAfter(status) ? fault.retryAfter * 1000 : undefined;
      return Promise.reject(new DependencyHttpError(dep.id, status, isRetryableStatus(status, dep.classifier), retryAfterMs, 'injected fault'));
    }
    case 'timeout':
      return new Promise<T>(() => undefined);
    case 'blackhole':
      return Promise.reject(new DependencyNetworkError(dep.id, 'ECONNREFUSED', 'injected fault: connection refused'));
    case 'content-filter':
      return Promise.reject(new ContentFilterError(dep.id, 'injected fault'));
    case 'stream-cut':
      return Promise.reject(new DependencyNetworkError(dep.id, 'stream-cut', 'injected fault: the reply stream ended before [DONE]'));
    case 'malformed':
      return Promise.reject(new MalformedResponseError(dep.id, 'injected fault'));
    case 'latency':
    case 'slow-first-token':
      return new Promise<void>((resolve) => clock.setTimeout(resolve, fault.ms)).then(() => (settled() ? new Promise<T>(() => undefined) : attempt()));
    default:
      return attempt();
  }
}
