import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HealthModel } from './HealthModel.ts';
import { exampleStatus } from './fixtures.ts';
import { findNode, type AgentStatus } from '../../../runtime/protocol/status.ts';
import { ManualTimers } from '../util/timers.ts';

const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };

test('events make a new snapshot at once: agent pid and state, breakers, alerts; an earlier snapshot never changes', () => {
  const m = new HealthModel(quiet, { timers: new ManualTimers() });
  (m as unknown as { snap: unknown }).snap = { status: exampleStatus(), faults: [], alerts: [] };
  const first = m.snapshot;
  const firstJson = JSON.stringify(first);
  let changes = 0;
  m.onDidChange(() => changes++);
  m.apply({ name: 'agent.state', params: { agent: 'planner', state: 'restarting', previous: 'running', pid: null, restarts: 1 } });
  m.apply({ name: 'agent.state', params: { agent: 'planner', state: 'running', previous: 'restarting', pid: 777, restarts: 1 } });
  const planner = findNode(m.snapshot.status!.tree, 'planner') as AgentStatus;
  assert.equal(planner.pid, 777);
  assert.equal(planner.restarts, 1);
  m.apply({ name: 'breaker.state', params: { dependency: 'search', state: 'open', previous: 'closed' } });
  assert.equal(m.snapshot.status!.dependencies[0].breaker, 'open');
  m.apply({ name: 'alert', params: { state: 'firing', level: 'critical', rule: 'breakerOpen', subject: 'search', message: 'search is open' } });
  assert.equal(m.snapshot.alerts.length, 1);
  m.apply({ name: 'alert', params: { state: 'resolved', level: 'critical', rule: 'breakerOpen', subject: 'search' } });
  assert.equal(m.snapshot.alerts.length, 0);
  assert.equal(changes, 5);
  assert.equal(JSON.stringify(first), firstJson, 'a snapshot handed out earlier (to a view, to the webview) is not patched in place');
  m.apply({ name: 'machine.transition', params: { time: 't', id: 'planner', kind: 'agent', from: 'running.live', to: 'exited', event: 'EXIT' } });
  assert.equal(changes, 5, 'a lifecycle transition is forwarded, not a change of the snapshot');
  m.dispose();
});

test('log events are kept per agent, bounded', () => {
  const m = new HealthModel(quiet, { timers: new ManualTimers() });
  for (let i = 0; i < 600; i++) m.apply({ name: 'log', params: { time: 't', level: 'info', msg: `line ${i}`, agent: 'writer' } });
  assert.equal(m.logsOf('writer').length, 500);
  assert.equal(m.logsOf('writer').at(-1)!.msg, 'line 599');
  assert.deepEqual(m.logsOf('planner'), []);
  m.dispose();
});
