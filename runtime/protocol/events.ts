/**
 * Event notifications pushed on the control channel to subscribers. The
 * JSON-RPC `method` is the event name and `params` the payload; every payload
 * carries an ISO `time`.
 */
import type { BreakerState, LastError, NodeState, Isolation } from './status.ts';
import type { FaultEvent } from './faults.ts';
import type { MachineTransitionEvent } from './machine.ts';

export const EVENT_NAMES = ['agent.state', 'supervisor.state', 'breaker.state', 'fault', 'alert', 'metrics', 'log', 'dependency.call', 'machine.transition'] as const;
export type EventName = (typeof EVENT_NAMES)[number];

export interface AgentStateEvent {
  time: string;
  agent: string;
  supervisor: string;
  state: NodeState;
  previous: NodeState;
  pid: number | null;
  restarts: number;
  isolation: Isolation;
  /** Why the state changed: `crashed`, `unresponsive`, `sibling`, `stopped`, … */
  reason?: string;
  error?: LastError;
  /** Inspector URL of the agent host when agents run under the debugger. */
  inspect?: string;
}

export interface SupervisorStateEvent {
  time: string;
  supervisor: string;
  parent: string | null;
  state: NodeState;
  previous: NodeState;
  restarts: number;
  reason?: string;
}

export interface BreakerStateEvent {
  time: string;
  dependency: string;
  state: BreakerState;
  previous: BreakerState;
}

export interface LogEvent {
  time: string;
  level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
  msg: string;
  agent?: string;
  supervisor?: string;
  [field: string]: unknown;
}

export interface EventPayloads {
  'agent.state': AgentStateEvent;
  'supervisor.state': SupervisorStateEvent;
  'breaker.state': BreakerStateEvent;
  fault: FaultEvent;
  alert: { time: string; [k: string]: unknown };
  metrics: { time: string; [k: string]: unknown };
  log: LogEvent;
  'dependency.call': { time: string; [k: string]: unknown };
  /** One transition of an agent's or a supervisor's lifecycle machine. */
  'machine.transition': MachineTransitionEvent;
}

export function isEventName(x: unknown): x is EventName {
  return typeof x === 'string' && (EVENT_NAMES as readonly string[]).includes(x);
}
