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

export class GatewayEmitter {
  private readonly listeners = new Set<GatewayListener>();

  /** Whether anyone listens: payloads are only built then. */
  get active(): boolean {
    return this.listeners.size > 0;
  }

  on(listener: GatewayListener): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => void this.listeners.delete(listener) };
  }

  emit<N extends GatewayEventName>(name: N, payload: GatewayEventPayloads[N]): void {
    for (const l of this.listeners) {
      try {
        l(name, payload);
      } catch {
        // A listener's bug must not fail the call that emitted the event.
      }
    }
  }

  clear(): void {
    this.listeners.clear();
  }
}
