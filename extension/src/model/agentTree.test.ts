import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agentTree, type ItemView } from './agentTree.ts';
import { unhealthyCount } from '../../../runtime/protocol/clientModel.ts';
import { dependencyItems, faultItems } from './dependencyList.ts';
import { healthSummary } from './healthSummary.ts';
import { exampleStatus } from './fixtures.ts';
import type { AgentStatus } from '../../../runtime/protocol/status.ts';

const flat = (items: ItemView[]): ItemView[] => items.flatMap((i) => [i, ...flat(i.children ?? [])]);

test('the tree mirrors the supervision tree, supervisors holding their children', () => {
  const items = agentTree(exampleStatus().tree);
  assert.deepEqual(flat(items).map((i) => i.label), ['root', 'planner', 'crew', 'researcher', 'writer', 'workers', 'fetcher', 'summarizer']);
  const crew = items[0].children![1];
  assert.match(crew.description, /one_for_all/);
  assert.match(crew.contextValue, /\bsupervisor\b/);
});

test('an agent row shows state, restarts and pid, with menu tokens', () => {
  const s = exampleStatus();
  const planner = s.tree.children[0] as AgentStatus;
  planner.restarts = 2;
  planner.pid = 4321;
  const item = flat(agentTree(s.tree)).find((i) => i.label === 'planner')!;
  assert.equal(item.description, 'running · ↻2 · pid 4321');
  assert.equal(item.icon, 'pass-filled');
  assert.equal(item.color, 'testing.iconPassed');
  assert.match(item.contextValue, /\bagent\b/);
  assert.match(item.contextValue, /\balive\b/);
  assert.match(item.tooltip, /\| restarts \| 2 \|/);
  const fetcher = flat(agentTree(s.tree)).find((i) => i.label === 'fetcher')!;
  assert.match(fetcher.description, /thread 1/);
});

test('failed and restarting agents count as unhealthy and look it', () => {
  const s = exampleStatus();
  const [planner] = s.tree.children as AgentStatus[];
  planner.state = 'failed';
  planner.lastError = { type: 'AgentCrashError', message: 'boom', time: 't' };
  (s.tree.children[1] as { children: AgentStatus[] }).children[0].state = 'restarting';
  assert.equal(unhealthyCount(s.tree), 2);
  const item = flat(agentTree(s.tree)).find((i) => i.label === 'planner')!;
  assert.equal(item.icon, 'error');
  assert.doesNotMatch(item.contextValue, /\balive\b/);
  assert.match(item.tooltip, /AgentCrashError/);
});

test('dependencies show breaker and error rate; faults are listed and marked', () => {
  const s = exampleStatus();
  s.dependencies[0].breaker = 'open';
  s.dependencies[0].errorRate = 0.5;
  const faults = [{ id: 'f1', fault: 'error', target: 'search', params: { status: 503 } }];
  const [dep] = dependencyItems(s.dependencies, faults);
  assert.equal(dep.description, 'open · 50% errors · ⚡error');
  assert.match(dep.contextValue, /\bhasFaults\b/);
  const [f] = faultItems(faults);
  assert.equal(f.label, 'error → search');
  assert.equal(f.description, 'status 503');
});

test('the status bar summary counts agents up, open breakers, faults and the worst alert', () => {
  const s = exampleStatus();
  (s.tree.children[0] as AgentStatus).state = 'restarting';
  s.dependencies[0].breaker = 'open';
  const h = healthSummary('connected', { status: s, faults: [{ id: 'f1', fault: 'kill', target: 'planner', params: {} }], alerts: [{ level: 'warning', rule: 'errorRate', subject: 'search', message: 'm', since: '' }, { level: 'critical', rule: 'breakerOpen', subject: 'search', message: 'm', since: '' }] });
  assert.equal(h.up, 4);
  assert.equal(h.total, 5);
  assert.equal(h.text, '$(pulse) 4/5  $(debug-disconnect) 1  $(zap) 1  $(error) breakerOpen');
  assert.equal(h.severity, 'error');
  assert.equal(healthSummary('reconnecting', { faults: [], alerts: [] }).severity, 'off');
});

test('an agent that waits shows the wait\'s name and since when, a bell, and the "waiting" menu token', () => {
  const s = exampleStatus();
  const planner = s.tree.children[0] as AgentStatus;
  planner.pid = 4321;
  planner.waiting = [{ name: 'approval', since: '2026-12-07T23:04:05.000Z' }];
  const item = flat(agentTree(s.tree)).find((i) => i.label === 'planner')!;
  assert.match(item.description, /^running · waiting for "approval" since \d\d:\d\d:\d\d · pid 4321$/);
  assert.equal(item.icon, 'bell');
  assert.match(item.contextValue, /\bwaiting\b/);
  assert.match(item.tooltip, /\*\*Waiting\*\*.*approval.*2026-12-07T23:04:05\.000Z/);
  planner.waiting = [];
  const idle = flat(agentTree(s.tree)).find((i) => i.label === 'planner')!;
  assert.equal(idle.icon, 'pass-filled');
  assert.doesNotMatch(idle.contextValue, /\bwaiting\b/);
});
