import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReliabilityTracker } from './reliability.ts';

test('business tier: task completion and SLA compliance, total and over the window', () => {
  let t = 0;
  const r = new ReliabilityTracker({ clock: () => t, windowMs: 60_000 });
  // 8 asks with a 1 s target: 6 fast and ok, 1 slow and ok, 1 failed.
  for (let i = 0; i < 6; i++) r.message('planner', true, 200, 1_000);
  r.message('planner', true, 1_500, 1_000);
  r.message('planner', false, 100, 1_000);
  // 2 sends (no target): one ok, one failed; and one dead letter.
  r.message('writer', true, 50);
  r.message('writer', false, 50);
  r.deadLetter('writer');

  let s = r.summary().business;
  assert.deepEqual(s.taskCompletion.total, 11);
  assert.deepEqual(s.taskCompletion.good, 8);
  assert.ok(Math.abs(s.taskCompletion.rate! - 8 / 11) < 1e-12);
  assert.equal(s.slaCompliance.total, 8);
  assert.equal(s.slaCompliance.good, 6);
  assert.equal(s.slaCompliance.rate, 0.75);
  assert.equal(s.slaCompliance.window.rate, 0.75);
  assert.deepEqual(s.agents.writer.tasks, { total: 3, good: 1, rate: 1 / 3 });
  assert.deepEqual(s.agents.writer.sla, { total: 0, good: 0, rate: null });

  // A minute later the window is empty, the totals stay.
  t += 61_000;
  s = r.summary().business;
  assert.equal(s.taskCompletion.window.rate, null);
  assert.equal(s.slaCompliance.rate, 0.75);
});

test('a fixed SLA target overrides each ask\'s own', () => {
  const r = new ReliabilityTracker({ slaTargetMs: 100 });
  r.message('planner', true, 150, 5_000);
  r.message('planner', true, 50);
  const s = r.summary().business.slaCompliance;
  assert.deepEqual([s.total, s.good, s.targetMs], [2, 1, 100]);
});

test('system and infrastructure tiers', () => {
  let t = 0;
  const r = new ReliabilityTracker({ clock: () => t, currency: 'EUR' });
  for (let i = 0; i < 4; i++) r.call('primary', i !== 0);
  r.retry('primary');
  r.giveUp('primary');
  r.breaker('primary', 'open');
  r.breaker('search', 'closed');
  r.restart('crew');
  r.restart('crew');
  r.restart('root');
  r.escalation();
  r.checkpointFallback();
  r.usage('primary', 1000, 200, 0.9);
  r.usage('backup', 10, 10, 0);
  r.processSamples(new Map([
    ['planner', { pid: 10, rssBytes: 50e6, cpuSeconds: 1, cpuRatio: 0.25 }],
    ['writer', { pid: 11, rssBytes: 40e6, cpuSeconds: 2, cpuRatio: null }],
  ]));
  const s = r.summary();
  assert.deepEqual(s.system.dependencies.primary, { calls: 4, errors: 1, errorRate: 0.25, windowErrorRate: 0.25, retries: 1, giveUps: 1, breaker: 'open' });
  assert.deepEqual(s.system.breakers, { closed: 1, open: 1, 'half-open': 0, isolated: 0 });
  assert.deepEqual(s.system.restarts, { total: 3, bySupervisor: { crew: 2, root: 1 }, escalations: 1 });
  assert.equal(s.system.checkpointFallbacks, 1);
  assert.deepEqual(s.infrastructure.memory.agents, { planner: 50e6, writer: 40e6 });
  assert.equal(s.infrastructure.memory.agentsBytes, 90e6);
  assert.ok(s.infrastructure.memory.runtimeBytes > 0);
  assert.equal(s.infrastructure.cpu.agentsRatio, 0.25);
  assert.deepEqual(s.infrastructure.cpu.agents, { planner: 0.25, writer: null });
  assert.deepEqual(s.infrastructure.api, { cost: 0.9, currency: 'EUR', byDependency: { primary: 0.9 }, promptTokens: 1010, completionTokens: 210 });
  // Plain JSON for status JSON and the control channel.
  assert.deepEqual(JSON.parse(JSON.stringify(s)), s);
});
