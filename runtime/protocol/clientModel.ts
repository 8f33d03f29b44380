/**
 * The one client model of the runtime's status, for the extension and the
 * dashboard alike (pure and browser-safe: types only from the protocol):
 * `applyEvent` folds an event into a status snapshot without touching the
 * one it was given, and the selectors say what both clients show — which
 * agents are unhealthy, how alerts are keyed, which dependency of a chain
 * serves.
 */
import type { BreakerStateEvent, EventName, EventPayloads } from './events.ts';
import type { BreakerState, RuntimeStatus, TreeNodeStatus } from './status.ts';

/** One event as the control channel names it. */
export type ClientEvent = { [N in EventName]: { name: N; payload: EventPayloads[N] } }[EventName];

/**
 * Unhealthy: not serving as the runtime's `/readyz` means it — any state but
 * `running`, or running without heartbeats (`liveness: false`), or not
 * restored (`readiness: false`). Supervisors are judged by their state alone.
 */
export function isUnhealthy(n: { state: string; liveness?: boolean; readiness?: boolean }): boolean {
  return n.state !== 'running' || n.liveness === false || n.readiness === false;
}

/** The agents of a tree that are unhealthy. */
export function unhealthyCount(tree: TreeNodeStatus | undefined): number {
  if (!tree) return 0;
  if (tree.kind === 'agent') return isUnhealthy(tree) ? 1 : 0;
  let n = 0;
  for (const c of tree.children) n += unhealthyCount(c);
  return n;
}

/** An alert's identity, as the runtime's alert engine keys it: its rule, on what kind of subject, on which. */
export function alertKey(a: { rule: string; subject: string; subjectKind?: string }): string {
  return `${a.rule}\u0000${a.subjectKind ?? ''}\u0000${a.subject}`;
}

/**
 * The firing alerts after one `alert` event: a resolved alert leaves the
 * list, a firing one replaces its earlier self (newest first).
 */
export function applyAlertEvent<A extends { rule: string; subject: string; subjectKind?: string }>(alerts: readonly A[], e: A & { state?: string }, toAlert: (e: A & { state?: string }) => A | undefined = (x) => x): A[] {
  const key = alertKey(e);
  const rest = alerts.filter((a) => alertKey(a) !== key);
  if (e.state === 'resolved') return rest;
  const a = toAlert(e);
  return a ? [a, ...rest] : rest;
}

/** Whether a breaker in this state lets calls through (`closed`, `half-open`; a dependency with no breaker state yet does too). */
export function admitsCalls(breaker: BreakerState | string | undefined): boolean {
  return breaker === undefined || breaker === 'closed' || breaker === 'half-open';
}

/**
 * Which dependency of a model chain serves now, as the gateway picks it: the
 * first of the chain whose breaker admits calls (null when none does).
 */
export function servingModel(chain: readonly string[], breakerOf: (dependency: string) => BreakerState | string | undefined): string | null {
  return chain.find((id) => admitsCalls(breakerOf(id))) ?? null;
}

/** A copy of the tree with the node `id` replaced by `patch(node)`; the same tree when `id` is not in it. */
function patchNode(tree: TreeNodeStatus, id: string, patch: (n: TreeNodeStatus) => TreeNodeStatus): TreeNodeStatus {
  if (tree.id === id) return patch(tree);
  if (tree.kind === 'agent') return tree;
  let changed = false;
  const children = tree.children.map((c) => {
    const p = patchNode(c, id, patch);
    if (p !== c) changed = true;
    return p;
  });
  return changed ? { ...tree, children } : tree;
}

/** The tree after an `agent.state` or `supervisor.state` event; the same tree when it does not have the node named. */
export function applyTreeEvent<T extends TreeNodeStatus>(tree: T, e: Extract<ClientEvent, { name: 'agent.state' | 'supervisor.state' }>): T {
  if (e.name === 'agent.state') {
    const p = e.payload;
    return patchNode(tree, p.agent, (n) =>
      n.kind === 'agent' ? { ...n, state: p.state, pid: p.pid, restarts: p.restarts, ...(p.error ? { lastError: p.error } : {}), ...(p.inspect !== undefined ? { inspect: p.inspect } : {}), ...(p.waiting !== undefined ? { waiting: p.waiting } : {}) } : n,
    ) as T;
  }
  const p = e.payload;
  return patchNode(tree, p.supervisor, (n) => (n.kind === 'supervisor' ? { ...n, state: p.state, restarts: p.restarts } : n)) as T;
}

/**
 * The status after one event: agent and supervisor states, restarts, pids
 * and last errors, and breaker states. The status given is never changed;
 * what the event does not touch is shared. Events that carry no part of the
 * status (logs, metrics, calls, machine transitions) return it as it is, and
 * so does an event naming a node the status does not have (the caller then
 * asks for a fresh status).
 */
export function applyEvent<S extends RuntimeStatus>(status: S, e: ClientEvent): S {
  switch (e.name) {
    case 'agent.state':
    case 'supervisor.state': {
      const tree = applyTreeEvent(status.tree, e);
      return tree === status.tree ? status : { ...status, tree };
    }
    case 'breaker.state': {
      const p = e.payload as BreakerStateEvent;
      const i = status.dependencies.findIndex((d) => d.id === p.dependency);
      if (i < 0 || status.dependencies[i].breaker === p.state) return status;
      const dependencies = status.dependencies.slice();
      dependencies[i] = { ...dependencies[i], breaker: p.state };
      return { ...status, dependencies };
    }
    default:
      return status;
  }
}
