/**
 * The status JSON: what `faultline status --json` prints and what the control
 * channel's `status` method returns. Shared by the CLI, the extension and the
 * dashboard.
 */

/** Lifecycle states, in words a person understands. */
export type NodeState = 'starting' | 'running' | 'restarting' | 'backoff' | 'stopping' | 'stopped' | 'failed';
export const NODE_STATES: readonly NodeState[] = ['starting', 'running', 'restarting', 'backoff', 'stopping', 'stopped', 'failed'];

export type Strategy = 'one_for_one' | 'one_for_all' | 'rest_for_one';
export type RestartType = 'permanent' | 'transient' | 'temporary';
export type Isolation = 'process' | 'thread';
export type BreakerState = 'closed' | 'open' | 'half-open' | 'isolated';

export interface LastError {
  /** Error class or exit reason, e.g. `AgentCrashError`, `unresponsive`, `ModuleLoadError`. */
  type: string;
  message: string;
  time: string;
}

export interface AgentStatus {
  id: string;
  kind: 'agent';
  state: NodeState;
  /** OS process id of the agent host; for thread isolation the runtime's pid. */
  pid: number | null;
  /** Worker thread id for thread isolation. */
  threadId?: number;
  restarts: number;
  isolation: Isolation;
  restart: RestartType;
  module: string;
  /** Messages waiting in the agent's mailbox (not counting the one in flight). */
  mailbox: number;
  /** Heartbeats arriving in time. */
  liveness: boolean;
  /** Started and restored, handling messages. */
  readiness: boolean;
  startedAt: string | null;
  lastError?: LastError;
  /** The agent host's inspector WebSocket URL, when agents run under the debugger (`up --inspect-agents`). */
  inspect?: string;
}

export interface SupervisorStatus {
  id: string;
  kind: 'supervisor';
  state: NodeState;
  strategy: Strategy;
  restart: RestartType;
  /** Restarts this supervisor performed since it started (it starts afresh when its parent restarts it). */
  restarts: number;
  intensity: { limit: number; periodMs: number; inWindow: number };
  children: TreeNodeStatus[];
  lastError?: LastError;
}

export type TreeNodeStatus = AgentStatus | SupervisorStatus;

export interface DependencyStatus {
  id: string;
  kind?: string;
  breaker: BreakerState;
  errorRate: number;
  [extra: string]: unknown;
}

export interface RuntimeStatus {
  runtime: {
    pid: number;
    uptimeMs: number;
    version: string;
    name: string;
    startedAt: string;
    port?: number;
    /** Warm spare agent hosts booted and waiting, per isolation. */
    spares?: Record<Isolation, number>;
  };
  tree: SupervisorStatus;
  dependencies: DependencyStatus[];
  /** Model fallback chains: chain name → dependency ids in order (the config's `models`). */
  models?: Record<string, string[]>;
  [extra: string]: unknown;
}

/** Depth-first walk over a status tree. */
export function* walkTree(node: TreeNodeStatus, parent?: SupervisorStatus): Generator<{ node: TreeNodeStatus; parent?: SupervisorStatus; depth: number }> {
  const stack: { node: TreeNodeStatus; parent?: SupervisorStatus; depth: number }[] = [{ node, parent, depth: 0 }];
  while (stack.length) {
    const item = stack.pop()!;
    yield item;
    if (item.node.kind === 'supervisor') {
      const kids = item.node.children;
      for (let i = kids.length - 1; i >= 0; i--) stack.push({ node: kids[i], parent: item.node, depth: item.depth + 1 });
    }
  }
}

/** Finds a node by id in a status tree. */
export function findNode(tree: TreeNodeStatus, id: string): TreeNodeStatus | undefined {
  for (const { node } of walkTree(tree)) if (node.id === id) return node;
  return undefined;
}

/** All agents of a status tree, in tree order. */
export function agentsOf(tree: TreeNodeStatus): AgentStatus[] {
  const out: AgentStatus[] = [];
  for (const { node } of walkTree(tree)) if (node.kind === 'agent') out.push(node);
  return out;
}
