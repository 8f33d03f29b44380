/**
 * The dashboard's models and layout are plain TypeScript (no DOM), so their
 * rules are tested here directly: tolerance of missing or reshaped fields
 * (other issues are still shaping the reliability summary and metrics), tree
 * reconciliation, and the filter and collapse rules of the layout.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { layoutTree } from '../src/layout.ts';
import { ClusterModel } from '../src/model/ClusterModel.ts';
import { HealthModel } from '../src/model/HealthModel.ts';
import { TreeModel } from '../src/model/TreeModel.ts';
import { age } from '../src/view/format.ts';
import { agent, clusterStatus, exampleStatus, supervisor } from './fixtures.ts';

const bare = () => ({ runtime: { pid: 1, uptimeMs: 0, version: '0.1.0', name: 'bare', startedAt: '' }, tree: supervisor('root', [agent('a')]), dependencies: [] });

test('a status with nothing but the tree reads as unknowns, not errors', () => {
  const hm = new HealthModel();
  hm.applySnapshot(bare());
  assert.deepEqual(hm.business, { taskCompletion: null, tasks: null, sla: null, asks: null });
  assert.equal(hm.infra.apiCost, null);
  assert.equal(hm.alerts.size, 0);
  hm.applySnapshot({ ...bare(), reliability: 'garbage', alerts: [{ level: 'loud' }, null], faults: [{}], models: { chat: [1, 2] } } as never);
  assert.equal(hm.alerts.size, 0);
  assert.equal(hm.faults.size, 0);
  assert.equal(hm.chains.size, 0);
  hm.applyMetrics(null);
  hm.applyMetrics({ eventLoopLagMs: 7 });
  assert.equal(hm.infra.loopLagMs, 7);
  hm.applyFault({ action: 'injected', fault: { id: 'f', fault: 'kill', target: 'a' } });
  assert.equal(hm.faultsOn('a').length, 1);
  hm.applyFault({ action: 'cleared', fault: { id: 'f', fault: 'kill', target: 'a' } });
  assert.equal(hm.faultsOn('a').length, 0);
});

test('rates read either shape, preferring the recent window when it has data', () => {
  const hm = new HealthModel();
  hm.applyReliability({ business: { taskCompletionRate: 0.9, slaCompliance: { rate: 0.8, total: 10, window: { rate: null, total: 0 } } } });
  assert.deepEqual(hm.business, { taskCompletion: 0.9, tasks: null, sla: 0.8, asks: 10 });
  hm.applySnapshot(exampleStatus());
  assert.equal(hm.business.taskCompletion, 0.95);
  assert.equal(hm.infra.memAgents, 150 * 1048576);
  assert.equal(hm.infra.loopLagMs, 12.5);
});

test('which model serves: observed calls win, an opened breaker demotes them, else the first that admits calls', () => {
  const hm = new HealthModel();
  hm.applySnapshot(exampleStatus());
  const chat = hm.chains.get('chat')!;
  assert.deepEqual(hm.servingOf(chat), { id: 'backup', observed: false });
  hm.applyDependencyCall({ dependency: 'backup', chain: 'chat', phase: 'success' });
  assert.deepEqual(hm.servingOf(chat), { id: 'backup', observed: true });
  hm.applyBreaker({ time: '', dependency: 'backup', state: 'open', previous: 'closed' });
  assert.deepEqual(hm.servingOf(chat), { id: null, observed: false }, 'primary and backup both open');
  hm.applyDependencyCall({ dependency: 'x', chain: 'search-chain', phase: 'fallback', to: 'y' });
  assert.deepEqual(hm.chains.get('search-chain')!.deps, ['x', 'y'], 'a chain is learnt from events when the status has none');
});

test('snapshots reconcile in place: history survives, structure changes are counted, unknown agents are reported', () => {
  const tm = new TreeModel();
  tm.applySnapshot(exampleStatus().tree, '2025-01-01T00:00:00.000Z');
  const v = tm.structureVersion;
  assert.equal(tm.applyAgentState({ time: 't1', agent: 'planner', supervisor: 'root', state: 'failed', previous: 'running', pid: null, restarts: 2, isolation: 'process' }), true);
  assert.equal(tm.get('planner')!.pulse, true);
  assert.equal(tm.applyAgentState({ time: 't1', agent: 'ghost', supervisor: 'root', state: 'failed', previous: 'running', pid: null, restarts: 0, isolation: 'process' }), false);
  tm.applySnapshot(exampleStatus().tree, 't2');
  assert.equal(tm.structureVersion, v, 'same ids, same order: no relayout');
  assert.deepEqual(tm.get('planner')!.history.map((h) => h.state), ['running', 'failed', 'running']);
  const s = exampleStatus().tree;
  s.children.push(agent('late'));
  tm.applySnapshot(s, 't3');
  assert.equal(tm.structureVersion, v + 1);
  assert.equal(tm.counts().agents, 5);
});

test('a wait starting or ending (state equal to previous, with wait) adds no history row; a real change after it does', () => {
  const tm = new TreeModel();
  tm.applySnapshot(exampleStatus().tree, 't0');
  const since = '2025-01-01T00:00:01.000Z';
  const base = { agent: 'planner', supervisor: 'root', state: 'running', previous: 'running', pid: 1, restarts: 0, isolation: 'process' } as const;
  const before = tm.get('planner')!.history.length;
  assert.equal(tm.applyAgentState({ ...base, time: 't1', wait: { name: 'approval', phase: 'start', since }, waiting: [{ name: 'approval', since }] }), true);
  assert.equal(tm.applyAgentState({ ...base, time: 't2', wait: { name: 'approval', phase: 'end', outcome: 'signal', since }, waiting: [] }), true);
  assert.equal(tm.get('planner')!.history.length, before, 'no row for the wait start and end');
  tm.applyAgentState({ ...base, time: 't3', state: 'failed', previous: 'running', pid: null });
  assert.equal(tm.get('planner')!.history.length, before + 1);
  assert.equal(tm.get('planner')!.history.at(-1)!.state, 'failed');
});

test('layout: config order, one row each, unhealthy filter keeps ancestors, collapse counts what it hides', () => {
  const tm = new TreeModel();
  tm.applySnapshot(exampleStatus().tree, 't');
  const all = layoutTree(tm, { collapsed: new Set(), unhealthyOnly: false });
  assert.deepEqual(all.nodes.map((n) => n.id), ['root', 'planner', 'crew', 'researcher', 'writer', 'scheduler']);
  assert.deepEqual(all.nodes.map((n) => n.y), [...all.nodes.map((n) => n.y)].sort((a, b) => a - b), 'top to bottom in that order');
  assert.ok(all.links.length > 0);
  const sick = layoutTree(tm, { collapsed: new Set(), unhealthyOnly: true });
  assert.deepEqual(sick.nodes.map((n) => n.id), ['root', 'crew', 'writer']);
  assert.equal(sick.byId.get('root')!.hidden, 2, 'planner and scheduler are filtered out');
  const folded = layoutTree(tm, { collapsed: new Set(['crew']), unhealthyOnly: false });
  assert.deepEqual(folded.byId.get('crew'), { ...folded.byId.get('crew')!, hidden: 2, hiddenUnhealthy: 1, expanded: false });
  assert.equal(folded.nodes.length, 4);
  assert.deepEqual(layoutTree(new TreeModel(), { collapsed: new Set(), unhealthyOnly: false }).nodes, []);
});

test('cluster: nodes and this node from the snapshot, none without a cluster; a down node keeps ageing, an up one does not', () => {
  const cm = new ClusterModel();
  cm.applySnapshot(exampleStatus(), 0);
  assert.equal(cm.active, false);
  assert.equal(cm.takeDirty(), false, 'nothing to draw without a cluster');
  cm.applySnapshot(clusterStatus(), 1000);
  assert.equal(cm.takeDirty(), true);
  assert.equal(cm.self, 'node-a');
  assert.deepEqual(cm.nodes.map((n) => [n.id, n.state, n.self, n.children.length]), [['node-a', 'up', true, 2], ['node-b', 'down', false, 1]]);
  assert.equal(cm.heartbeatAge(cm.get('node-a')!, 4000), 420, 'heartbeats go on between snapshots');
  assert.equal(cm.heartbeatAge(cm.get('node-b')!, 4000), 10_400);
  assert.equal(age(420), '420 ms');
  assert.equal(age(10_400), '10.4 s');
  assert.equal(age(192_000), '3m 12s');
  cm.applySnapshot({ ...clusterStatus(), cluster: { node: 7, nodes: [{ id: 'x', state: 'weird' }, null, { state: 'up' }] } } as never, 0);
  assert.deepEqual(cm.nodes.map((n) => [n.id, n.state, n.self, n.children]), [['x', 'down', false, []]], 'read tolerantly');
  assert.ok(Number.isNaN(cm.heartbeatAge(cm.nodes[0], 0)));
  cm.takeDirty();
  cm.applySnapshot(exampleStatus(), 0);
  assert.equal(cm.active, false);
  assert.equal(cm.takeDirty(), true, 'the strip clears once the cluster is gone');
});

test('cluster: each child of the root knows its node, through snapshots and events', () => {
  const tm = new TreeModel();
  tm.applySnapshot(clusterStatus().tree, 't');
  assert.equal(tm.get('planner')!.node, 'node-a');
  assert.equal(tm.get('scheduler')!.node, 'node-b');
  assert.equal(tm.get('writer')!.node, undefined, 'only children of the root are placed');
  tm.applyAgentState({ time: 't1', agent: 'planner', supervisor: 'root', state: 'restarting', previous: 'running', pid: null, restarts: 2, isolation: 'process' });
  assert.equal(tm.get('planner')!.node, 'node-a', 'an event keeps the node');
  const moved = clusterStatus();
  moved.tree.children[2].node = 'node-a';
  tm.applySnapshot(moved.tree, 't2');
  assert.equal(tm.get('scheduler')!.node, 'node-a', 'taken over');
  tm.applySnapshot(exampleStatus().tree, 't3');
  assert.equal(tm.get('planner')!.node, undefined);
});
