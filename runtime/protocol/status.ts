/**
 * The status JSON: what `faultline status --json` prints and what the control
 * channel's `status` method returns. Shared by the CLI, the extension and the
 * dashboard.
 *
 * The shapes are declared once, as zod schemas, in `schema/status.ts`; this
 * module holds the word lists and the tree helpers and imports no zod, so the
 * webview can use it without bundling a validator.
 */
import type { AgentStatus, SupervisorStatus, TreeNodeStatus } from './schema/status.ts';

/** Lifecycle states, in words a person understands. */
export const NODE_STATES = ['starting', 'running', 'restarting', 'backoff', 'stopping', 'stopped', 'failed'] as const;
export const STRATEGIES = ['one_for_one', 'one_for_all', 'rest_for_one'] as const;
export const RESTART_TYPES = ['permanent', 'transient', 'temporary'] as const;
export const ISOLATIONS = ['process', 'thread'] as const;
export const BREAKER_STATES = ['closed', 'open', 'half-open', 'isolated'] as const;

export type NodeState = (typeof NODE_STATES)[number];
export type Strategy = (typeof STRATEGIES)[number];
export type RestartType = (typeof RESTART_TYPES)[number];
export type Isolation = (typeof ISOLATIONS)[number];
export type BreakerState = (typeof BREAKER_STATES)[number];

export type {
  ActiveAlert,
  AgentStatus,
  AlertLevel,
  AlertRuleName,
  AlertSubjectKind,
  ClusterNodeStatus,
  ClusterStatus,
  DependencyHealth,
  DependencyStatus,
  LastError,
  McpServerStatus,
  ReliabilitySummary,
  RuntimeStatus,
  StoreStatus,
  SupervisorStatus,
  TreeNodeStatus,
} from './schema/status.ts';

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
