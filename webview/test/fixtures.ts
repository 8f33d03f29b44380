/**
 * Status snapshots and events for the harness tests and the benchmark: the
 * example's research team, and a generated tree of any size. Plain data, no
 * DOM, so Node-side code (the benchmark) can import it too.
 */
import type { AgentStateEvent } from '../../runtime/protocol/events.ts';
import type { AgentStatus, SupervisorStatus } from '../../runtime/protocol/status.ts';
import type { DashboardStatus, ExtensionToWebviewMessage, TraceSpan, TraceSummary, TracesResult } from '../../runtime/protocol/webview.ts';

/** Six minutes ago, so uptimes and histories look like a live session. */
const T0 = new Date(Date.now() - 372_000).toISOString();

export function agent(id: string, over: Partial<AgentStatus> = {}): AgentStatus {
  return { id, kind: 'agent', state: 'running', pid: 1000 + id.length * 7, restarts: 0, isolation: 'process', restart: 'permanent', module: `agents/${id}.mjs`, mailbox: 0, liveness: true, readiness: true, startedAt: T0, ...over };
}

export function supervisor(id: string, children: (AgentStatus | SupervisorStatus)[], over: Partial<SupervisorStatus> = {}): SupervisorStatus {
  return { id, kind: 'supervisor', state: 'running', strategy: 'one_for_one', restart: 'permanent', restarts: 0, intensity: { limit: 5, periodMs: 60_000, inWindow: 0 }, children, ...over };
}

/** The example system, mid-incident: the writer crashed twice, the primary model's breaker is open. */
export function exampleStatus(): DashboardStatus {
  const since = new Date(Date.now() - 95_000).toISOString();
  return {
    runtime: { pid: 4242, uptimeMs: 372_000, version: '0.1.0', name: 'research-team', startedAt: T0 },
    tree: supervisor(
      'root',
      [
        agent('planner', { pid: 5101, restarts: 1 }),
        supervisor('crew', [agent('researcher', { pid: 5102 }), agent('writer', { pid: 5103, restarts: 2, state: 'restarting', lastError: { type: 'AgentCrashError', message: 'writer crashed: TypeError: draft is undefined', time: since } })], { strategy: 'one_for_all', restarts: 2, intensity: { limit: 3, periodMs: 60_000, inWindow: 2 } }),
        agent('scheduler', { pid: 4242, isolation: 'thread', threadId: 3 }),
      ],
      { intensity: { limit: 5, periodMs: 60_000, inWindow: 1 }, restarts: 1 },
    ),
    dependencies: [
      { id: 'primary', kind: 'model', model: 'big', breaker: 'open', errorRate: 0.42 },
      { id: 'backup', kind: 'model', model: 'small', breaker: 'closed', errorRate: 0.01 },
      { id: 'search', kind: 'http', breaker: 'half-open', errorRate: 0.12 },
    ],
    models: { chat: ['primary', 'backup'] },
    alerts: [
      { level: 'critical', rule: 'breakerOpen', subject: 'primary', subjectKind: 'dependency', value: 1, threshold: 1, since, message: 'Breaker of primary is open; chat falls back to backup' },
      { level: 'warning', rule: 'restartIntensity', subject: 'crew', subjectKind: 'supervisor', value: 2, threshold: 2, since: new Date(Date.now() - 20_000).toISOString(), message: 'crew restarted 2 of 3 times in 60 s' },
    ],
    faults: [{ id: 'f-1', fault: 'crash-loop', target: 'writer', kind: 'agent' }],
    reliability: {
      time: T0,
      windowMs: 300_000,
      business: { taskCompletion: { total: 1200, good: 1164, rate: 0.97, window: { total: 200, good: 190, rate: 0.95 } }, slaCompliance: { total: 800, good: 792, rate: 0.99, window: { total: 120, good: 119, rate: 119 / 120 }, targetMs: null }, agents: {} },
      system: { messageErrorRate: 0.05, dependencies: { primary: { windowErrorRate: 0.42 }, backup: { windowErrorRate: 0.01 } }, breakers: {}, restarts: { total: 3 }, checkpointFallbacks: 0, deadLetters: 0 },
      infrastructure: {
        cpu: { runtimeRatio: 0.08, agentsRatio: 0.31, agents: { planner: 0.05, researcher: 0.18, writer: 0.08 } },
        memory: { runtimeBytes: 96 * 1048576, agentsBytes: 150 * 1048576, agents: { planner: 44 * 1048576, researcher: 61 * 1048576, writer: 45 * 1048576 } },
        api: { cost: 0.4213, currency: 'USD', byDependency: {}, promptTokens: 120_000, completionTokens: 34_000 },
        eventLoop: { lagP99Ms: 12.5 },
      },
    },
  };
}

/** A tree of `agents` agents under `groups` supervisors (the benchmark's 1,000). */
export function bigStatus(agents: number, groups = 10): DashboardStatus {
  const per = Math.ceil(agents / groups);
  const sups: SupervisorStatus[] = [];
  for (let g = 0; g < groups; g++) {
    const kids: AgentStatus[] = [];
    for (let i = g * per; i < Math.min(agents, (g + 1) * per); i++) kids.push(agent(`agent-${String(i).padStart(4, '0')}`, { pid: 10_000 + i, isolation: i % 4 === 0 ? 'thread' : 'process' }));
    sups.push(supervisor(`group-${g}`, kids));
  }
  return {
    runtime: { pid: 4242, uptimeMs: 60_000, version: '0.1.0', name: 'scale', startedAt: T0 },
    tree: supervisor('root', sups, { intensity: { limit: 50, periodMs: 60_000, inWindow: 0 } }),
    dependencies: [{ id: 'primary', kind: 'model', breaker: 'closed', errorRate: 0 }],
  };
}

const STATES: AgentStateEvent['state'][] = ['restarting', 'backoff', 'starting', 'running', 'failed'];

/** The i-th state change of a storm over `agents` agents: a cycle through crash and recovery. */
export function stormEvent(i: number, agents: number, groups = 10): ExtensionToWebviewMessage {
  const a = (i * 7919) % agents;
  const step = Math.floor(i / agents) % STATES.length;
  const per = Math.ceil(agents / groups);
  return {
    type: 'event',
    name: 'agent.state',
    payload: { time: new Date().toISOString(), agent: `agent-${String(a).padStart(4, '0')}`, supervisor: `group-${Math.floor(a / per)}`, state: STATES[step], previous: STATES[(step + STATES.length - 1) % STATES.length], pid: 20_000 + i, restarts: Math.floor(i / agents) + 1, isolation: 'process', reason: 'crashed' },
  };
}

/** The example run by two nodes: `node-a` answers and holds planner and crew; `node-b` holds the scheduler and has stopped sending heartbeats. */
export function clusterStatus(): DashboardStatus {
  const s = exampleStatus();
  const [planner, crew, scheduler] = s.tree.children;
  planner.node = 'node-a';
  crew.node = 'node-a';
  scheduler.node = 'node-b';
  s.cluster = {
    node: 'node-a',
    leaseMs: 3000,
    nodes: [
      { id: 'node-a', url: 'ws://10.0.0.1:7070/control', state: 'up', lastSeenMs: 420, children: ['planner', 'crew'] },
      { id: 'node-b', url: 'ws://10.0.0.2:7070/control', state: 'down', lastSeenMs: 7400, children: ['scheduler'] },
    ],
  };
  return s;
}

const hex = (n: number, len: number) => n.toString(16).padStart(len, '0');
const sid = (n: number) => hex(n, 16);

/**
 * One ask of the planner, as the runtime's `traces` method reports it: the
 * `chat big` call retried twice and fell back to the backup model, the
 * `execute_tool search` call met an injected fault and failed, and the
 * planner sent work to the researcher, whose own `chat small` ran under it
 * (a child `invoke_agent` of another agent), with a checkpoint at the end.
 */
export function plannerTrace(start = Date.now() - 42_000, n = 1): TraceSummary {
  const traceId = hex(0xabc000 + n, 32);
  const span = (id: number, parent: number | undefined, name: string, at: number, ms: number, over: Partial<TraceSpan> = {}): TraceSpan => ({
    traceId,
    spanId: sid(n * 100 + id),
    ...(parent === undefined ? {} : { parentSpanId: sid(n * 100 + parent) }),
    name,
    kind: 'internal',
    startMs: start + at,
    durationMs: ms,
    status: 'ok',
    attributes: {},
    events: [],
    ...over,
  });
  const spans: TraceSpan[] = [
    span(1, undefined, 'invoke_agent planner', 0, 2400, { kind: 'server', agent: 'planner', attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'planner', 'faultline.message.kind': 'ask' } }),
    span(2, 1, 'chat big', 50, 1600, {
      kind: 'client',
      agent: 'planner',
      code: { file: 'agents/planner.mjs', line: 12, column: 22 },
      attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'big', 'gen_ai.response.model': 'small', 'gen_ai.usage.input_tokens': 412, 'gen_ai.usage.output_tokens': 96, 'faultline.dependency': 'backup', 'faultline.chain': 'chat', 'faultline.fallback': true },
      events: [
        { name: 'retry', timeMs: start + 350, attributes: { 'faultline.dependency': 'primary', 'faultline.attempt': 1, 'faultline.retry.delay_ms': 100, 'http.response.status_code': 503 } },
        { name: 'retry', timeMs: start + 750, attributes: { 'faultline.dependency': 'primary', 'faultline.attempt': 2, 'faultline.retry.delay_ms': 200, 'http.response.status_code': 503 } },
        { name: 'fallback', timeMs: start + 1150, attributes: { 'faultline.dependency': 'primary', 'faultline.fallback.to': 'backup', 'faultline.reason': 'breaker open' } },
      ],
    }),
    span(3, 1, 'execute_tool search', 1700, 400, {
      kind: 'client',
      agent: 'planner',
      status: 'error',
      statusMessage: 'search: HTTP 503 (injected)',
      code: { file: 'agents/planner.mjs', line: 18 },
      attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'search', 'faultline.dependency': 'search' },
      events: [{ name: 'fault', timeMs: start + 1710, attributes: { 'faultline.fault': 'error', 'faultline.fault.id': 'f-7', 'faultline.fault.target': 'search' } }],
    }),
    span(4, 1, 'invoke_agent researcher', 2120, 260, { kind: 'server', agent: 'researcher', attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'researcher' }, events: [{ name: 'checkpoint', timeMs: start + 2370, attributes: { 'faultline.checkpoint.kind': 'full', 'faultline.checkpoint.bytes': 2048 } }] }),
    span(5, 4, 'chat small', 2150, 180, { kind: 'client', agent: 'researcher', attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'small', 'gen_ai.response.model': 'small', 'faultline.dependency': 'backup' } }),
  ];
  return { traceId, name: 'invoke_agent planner', startMs: start, durationMs: 2400, agents: ['planner', 'researcher'], error: true, spans };
}

/** An earlier, uneventful ask of the planner. */
export function quietTrace(start = Date.now() - 300_000): TraceSummary {
  const traceId = hex(0xdef001, 32);
  return {
    traceId,
    name: 'invoke_agent planner',
    startMs: start,
    durationMs: 640,
    agents: ['planner'],
    error: false,
    spans: [
      { traceId, spanId: sid(9001), name: 'invoke_agent planner', kind: 'server', startMs: start, durationMs: 640, status: 'ok', agent: 'planner', attributes: { 'gen_ai.operation.name': 'invoke_agent' }, events: [] },
      { traceId, spanId: sid(9002), parentSpanId: sid(9001), name: 'chat big', kind: 'client', startMs: start + 20, durationMs: 600, status: 'ok', agent: 'planner', attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'big', 'gen_ai.response.model': 'big' }, events: [] },
    ],
  };
}

/** The `traces` answer for the planner, newest first. */
export function plannerTraces(): TracesResult {
  return { enabled: true, capacity: 5000, traces: [plannerTrace(), quietTrace()] };
}
