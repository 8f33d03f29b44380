/**
 * The supervision tree as the dashboard holds it: one mutable record per node,
 * updated in place by snapshots and by `agent.state` / `supervisor.state`
 * events, with the set of nodes whose picture changed since the last frame.
 * Keeping records (not rebuilding the tree per event) is what makes 100 state
 * changes a second across 1,000 agents cheap: an event touches one record.
 */
import { applyTreeEvent, isUnhealthy as unhealthy } from '../../../runtime/protocol/clientModel.ts';
import { findNode } from '../../../runtime/protocol/status.ts';
import type { AgentStateEvent, SupervisorStateEvent } from '../../../runtime/protocol/events.ts';
import type { LastError, TreeNodeStatus } from '../../../runtime/protocol/status.ts';
import { isObj, num } from './read.ts';

export interface Transition {
  time: string;
  state: string;
  previous?: string;
  reason?: string;
}

export interface NodeVM {
  id: string;
  kind: 'agent' | 'supervisor';
  parent: string | null;
  children: string[];
  state: string;
  restarts: number;
  pid: number | null;
  isolation?: string;
  restart?: string;
  module?: string;
  mailbox?: number;
  liveness?: boolean;
  readiness?: boolean;
  startedAt?: string | null;
  strategy?: string;
  intensity?: { limit: number; periodMs: number; inWindow: number };
  lastError?: LastError;
  /** In a cluster, on a child of the root: the node that runs it. */
  node?: string;
  /** Resident memory of the agent's process, when the runtime reports it per node. */
  rssBytes?: number;
  /** CPU share of the agent's process (1 = one core), when reported per node. */
  cpu?: number;
  /** Newest last, at most HISTORY entries. */
  history: Transition[];
  /** Set when the restart count went up; the view plays the pulse and clears it. */
  pulse: boolean;
}

const HISTORY = 50;

/** Not serving: the protocol's one rule (not running, no heartbeats, or not restored). */
export const isUnhealthy = (n: NodeVM): boolean => unhealthy(n);

function pushHistory(n: NodeVM, t: Transition): void {
  const last = n.history[n.history.length - 1];
  if (last && last.state === t.state && last.time === t.time) return;
  n.history.push(t);
  if (n.history.length > HISTORY) n.history.splice(0, n.history.length - HISTORY);
}

export class TreeModel {
  readonly nodes = new Map<string, NodeVM>();
  rootId: string | null = null;
  /** Bumped whenever ids, parents or child order change: the layout depends on nothing else. */
  structureVersion = 0;
  /** Nodes whose picture changed since `takeDirty()`. */
  private dirty = new Set<string>();
  /** The status tree: the last snapshot's, with every event since folded in by the protocol's client model. */
  private status: TreeNodeStatus | null = null;

  takeDirty(): Set<string> {
    const d = this.dirty;
    this.dirty = new Set();
    return d;
  }

  markDirty(id: string): void {
    this.dirty.add(id);
  }

  get(id: string): NodeVM | undefined {
    return this.nodes.get(id);
  }

  /** Replaces the tree with a snapshot's, keeping each surviving node's history. */
  applySnapshot(root: TreeNodeStatus, time: string): void {
    const seen = new Set<string>();
    let structural = this.rootId !== root.id;
    const visit = (s: TreeNodeStatus, parent: string | null) => {
      seen.add(s.id);
      let n = this.nodes.get(s.id);
      const children = s.kind === 'supervisor' && Array.isArray(s.children) ? s.children.map((c) => c.id) : [];
      if (!n || n.kind !== s.kind) {
        n = { id: s.id, kind: s.kind, parent, children, state: s.state, restarts: s.restarts ?? 0, pid: null, history: [{ time: (s.kind === 'agent' && s.startedAt) || time, state: s.state }], pulse: false };
        this.nodes.set(s.id, n);
        structural = true;
      } else {
        if (n.parent !== parent || n.children.length !== children.length || n.children.some((c, i) => c !== children[i])) structural = true;
        n.parent = parent;
        n.children = children;
        if (n.state !== s.state) pushHistory(n, { time, state: s.state, previous: n.state, reason: 'snapshot' });
        if ((s.restarts ?? 0) > n.restarts) n.pulse = true;
      }
      this.copyStatus(n, s);
      this.dirty.add(n.id);
      if (s.kind === 'supervisor' && Array.isArray(s.children)) for (const c of s.children) visit(c, s.id);
    };
    visit(root, null);
    this.status = root;
    for (const id of [...this.nodes.keys()]) {
      if (!seen.has(id)) {
        this.nodes.delete(id);
        structural = true;
      }
    }
    this.rootId = root.id;
    if (structural) this.structureVersion++;
  }

  private copyStatus(n: NodeVM, s: TreeNodeStatus): void {
    n.state = s.state;
    n.restarts = s.restarts ?? 0;
    n.lastError = s.lastError;
    n.node = typeof s.node === 'string' ? s.node : undefined;
    if (s.kind === 'agent') {
      n.pid = s.pid ?? null;
      n.isolation = s.isolation;
      n.restart = s.restart;
      n.module = s.module;
      n.mailbox = s.mailbox;
      n.liveness = s.liveness;
      n.readiness = s.readiness;
      n.startedAt = s.startedAt;
      // Per-node resources are optional extras: MiB or bytes, ratio or percent-free names.
      const rssMiB = num(s, 'rssMiB');
      const rss = rssMiB !== null ? rssMiB * 1048576 : num(s, 'rssBytes', 'memory.rssBytes');
      if (rss !== null) n.rssBytes = rss;
      const cpu = num(s, 'cpu', 'cpuRatio');
      if (cpu !== null) n.cpu = cpu;
    } else {
      n.pid = null;
      n.strategy = s.strategy;
      n.restart = s.restart;
      n.intensity = isObj(s.intensity) ? { limit: s.intensity.limit, periodMs: s.intensity.periodMs, inWindow: s.intensity.inWindow } : undefined;
    }
  }

  /**
   * Folds an agent event into the status tree (the protocol's `applyTreeEvent`)
   * and the node's view: its history, restart pulse and the supervisor's
   * intensity estimate. False when the agent is unknown (the tree changed: ask for a snapshot).
   */
  applyAgentState(e: AgentStateEvent): boolean {
    const n = this.nodes.get(e.agent);
    const s = n?.kind === 'agent' && this.fold({ name: 'agent.state', payload: e }, e.agent);
    if (!n || !s) return false;
    if (s.restarts > n.restarts) {
      n.pulse = true;
      // The supervisor's intensity window counts this restart too; the next snapshot corrects the estimate.
      const sup = n.parent ? this.nodes.get(n.parent) : undefined;
      if (sup?.intensity) {
        sup.intensity.inWindow += s.restarts - n.restarts;
        this.dirty.add(sup.id);
      }
    }
    // A wait starting or ending (`ctx.waitFor`) is not a state change: no "running → running" row.
    const waitOnly = !!e.wait && e.state === (e.previous ?? n.state);
    if (!waitOnly) pushHistory(n, { time: e.time, state: e.state, previous: e.previous ?? n.state, reason: e.reason });
    this.copyStatus(n, s);
    // Heartbeats come back with a restart; the next snapshot has the exact value.
    if (e.state === 'running') n.liveness = true;
    this.dirty.add(n.id);
    return true;
  }

  applySupervisorState(e: SupervisorStateEvent): boolean {
    const n = this.nodes.get(e.supervisor);
    const s = n?.kind === 'supervisor' && this.fold({ name: 'supervisor.state', payload: e }, e.supervisor);
    if (!n || !s) return false;
    if (s.restarts > n.restarts) n.pulse = true;
    pushHistory(n, { time: e.time, state: e.state, previous: e.previous ?? n.state, reason: e.reason });
    const intensity = n.intensity;
    this.copyStatus(n, s);
    // Kept: the event does not carry the window, and the estimate counts the restarts since the snapshot.
    if (intensity) n.intensity = intensity;
    this.dirty.add(n.id);
    return true;
  }

  /** The node after folding the event into the status tree, or undefined when the tree does not have it. */
  private fold(e: Parameters<typeof applyTreeEvent>[1], id: string): TreeNodeStatus | undefined {
    if (!this.status) return undefined;
    const next = applyTreeEvent(this.status, e);
    if (next === this.status) return undefined;
    this.status = next;
    return findNode(next, id);
  }

  /** Agents by state, and the unhealthy total, for the toolbar. */
  counts(): { agents: number; supervisors: number; unhealthy: number; byState: Map<string, number> } {
    const byState = new Map<string, number>();
    let agents = 0;
    let supervisors = 0;
    let unhealthy = 0;
    for (const n of this.nodes.values()) {
      if (n.kind === 'supervisor') {
        supervisors++;
        continue;
      }
      agents++;
      byState.set(n.state, (byState.get(n.state) ?? 0) + 1);
      if (isUnhealthy(n)) unhealthy++;
    }
    return { agents, supervisors, unhealthy, byState };
  }
}
