/**
 * Schemas of the events pushed to subscribers on the control channel: the
 * JSON-RPC `method` is the event name and `params` the payload; every payload
 * carries an ISO `time`.
 */
import { z } from 'zod';
import { MachineTransitionEvent } from '../machine.ts';
import type { EventName } from '../events.ts';
import { ActiveAlert, AlertLevel, BreakerState, IsoTime, Isolation, LastError, NodeState, ReliabilitySummary, WaitChange, WaitingEntry } from './status.ts';
import { FaultEvent } from './faults.ts';

export const AgentStateEvent = z.strictObject({
  time: IsoTime,
  agent: z.string(),
  supervisor: z.string(),
  state: NodeState,
  previous: NodeState,
  pid: z.number().int().nullable(),
  restarts: z.number().int().min(0),
  isolation: Isolation,
  reason: z.string().optional().describe('Why the state changed: `crashed`, `unresponsive`, `sibling`, `stopped`, …'),
  error: LastError.optional(),
  inspect: z.string().optional().describe('Inspector URL of the agent host when agents run under the debugger'),
  wait: WaitChange.optional().describe('Set when the event says a wait (`ctx.waitFor`) started or ended; `state` is then unchanged'),
  waiting: z.array(WaitingEntry).optional().describe('The waits (`ctx.waitFor`) pending after the change (with `wait`: after that wait started or ended)'),
});

export const SupervisorStateEvent = z.strictObject({
  time: IsoTime,
  supervisor: z.string(),
  parent: z.string().nullable(),
  state: NodeState,
  previous: NodeState,
  restarts: z.number().int().min(0),
  reason: z.string().optional(),
});

export const BreakerStateEvent = z.strictObject({
  time: IsoTime,
  dependency: z.string(),
  state: BreakerState,
  previous: BreakerState,
});

/** Payload of the `alert` event: an alert firing, changing level, or resolved. */
export const AlertEvent = ActiveAlert.extend({
  state: z.enum(['firing', 'resolved']),
  time: IsoTime.describe('When this transition happened'),
  previousLevel: AlertLevel.optional().describe('Set when a firing alert changed level'),
});

export const CallPhase = z
  .enum(['attempt', 'success', 'retry', 'give-up', 'rejected', 'fallback', 'degraded', 'queued', 'replayed', 'dropped'])
  .describe(
    'attempt: an attempt starts; success: it succeeded; retry: it failed retryably, another follows after `delayMs`; ' +
      'give-up: the call failed (`reason`: non-retryable, exhausted, budget, breaker-open or aborted); rejected: the breaker was open, no call made; ' +
      'fallback: a model chain moved from `dependency` to `to`; degraded: the degrade mode answered (`mode` skip or cache); ' +
      'queued: held for replay; replayed: a held call replayed; dropped: a held call dropped (its replay failed non-retryably)',
  );

/** One step of a dependency call: no request or reply bodies, no secrets. */
export const DependencyCallEvent = z.strictObject({
  time: IsoTime,
  dependency: z.string(),
  phase: CallPhase,
  agent: z.string().optional(),
  point: z.string().optional(),
  chain: z.string().optional(),
  attempt: z.number().int().min(1).optional(),
  latencyMs: z.number().min(0).optional(),
  delayMs: z.number().min(0).optional(),
  reason: z.string().optional(),
  error: z.strictObject({ type: z.string(), message: z.string(), status: z.number().int().optional() }).optional(),
  to: z.string().optional(),
  mode: z.string().optional(),
  id: z.string().optional(),
});

/**
 * One log line. The runtime's own fields are typed; the rest stays open
 * because an agent's `ctx.log(level, msg, fields)` adds fields of its own
 * (user data), and runtime lines carry context fields (`port`, `faultId`,
 * `attempt`, `err { type, message, stack }`, `drill`, …) that differ by message.
 */
export const LogEvent = z
  .object({
    time: IsoTime,
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']),
    msg: z.string(),
    agent: z.string().optional(),
    supervisor: z.string().optional(),
    msgId: z.string().optional(),
    dependency: z.string().optional(),
    stream: z.enum(['stdout', 'stderr']).optional().describe('A line an agent process printed'),
  })
  .catchall(z.unknown());

/** Payload of the `metrics` event (every 2 s while someone listens): the reliability summary. */
export const MetricsEvent = ReliabilitySummary;

/** Every event's payload schema, by event name. */
export const EVENT_SCHEMAS = {
  'agent.state': AgentStateEvent,
  'supervisor.state': SupervisorStateEvent,
  'breaker.state': BreakerStateEvent,
  fault: FaultEvent,
  alert: AlertEvent,
  metrics: MetricsEvent,
  log: LogEvent,
  'dependency.call': DependencyCallEvent,
  'machine.transition': MachineTransitionEvent,
} as const satisfies Record<EventName, z.ZodType>;

/** `ask.chunk`: a piece of the reply to a streamed ask (`stream: true`), sent to the asking session only, before the result. */
export const AskChunk = z.strictObject({
  requestId: z.union([z.string(), z.number()]).describe('The ask it belongs to: its `requestId` param, else its JSON-RPC id'),
  delta: z.string().describe("The text the agent passed to ctx.streamReply"),
});

/** Notifications a session gets for its own requests (not subscribed to; carry no `time`). */
export const SESSION_NOTIFICATION_SCHEMAS = { 'ask.chunk': AskChunk } as const;
export type AskChunk = z.infer<typeof AskChunk>;

export type AgentStateEvent = z.infer<typeof AgentStateEvent>;
export type SupervisorStateEvent = z.infer<typeof SupervisorStateEvent>;
export type BreakerStateEvent = z.infer<typeof BreakerStateEvent>;
export type AlertEvent = z.infer<typeof AlertEvent>;
export type CallPhase = z.infer<typeof CallPhase>;
export type DependencyCallEvent = z.infer<typeof DependencyCallEvent>;
export type LogEvent = z.infer<typeof LogEvent>;
export type MetricsEvent = z.infer<typeof MetricsEvent>;
export type EventPayloads = { [N in EventName]: z.infer<(typeof EVENT_SCHEMAS)[N]> };
