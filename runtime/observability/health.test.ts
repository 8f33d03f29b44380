import { test } from 'node:test';
import assert from 'node:assert/strict';
import { livez, readyz } from './health.ts';
import type { AgentStatus, DependencyStatus, RuntimeStatus } from '../protocol/status.ts';

function agent(id: string, over: Partial<AgentStatus> = {}): AgentStatus {
  return {
    id, kind: 'agent', state: 'running', pid: 100, restarts: 0, isolation: 'process', restart: 'permanent',
    module: `agents/${id}.mjs`, mailbox: 0, liveness: true, readiness: true, startedAt: '2026-01-01T00:00:00.000Z', ...over,
  };
}

function status(agents: AgentStatus[], dependencies: DependencyStatus[] = []): RuntimeStatus {
  return {
    runtime: { pid: 1, uptimeMs: 5000, version: '0.1.0', name: 't', startedAt: '2026-01-01T00:00:00.000Z' },
    tree: {
      id: 'root', kind: 'supervisor', state: 'running', strategy: 'one_for_one', restart: 'permanent', restarts: 0,
      intensity: { limit: 5, periodMs: 60_000, inWindow: 0 },
      children: [agents[0], { id: 'crew', kind: 'supervisor', state: 'running', strategy: 'one_for_all', restart: 'permanent', restarts: 0, intensity: { limit: 5, periodMs: 60_000, inWindow: 0 }, children: agents.slice(1) }],
    },
    dependencies,
  };
}

test('readyz flips to 503 when a critical dependency without fallback opens its breaker, and back', () => {
  const agents = [agent('planner'), agent('researcher')];
  const closed = status(agents, [{ id: 'primary', breaker: 'closed', errorRate: 0, critical: true }]);
  const ok = readyz(closed);
  assert.equal(ok.status, 200);
  assert.equal(ok.body.status, 'ready');
  assert.deepEqual(ok.body.agents, { ready: 2, total: 2 });

  const open = readyz(status(agents, [{ id: 'primary', breaker: 'open', errorRate: 0.6, critical: true }]));
  assert.equal(open.status, 503);
  assert.equal(open.body.status, 'not-ready');
  assert.deepEqual(open.body.reasons.map((r) => [r.kind, r.subject, r.reason]), [['dependency', 'primary', 'breaker-open']]);
  assert.match(open.body.reasons[0].message, /primary.*no fallback/);
  assert.deepEqual(open.body.dependencies.down, ['primary']);

  assert.equal(readyz(status(agents, [{ id: 'primary', breaker: 'half-open', errorRate: 0.6, critical: true }])).status, 200);
});

test('an open breaker does not fail readiness with a fallback or when the dependency is not critical', () => {
  const agents = [agent('planner')];
  assert.equal(readyz(status(agents, [{ id: 'primary', breaker: 'open', errorRate: 1, critical: true, hasFallback: true }])).status, 200);
  assert.equal(readyz(status(agents, [{ id: 'search', breaker: 'isolated', errorRate: 1, critical: true, degrade: 'cache' }])).status, 200);
  assert.equal(readyz(status(agents, [{ id: 'search', breaker: 'open', errorRate: 1 }])).status, 200);
  assert.equal(readyz(status(agents, [{ id: 'search', breaker: 'isolated', errorRate: 1, critical: true, degrade: 'fail' }])).status, 503);
});

test('an agent not restored, restarting or unresponsive makes the runtime not ready, with reasons', () => {
  const r = readyz(
    status([
      agent('planner', { readiness: false }),
      agent('researcher', { state: 'restarting', readiness: false, lastError: { type: 'AgentCrashError', message: 'exit 1', time: '' } }),
      agent('writer', { liveness: false }),
    ]),
  );
  assert.equal(r.status, 503);
  assert.deepEqual(r.body.reasons.map((x) => [x.subject, x.reason]), [['planner', 'not-restored'], ['researcher', 'restarting'], ['writer', 'unresponsive']]);
  assert.match(r.body.reasons[1].message, /AgentCrashError/);
  assert.deepEqual(r.body.agents, { ready: 0, total: 3 });
});

test('a finished temporary agent does not count; a stopped permanent one does', () => {
  assert.equal(readyz(status([agent('planner'), agent('oneshot', { restart: 'temporary', state: 'stopped', readiness: false, liveness: false })])).status, 200);
  assert.equal(readyz(status([agent('planner'), agent('writer', { state: 'stopped', readiness: false, liveness: false })])).status, 503);
});

test('a tree that is stopping is not ready; livez stays 200', () => {
  const s = status([agent('planner')]);
  s.tree.state = 'stopping';
  assert.equal(readyz(s).status, 503);
  assert.equal(readyz(s).body.reasons[0].reason, 'tree-stopping');
  const l = livez(s);
  assert.equal(l.status, 200);
  assert.deepEqual(l.body, { status: 'ok', pid: 1, uptimeMs: 5000 });
});

test('a chain is a fallback only while another of its dependencies is up', () => {
  const agents = [agent('planner')];
  const s = (backup: DependencyStatus['breaker']) => ({
    ...status(agents, [
      { id: 'primary', breaker: 'open', errorRate: 1, critical: true, hasFallback: true },
      { id: 'backup', breaker: backup, errorRate: 0 },
    ]),
    models: { chat: ['primary', 'backup'] },
  });
  assert.equal(readyz(s('closed')).status, 200);
  assert.equal(readyz(s('half-open')).status, 200);
  const down = readyz(s('open'));
  assert.equal(down.status, 503);
  assert.deepEqual(down.body.reasons.map((r) => [r.subject, r.reason]), [['primary', 'breaker-open']]);
});
