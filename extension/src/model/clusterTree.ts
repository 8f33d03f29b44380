/**
 * The Agents view for a cluster: the children of the root grouped under the
 * node that runs each, one row per node with its health. With no cluster, or
 * a cluster of one node, the view is the plain supervision tree (agentTree).
 * Pure, like agentTree.ts.
 */
import { agentsOf, type ClusterNodeStatus, type RuntimeStatus, type TreeNodeStatus } from '../../../runtime/protocol/status.ts';
import { agentTree, esc, nodeItem, type ItemView } from './agentTree.ts';
import type { FaultView } from './snapshot.ts';

/** Children of the root that no node holds right now (a lease expired and not yet taken). */
const UNPLACED = 'cluster:unplaced';

/** A heartbeat age for people: "under 1 s", "4 s", "3 min". Whole units, so a row does not redraw on every poll. */
export function ageText(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return 'under 1 s';
  const s = Math.round(ms / 1000);
  return s < 120 ? `${s} s` : `${Math.round(s / 60)} min`;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function clusterNodeItem(n: ClusterNodeStatus | undefined, id: string, self: boolean, children: TreeNodeStatus[], faults: FaultView[]): ItemView {
  const state = n?.state ?? 'down';
  const agents = children.reduce((sum, c) => sum + agentsOf(c).length, 0);
  const parts: string[] = [state];
  if (state === 'up' || agents) parts.push(plural(agents, 'agent'));
  if (self) parts.push('this node');
  const lines = [
    `**${esc(id)}** — cluster node, ${state}${self ? ' (this node: the extension is connected to it)' : ''}`,
    '',
    '| | |',
    '|---|---|',
    `| last heartbeat | ${n ? `${ageText(n.lastSeenMs)} ago` : 'never seen'} |`,
    `| control | ${n?.url ? `\`${n.url}\`` : '—'} |`,
    `| holds | ${children.length ? children.map((c) => esc(c.id)).join(', ') : 'nothing'} |`,
  ];
  const tokens = ['clusterNode', state];
  if (self) tokens.push('thisNode');
  return {
    id: `node:${id}`,
    label: id,
    description: parts.join(' · '),
    icon: state === 'up' ? 'vm-running' : 'vm-outline',
    color: state === 'up' ? 'testing.iconPassed' : 'testing.iconFailed',
    contextValue: tokens.join(' '),
    tooltip: lines.join('\n'),
    children: children.map((c) => nodeItem(c, faults)),
  };
}

/**
 * The Agents view's rows. In a cluster of several nodes: one row per node (in
 * the runtime's order, then any node only the tree names, then the children
 * no node holds), each holding its children of the root as agentTree draws
 * them, so agent rows keep their ids, context values and status.
 */
export function agentItems(status: RuntimeStatus | undefined, faults: FaultView[] = []): ItemView[] {
  const cluster = status?.cluster;
  if (!status || !cluster || cluster.nodes.length < 2) return agentTree(status?.tree, faults);
  const held = new Map<string, string>();
  for (const n of cluster.nodes) for (const c of n.children) held.set(c, n.id);
  const groups = new Map<string, TreeNodeStatus[]>(cluster.nodes.map((n) => [n.id, []]));
  const unplaced: TreeNodeStatus[] = [];
  for (const c of status.tree.children) {
    // The child's own `node` is its owner as the tree was read; the nodes' lists are the fallback.
    const owner = c.node ?? held.get(c.id);
    if (!owner) {
      unplaced.push(c);
      continue;
    }
    let list = groups.get(owner);
    if (!list) groups.set(owner, (list = []));
    list.push(c);
  }
  const byId = new Map(cluster.nodes.map((n) => [n.id, n]));
  const items = [...groups].map(([id, children]) => clusterNodeItem(byId.get(id), id, id === cluster.node, children, faults));
  if (unplaced.length) {
    items.push({
      id: UNPLACED,
      label: 'no node',
      description: `waiting for a node · ${plural(unplaced.length, 'child', 'children')}`,
      icon: 'vm-pending',
      color: 'charts.yellow',
      contextValue: 'clusterNode unplaced',
      tooltip: `**Not placed** — no node holds these children of the root right now: another node takes them once their lease has expired.\n\n${unplaced.map((c) => esc(c.id)).join(', ')}`,
      children: unplaced.map((c) => nodeItem(c, faults)),
    });
  }
  return items;
}
