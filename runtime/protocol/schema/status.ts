/**
 * Schemas of the status JSON (`faultline status --json`, the `status`
 * method): the runtime, the supervision tree, the dependencies and the
 * sections observability adds (reliability, alerts, faults, models).
 *
 * The word lists (NODE_STATES, …) live in `../status.ts`, which has no zod,
 * so a browser bundle can use them and the tree helpers without pulling zod in.
 */
import { z } from 'zod';
import { BREAKER_STATES, ISOLATIONS, NODE_STATES, RESTART_TYPES, STRATEGIES } from '../status.ts';
import { ActiveFault } from './faults.ts';

/** An ISO 8601 time as the runtime writes it (`new Date().toISOString()`). */
export const IsoTime = z.string().describe('ISO 8601 time');
const count = z.number().int().min(0);

export const NodeState = z.enum(NODE_STATES).describe('Lifecycle state, in words a person understands');
export const Strategy = z.enum(STRATEGIES);
export const RestartType = z.enum(RESTART_TYPES);
export const Isolation = z.enum(ISOLATIONS);
export const BreakerState = z.enum(BREAKER_STATES);

export const LastError = z.strictObject({
  type: z.string().describe('Error class or exit reason, e.g. `AgentCrashError`, `unresponsive`, `ModuleLoadError`'),
  message: z.string(),
  time: IsoTime,
});

/** A wait (`ctx.waitFor`) the agent's message in flight is suspended on. */
export const WaitingEntry = z.strictObject({
  name: z.string().describe('The signal it waits for (`faultline signal <agent> <name> <json>`)'),
  since: IsoTime.describe("When the wait started (a redelivered message's wait keeps the first delivery's time)"),
});
export type WaitingEntry = z.infer<typeof WaitingEntry>;

/** A wait starting or ending, as an `agent.state` event carries it. */
export const WaitChange = z.strictObject({
  name: z.string(),
  phase: z.enum(['start', 'end']),
  outcome: z.enum(['signal', 'timeout']).optional().describe('How an ended wait ended: a signal took it, or its timeout passed'),
  since: IsoTime,
});
export type WaitChange = z.infer<typeof WaitChange>;

export const AgentStatus = z.strictObject({
  id: z.string(),
  kind: z.literal('agent'),
  state: NodeState,
  pid: z.number().int().nullable().describe("OS process id of the agent host; for thread isolation the runtime's pid"),
  threadId: z.number().int().optional().describe('Worker thread id for thread isolation'),
  restarts: count,
  isolation: Isolation,
  restart: RestartType,
  module: z.string(),
  mailbox: count.describe("Messages waiting in the agent's mailbox (not counting the one in flight)"),
  liveness: z.boolean().describe('Heartbeats arriving in time'),
  readiness: z.boolean().describe('Started and restored, handling messages'),
  startedAt: IsoTime.nullable(),
  lastError: LastError.optional(),
  inspect: z.string().optional().describe("The agent host's inspector WebSocket URL, when agents run under the debugger (`up --inspect-agents`)"),
  node: z.string().optional().describe('In a cluster, on a child of the root: the node that runs it'),
  waiting: z.array(WaitingEntry).optional().describe('The waits (`ctx.waitFor`) its message in flight is suspended on, oldest first'),
});

export type AgentStatus = z.infer<typeof AgentStatus>;
export interface SupervisorStatus {
  id: string;
  kind: 'supervisor';
  state: z.infer<typeof NodeState>;
  strategy: z.infer<typeof Strategy>;
  restart: z.infer<typeof RestartType>;
  /** Restarts this supervisor performed since it started (it starts afresh when its parent restarts it). */
  restarts: number;
  intensity: { limit: number; periodMs: number; inWindow: number };
  children: TreeNodeStatus[];
  lastError?: z.infer<typeof LastError>;
  /** In a cluster, on a child of the root: the node that runs it. */
  node?: string;
}
export type TreeNodeStatus = AgentStatus | SupervisorStatus;

// The tree is recursive: the interface above names the type (z.infer cannot
// name a recursive type), the schema is checked against it.
export const SupervisorStatus: z.ZodType<SupervisorStatus> = z.strictObject({
  id: z.string(),
  kind: z.literal('supervisor'),
  state: NodeState,
  strategy: Strategy,
  restart: RestartType,
  restarts: count.describe('Restarts this supervisor performed since it started (it starts afresh when its parent restarts it)'),
  intensity: z.strictObject({ limit: count, periodMs: count, inWindow: count }),
  get children(): z.ZodArray<z.ZodType<TreeNodeStatus>> {
    return z.array(TreeNodeStatus);
  },
  lastError: LastError.optional(),
  node: z.string().optional().describe('In a cluster, on a child of the root: the node that runs it'),
}).meta({ id: 'SupervisorStatus' });
export const TreeNodeStatus: z.ZodType<TreeNodeStatus> = z.union([AgentStatus, SupervisorStatus]);

/** The process (stdio) or connection (streamable HTTP) behind an `mcp` dependency. */
export const McpServerStatus = z.strictObject({
  transport: z.enum(['stdio', 'http']),
  state: z.enum(['starting', 'running', 'backoff', 'down', 'stopped']).describe('stdio: starting, running, backoff (exited, restarting after a delay), stopped; http: starting (connecting), running (connected), down (reconnects on the next call), stopped'),
  pid: z.number().int().optional().describe('OS process id of a stdio server while it runs'),
  restarts: count.describe('Times a stdio server was started again after it exited or failed to start; reconnections of an http one'),
  since: IsoTime.describe('When it entered its state'),
  retryInMs: z.number().min(0).optional().describe('In backoff: when it is started again'),
  lastError: LastError.optional().describe('Why it last exited, failed to start or lost its connection'),
});

/**
 * A dependency as the status JSON lists it. `id`, `breaker` and `errorRate`
 * are the contract; the runtime's gateway always fills in the rest, a client
 * must not rely on them being there (an older runtime, a test fixture).
 */
export const DependencyStatus = z.strictObject({
  id: z.string(),
  breaker: BreakerState,
  errorRate: z.number().min(0).max(1).describe('Share of failed attempts over the recent window'),
  kind: z.enum(['model', 'http', 'tool', 'mcp']).optional(),
  profile: z.enum(['fast', 'slow']).optional(),
  degrade: z.enum(['fail', 'skip', 'cache', 'queue']).optional(),
  critical: z.boolean().optional(),
  hasFallback: z.boolean().optional().describe('Some model chain offers another dependency after or besides this one'),
  model: z.string().optional(),
  url: z.string().optional(),
  calls: count.optional(),
  attempts: count.optional(),
  retries: count.optional(),
  failures: count.optional(),
  rejected: count.optional().describe('Calls failed at once by an open breaker, never made'),
  degraded: count.optional(),
  latencyMs: z.number().min(0).optional().describe('Median attempt latency over the recent window'),
  latencyP95Ms: z.number().min(0).optional(),
  retryInMs: z.number().min(0).optional().describe('While open: when the breaker lets a probe through'),
  queued: count.optional().describe('Calls held for replay (degrade "queue")'),
  lastError: LastError.optional(),
  toolErrors: count.optional().describe('MCP: calls answered with a tool error (`isError: true`); not failures of the dependency'),
  server: McpServerStatus.optional().describe('MCP: the server process or connection'),
  tokens: z.strictObject({ prompt: count, completion: count }).optional(),
  cost: z.strictObject({ total: z.number().min(0), currency: z.string() }).optional(),
});

/** What `ctx.health(dependency)` answers: the dependency's status without its config. */
export const DependencyHealth = DependencyStatus.omit({ kind: true, profile: true, degrade: true, critical: true, hasFallback: true, model: true, url: true });

const Rate = z.strictObject({
  total: count,
  good: count,
  rate: z.number().min(0).max(1).nullable().describe('good / total; null when there is nothing to rate yet'),
});

/** The three-tier reliability summary (status `reliability`, the `metrics` event). */
export const ReliabilitySummary = z.strictObject({
  time: IsoTime,
  windowMs: count,
  business: z.strictObject({
    taskCompletion: Rate.extend({ window: Rate }),
    slaCompliance: Rate.extend({ window: Rate, targetMs: z.number().nullable() }),
    agents: z.record(z.string(), z.strictObject({ tasks: Rate, sla: Rate })),
  }),
  system: z.strictObject({
    messageErrorRate: z.number().nullable().describe('Failed messages over handled, in the window'),
    dependencies: z.record(
      z.string(),
      z.strictObject({ calls: count, errors: count, errorRate: z.number().nullable(), windowErrorRate: z.number().nullable(), retries: count, giveUps: count, breaker: BreakerState.nullable() }),
    ),
    breakers: z.strictObject({ closed: count, open: count, 'half-open': count, isolated: count }),
    restarts: z.strictObject({ total: count, bySupervisor: z.record(z.string(), count), escalations: count }),
    checkpointFallbacks: count,
    deadLetters: count,
  }),
  infrastructure: z.strictObject({
    cpu: z.strictObject({ runtimeRatio: z.number().nullable(), agentsRatio: z.number(), agents: z.record(z.string(), z.number().nullable()) }),
    memory: z.strictObject({ runtimeBytes: z.number(), agentsBytes: z.number(), agents: z.record(z.string(), z.number()) }),
    api: z.strictObject({ cost: z.number(), currency: z.string(), byDependency: z.record(z.string(), z.number()), promptTokens: count, completionTokens: count }),
    /** Added by the runtime (the tracker alone has no event loop to measure). */
    eventLoop: z.strictObject({ lagP50Ms: z.number(), lagP99Ms: z.number(), maxMs: z.number() }).nullable().optional(),
  }),
});

export const AlertLevel = z.enum(['warning', 'critical']);
export const AlertRuleName = z.enum(['errorRate', 'latencyP95', 'unresponsive', 'breakerOpen', 'restartIntensity', 'checkpointFallback', 'slaCompliance', 'storeDown']);
export const AlertSubjectKind = z.enum(['agent', 'dependency', 'supervisor', 'store']);

/** An active alert, as the `alerts` method and status `alerts` list it. */
export const ActiveAlert = z.strictObject({
  level: AlertLevel,
  rule: AlertRuleName,
  subject: z.string().describe('Id of the agent, dependency or supervisor the alert is about'),
  subjectKind: AlertSubjectKind,
  value: z.number().describe('The measured value: a ratio (0..1), milliseconds, or a count, by rule'),
  threshold: z.number().describe('The threshold of `level` the value crossed'),
  since: IsoTime.describe('When the alert first fired (kept across level changes)'),
  message: z.string().describe('One line for a person'),
});

export const StoreStatus = z.strictObject({
  kind: z.enum(['sqlite', 'postgres', 'redis', 'memory']),
  state: z.enum(['up', 'down']),
  url: z.string().optional().describe('A server store\'s URL, password redacted'),
  blobs: z.string().optional().describe('The bucket large states go to: s3://bucket'),
  error: z.string().optional().describe('Why it is down'),
  downSince: IsoTime.optional(),
});

export const ClusterNodeStatus = z.strictObject({
  id: z.string(),
  url: z.string().describe('Where the other nodes reach its control channel'),
  state: z.enum(['up', 'down']).describe('up: its heartbeat is younger than the lease'),
  lastSeenMs: z.number().min(0).describe('Milliseconds since its last heartbeat'),
  children: z.array(z.string()).describe('The children of the root it holds'),
});

export const ClusterStatus = z.strictObject({
  node: z.string().describe('The node that answered'),
  leaseMs: z.number().int().min(0),
  nodes: z.array(ClusterNodeStatus),
});

export const RuntimeStatus = z.strictObject({
  runtime: z.strictObject({
    pid: z.number().int(),
    uptimeMs: z.number().min(0),
    version: z.string(),
    name: z.string(),
    startedAt: IsoTime,
    port: z.number().int().optional(),
    spares: z.strictObject({ process: count, thread: count }).optional().describe('Warm spare agent hosts booted and waiting, per isolation'),
  }),
  tree: SupervisorStatus,
  dependencies: z.array(DependencyStatus),
  models: z.record(z.string(), z.array(z.string())).optional().describe("Model fallback chains: chain name → dependency ids in order (the config's `models`)"),
  faults: z.array(ActiveFault).optional(),
  reliability: ReliabilitySummary.optional().describe('Absent when instrumentation is off'),
  alerts: z.array(ActiveAlert).optional(),
  store: StoreStatus.optional().describe('The checkpoint store and whether it answers'),
  cluster: ClusterStatus.optional().describe('When the config runs as a cluster: this node and every node'),
});

export type LastError = z.infer<typeof LastError>;
export type ClusterStatus = z.infer<typeof ClusterStatus>;
export type ClusterNodeStatus = z.infer<typeof ClusterNodeStatus>;
export type DependencyHealth = z.infer<typeof DependencyHealth>;
export type DependencyStatus = z.infer<typeof DependencyStatus>;
export type McpServerStatus = z.infer<typeof McpServerStatus>;
export type ReliabilitySummary = z.infer<typeof ReliabilitySummary>;
export type Rate = z.infer<typeof Rate>;
export type AlertLevel = z.infer<typeof AlertLevel>;
export type AlertRuleName = z.infer<typeof AlertRuleName>;
export type AlertSubjectKind = z.infer<typeof AlertSubjectKind>;
export type ActiveAlert = z.infer<typeof ActiveAlert>;
export type RuntimeStatus = z.infer<typeof RuntimeStatus>;
export type StoreStatus = z.infer<typeof StoreStatus>;
