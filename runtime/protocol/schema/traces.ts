/**
 * Schemas of the traces the runtime keeps for clients without a tracing
 * backend (the `traces` control method, the dashboard's waterfalls): the
 * last spans it recorded, grouped by trace, in the OpenTelemetry GenAI
 * conventions (`invoke_agent <agent>`, `chat <model>`, `execute_tool <tool>`).
 */
import { z } from 'zod';

const AttrValue = z.union([z.string(), z.number(), z.boolean(), z.array(z.union([z.string(), z.number(), z.boolean()]))]);

export const TraceSpanEvent = z.strictObject({
  name: z.string().describe('`retry`, `fallback`, `fault`, `crash`, `restart`, `checkpoint`, `exception`, …'),
  timeMs: z.number().describe('Epoch ms'),
  attributes: z.record(z.string(), AttrValue),
});

export const TraceSpan = z.strictObject({
  traceId: z.string().regex(/^[0-9a-f]{32}$/),
  spanId: z.string().regex(/^[0-9a-f]{16}$/),
  parentSpanId: z.string().regex(/^[0-9a-f]{16}$/).optional(),
  name: z.string().describe('`invoke_agent planner`, `chat big`, `execute_tool search`, `ask`, …'),
  kind: z.enum(['internal', 'server', 'client', 'producer', 'consumer']),
  startMs: z.number().describe('Epoch ms'),
  durationMs: z.number().min(0),
  status: z.enum(['unset', 'ok', 'error']),
  statusMessage: z.string().optional(),
  /** The agent the span belongs to (its `gen_ai.agent.name`, or the agent that made the call). */
  agent: z.string().optional(),
  /** Where in the agent's module the call was made (`ctx.call`, `ctx.model`), when known. */
  code: z.strictObject({ file: z.string(), line: z.number().int().min(1), column: z.number().int().min(1).optional() }).optional(),
  attributes: z.record(z.string(), AttrValue),
  events: z.array(TraceSpanEvent),
});

export const TraceSummary = z.strictObject({
  traceId: z.string().regex(/^[0-9a-f]{32}$/),
  /** The root span's name (or the earliest span's, when the root came from outside). */
  name: z.string(),
  startMs: z.number(),
  durationMs: z.number().min(0),
  /** Agents with a span in the trace, in order of their first span. */
  agents: z.array(z.string()),
  error: z.boolean().describe('Some span ended in error'),
  spans: z.array(TraceSpan).describe('Ordered by start'),
});

export const TracesParams = z.strictObject({
  agent: z.string().optional().describe('Only traces in which this agent has a span'),
  limit: z.number().int().min(1).max(500).optional().describe('At most this many traces, newest first (default 50)'),
  traceId: z.string().regex(/^[0-9a-f]{32}$/).optional().describe('Only this trace'),
});

export const TracesResult = z.strictObject({
  /** Whether the runtime records spans at all (telemetry on; the buffer keeps them even with no exporter). */
  enabled: z.boolean(),
  /** How many spans the buffer holds at most; older traces are dropped first. */
  capacity: z.number().int().min(0),
  traces: z.array(TraceSummary).describe('Newest first'),
});

export type TraceSpan = z.infer<typeof TraceSpan>;
export type TraceSpanEvent = z.infer<typeof TraceSpanEvent>;
export type TraceSummary = z.infer<typeof TraceSummary>;
export type TracesResult = z.infer<typeof TracesResult>;
