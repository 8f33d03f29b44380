import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecoveryTracker } from './RecoveryTracker.ts';

test('an incident per agent: detect from the fault, recover at the next running', () => {
  const t = new RecoveryTracker(1000);
  t.mark({ time: 2000, kind: 'inject', subject: 'w-*', label: 'kill w-*' });
  t.agentState({ time: 2003, agent: 'w-1', state: 'restarting' });
  t.agentState({ time: 2004, agent: 'w-2', state: 'restarting' });
  t.agentState({ time: 2010, agent: 'w-1', state: 'backoff' }); // still the same incident
  t.agentState({ time: new Date(2300).toISOString(), agent: 'w-1', state: 'running' });
  const s = t.summary();
  assert.deepEqual(s.agents['w-1'], { incidents: 1, detectMs: 3, recoverMs: 300, maxRecoverMs: 300 });
  assert.equal(s.incidents.find((i) => i.agent === 'w-1')!.cause, 'kill w-*');
  assert.deepEqual(s.unrecovered, ['w-2']);
  assert.equal(s.firstRecoveredMs, 300);
});

test('a sibling taken down by its supervisor blames the latest fault anywhere', () => {
  const t = new RecoveryTracker(0);
  t.mark({ time: 100, kind: 'inject', subject: 'researcher', label: 'kill researcher' });
  t.agentState({ time: 105, agent: 'writer', state: 'restarting', reason: 'sibling' });
  t.agentState({ time: 400, agent: 'writer', state: 'running' });
  const i = t.summary().incidents[0];
  assert.equal(i.cause, 'kill researcher');
  assert.equal(i.recoverMs, 300);
});

test('breakers: open after the fault, closed after the clear', () => {
  const t = new RecoveryTracker(0);
  t.mark({ time: 100, kind: 'inject', subject: 'primary', label: 'blackhole primary' });
  t.breaker({ time: 900, dependency: 'primary', state: 'open' });
  t.mark({ time: 2000, kind: 'clear', subject: 'primary', label: 'clear' });
  t.breaker({ time: 12_000, dependency: 'primary', state: 'half-open' });
  t.breaker({ time: 12_500, dependency: 'primary', state: 'closed' });
  const b = t.summary().dependencies.primary;
  assert.equal(b.detectMs, 800);
  assert.equal(b.recoverMs, 10_500);
  assert.deepEqual(b.transitions.map((x) => x.state), ['open', 'half-open', 'closed']);
});
