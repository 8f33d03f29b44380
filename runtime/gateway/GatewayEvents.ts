/**
 * The gateway's events: `dependency.call` for every attempt, retry, give-up,
 * fail-fast rejection, fallback and degradation, and `breaker.state` for
 * every breaker transition. The runtime forwards both to the control channel
 * and the log. Payloads carry no request or reply bodies and no secrets.
 */
import type { BreakerStateEvent, CallPhase, DependencyCallEvent } from '../protocol/events.ts';

export type GatewayEventName = 'breaker.state' | 'dependency.call';

// The payloads are the protocol's `dependency.call` and `breaker.state` events.
export type { BreakerStateEvent, CallPhase, DependencyCallEvent };

export interface GatewayEventPayloads {
  'breaker.state': BreakerStateEvent;
  'dependency.call': DependencyCallEvent;
}

export type GatewayListener = <N extends GatewayEventName>(name: N, payload: GatewayEventPayloads[N]) => void;

/** One gateway event as its emitter carries it. */
export type GatewayEvent = { [N in GatewayEventName]: { name: N; payload: GatewayEventPayloads[N] } }[GatewayEventName];
