/**
 * The gateway's events: `dependency.call` for every attempt, retry, give-up,
 * fail-fast rejection, fallback and degradation, and `breaker.state` for
 * every breaker transition. The runtime forwards both to the control channel
 * and the log. Payloads carry no request or reply bodies and no secrets.
 */
import type { BreakerState } from '../protocol/status.ts';

export type GatewayEventName = 'breaker.state' | 'dependency.call';

export type CallPhase =
  /** An attempt starts. */
  | 'attempt'
  /** An attempt succeeded; the call returns. */
  | 'success'
  /** An attempt failed with a retryable error; another follows after `delayMs`. */
  | 'retry'
  /** The call failed: `reason` is non-retryable, exhausted, budget, breaker-open or aborted. */
  | 'give-up'
  /** The breaker was open: the call was not made. */
  | 'rejected'
  /** A model chain moved from `dependency` to `to`. */
  | 'fallback'
  /** The call failed and its degrade mode answered (`mode` skip or cache). */
  | 'degraded'
  /** The call was held for replay (degrade queue). */
  | 'queued'
  /** A held call was replayed successfully. */
  | 'replayed'
  /** A held call was dropped: its replay failed with a non-retryable error. */
  | 'dropped';

export interface DependencyCallEvent {
  time: string;
  dependency: string;
  phase: CallPhase;
  agent?: string;
  point?: string;
  chain?: string;
  attempt?: number;
  latencyMs?: number;
  delayMs?: number;
  reason?: string;
  error?: { type: string; message: string; status?: number };
  to?: string;
  mode?: string;
  id?: string;
}

export interface BreakerStateEvent {
  time: string;
  dependency: string;
  state: BreakerState;
  previous: BreakerState;
}

export interface GatewayEventPayloads {
  'breaker.state': BreakerStateEvent;
  'dependency.call': DependencyCallEvent;
}

export type GatewayListener = <N extends GatewayEventName>(name: N, payload: GatewayEventPayloads[N]) => void;

/** One gateway event as its emitter carries it. */
export type GatewayEvent = { [N in GatewayEventName]: { name: N; payload: GatewayEventPayloads[N] } }[GatewayEventName];
