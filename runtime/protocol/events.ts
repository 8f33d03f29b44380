/**
 * Event notifications pushed on the control channel to subscribers. The
 * JSON-RPC `method` is the event name and `params` the payload; every payload
 * carries an ISO `time`. The payloads are declared once, as schemas, in
 * `schema/events.ts`; this module holds the names and imports no zod.
 */
export const EVENT_NAMES = ['agent.state', 'supervisor.state', 'breaker.state', 'fault', 'alert', 'metrics', 'log', 'dependency.call', 'machine.transition'] as const;
export type EventName = (typeof EVENT_NAMES)[number];

export type {
  AgentStateEvent,
  AlertEvent,
  BreakerStateEvent,
  CallPhase,
  DependencyCallEvent,
  EventPayloads,
  LogEvent,
  MetricsEvent,
  SupervisorStateEvent,
} from './schema/events.ts';
export type { FaultEvent } from './schema/faults.ts';
export type { MachineTransitionEvent } from './machine.ts';

export function isEventName(x: unknown): x is EventName {
  return typeof x === 'string' && (EVENT_NAMES as readonly string[]).includes(x);
}
