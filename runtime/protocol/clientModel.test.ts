import assert from 'node:assert/strict';
import { test } from 'node:test';
import { alertKey, applyAlertEvent, applyEvent, isUnhealthy, servingModel, unhealthyCount, type ClientEvent } from './clientModel.ts';
import type { RuntimeStatus } from './status.ts';

const agent = (id: string, extra: Record<string, unknown> = {}) => ({ id, kind: 'agent' as const, state: 'running' as const, pid: 100, restarts: 0, isolation: 'process' as const, restart: 'permanent' as const, module: `agents/${id}.mjs`, mailbox: 0, liveness: true, readiness: true, startedAt: '2026-12-03T10:00:00.000Z', ...extra });
function status(): RuntimeStatus {
  return {
    runtime: { pid: 1, uptimeMs: 10, version: '0.1.0', name: 't', startedAt: '2026-12-03T10:00:00.000Z' },
    tree: {
      id: 'root', kind: 'supervisor', state: 'running', strategy: 'one_for_one', restart: 'permanent', restarts: 0, intensity: { limit: 5, periodMs: 60000, inWindow: 0 },
      children: [agent('planner'), { id: 'crew', kind: 'supervisor', state: 'running', strategy: 'one_for_all', restart: 'permanent', restarts: 0, intensity: { limit: 5, periodMs: 60000, inWindow: 0 }, children: [agent('writer')] }],
    },
    dependencies: [{ id: 'primary', breaker: 'closed', errorRate: 0 }, { id: 'backup', breaker: 'closed', errorRate: 0 }],
    models: { chat: ['primary', 'backup'] },
  } as unknown as RuntimeStatus;
}
const time = '2026-12-03T10:00:01.000Z';

test('applyEvent makes a new status for an agent.state event and leaves the one it was given as it was', () => {
  const s = status();
  const before = JSON.stringify(s);
  const e = { name: 'agent.state', payload: { time, agent: 'writer', supervisor: 'crew', state: 'restarting', previous: 'running', pid: null, restarts: 1, isolation: 'process', reason: 'killed', error: { type: 'AgentCrashError', message: 'boom', time } } } as ClientEvent;
  const next = applyEvent(s, e);
  assert.equal(JSON.stringify(s), before, 'the input is not mutated');
  const crew = next.tree.children[1];
  assert.ok(crew.kind === 'supervisor');
  assert.deepEqual({ state: crew.children[0].state, pid: (crew.children[0] as { pid: unknown }).pid, restarts: crew.children[0].restarts, err: crew.children[0].lastError?.message }, { state: 'restarting', pid: null, restarts: 1, err: 'boom' });
  assert.equal(next.tree.children[0], s.tree.children[0], 'what the event does not touch is shared');
  assert.equal(next.dependencies, s.dependencies);
});

test('an agent.state event of a wait carries the waits pending into the node', () => {
  const waiting = [{ name: 'approval', since: time }];
  const e = { name: 'agent.state', payload: { time, agent: 'planner', supervisor: 'root', state: 'running', previous: 'running', pid: 100, restarts: 0, isolation: 'process', wait: { name: 'approval', phase: 'start', since: time }, waiting } } as ClientEvent;
  const next = applyEvent(status(), e);
  assert.deepEqual((next.tree.children[0] as { waiting?: unknown }).waiting, waiting);
});

test('supervisor and breaker events; events naming nothing known, or carrying no status, return the same status', () => {
  const s = status();
  const sup = applyEvent(s, { name: 'supervisor.state', payload: { time, supervisor: 'crew', parent: 'root', state: 'restarting', previous: 'running', restarts: 2 } } as ClientEvent);
  assert.equal(sup.tree.children[1].state, 'restarting');
  assert.equal(sup.tree.children[1].restarts, 2);
  const br = applyEvent(s, { name: 'breaker.state', payload: { time, dependency: 'primary', state: 'open', previous: 'closed' } } as ClientEvent);
  assert.equal(br.dependencies[0].breaker, 'open');
  assert.equal(s.dependencies[0].breaker, 'closed');
  assert.equal(applyEvent(s, { name: 'agent.state', payload: { time, agent: 'ghost', supervisor: 'root', state: 'running', previous: 'starting', pid: 1, restarts: 0, isolation: 'process' } } as ClientEvent), s);
  assert.equal(applyEvent(s, { name: 'log', payload: { time, level: 'info', msg: 'hi' } } as ClientEvent), s);
  assert.equal(applyEvent(s, { name: 'machine.transition', payload: { time, id: 'writer', kind: 'agent', from: 'running.live', to: 'exited', event: 'EXIT' } } as ClientEvent), s);
});

test('one unhealthy rule: not running, not live or not ready', () => {
  assert.equal(isUnhealthy(agent('a')), false);
  assert.equal(isUnhealthy(agent('a', { state: 'backoff' })), true);
  assert.equal(isUnhealthy(agent('a', { liveness: false })), true);
  assert.equal(isUnhealthy(agent('a', { readiness: false })), true, 'running but not restored is not serving');
  const s = status();
  assert.equal(unhealthyCount(s.tree), 0);
  const next = applyEvent(s, { name: 'agent.state', payload: { time, agent: 'planner', supervisor: 'root', state: 'failed', previous: 'running', pid: null, restarts: 3, isolation: 'process' } } as ClientEvent);
  assert.equal(unhealthyCount(next.tree), 1);
});

test('alerts are keyed by rule, subject kind and subject, as the runtime keys them', () => {
  type A = { rule: string; subject: string; subjectKind?: string; level: string; message: string; since: string };
  const base = { rule: 'errorRate', subject: 'search', level: 'warning', message: 'm', since: time };
  assert.notEqual(alertKey({ ...base, subjectKind: 'agent' }), alertKey({ ...base, subjectKind: 'dependency' }));
  let alerts = applyAlertEvent<A>([], { ...base, subjectKind: 'agent', state: 'firing' });
  alerts = applyAlertEvent(alerts, { ...base, subjectKind: 'dependency', state: 'firing' });
  assert.equal(alerts.length, 2, 'an agent and a dependency of the same name are two alerts');
  alerts = applyAlertEvent(alerts, { ...base, subjectKind: 'dependency', level: 'critical', state: 'firing' });
  assert.deepEqual(alerts.map((a) => `${a.subjectKind}:${a.level}`), ['dependency:critical', 'agent:warning']);
  alerts = applyAlertEvent(alerts, { ...base, subjectKind: 'agent', state: 'resolved' });
  assert.deepEqual(alerts.map((a) => a.subjectKind), ['dependency']);
});

test('the serving model of a chain is the first dependency whose breaker admits calls', () => {
  const s = status();
  const serving = (st: RuntimeStatus, chain: string) => servingModel(st.models?.[chain] ?? [], (id) => st.dependencies.find((d) => d.id === id)?.breaker);
  assert.equal(serving(s, 'chat'), 'primary');
  const open = applyEvent(s, { name: 'breaker.state', payload: { time, dependency: 'primary', state: 'open', previous: 'closed' } } as ClientEvent);
  assert.equal(serving(open, 'chat'), 'backup');
  const half = applyEvent(open, { name: 'breaker.state', payload: { time, dependency: 'primary', state: 'half-open', previous: 'open' } } as ClientEvent);
  assert.equal(serving(half, 'chat'), 'primary');
  const both = applyEvent(open, { name: 'breaker.state', payload: { time, dependency: 'backup', state: 'isolated', previous: 'closed' } } as ClientEvent);
  assert.equal(serving(both, 'chat'), null);
  assert.equal(serving(s, 'nope'), null);
});
