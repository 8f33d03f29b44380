import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AlertEngine, type AlertEvent } from './alerts.ts';
import { alertsSchema, resolveAlertRules } from '../config/alertsSchema.ts';
import { SlidingWindow } from './SlidingWindow.ts';

/** A simulated clock: tests move time, nothing sleeps. */
function clock(start = 1_700_000_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

function engine(input: Parameters<typeof resolveAlertRules>[0] = {}) {
  const c = clock();
  const e = new AlertEngine(resolveAlertRules(alertsSchema.parse(input)), { clock: c.now });
  const events: AlertEvent[] = [];
  e.onAlert((x) => events.push(x));
  return { c, e, events };
}

test('the error rate alert fires at warning, escalates to critical and resolves as the window slides', () => {
  const { c, e, events } = engine();
  // 100 calls, 10 % failing: above the 5 % warning, below the 25 % critical.
  for (let i = 0; i < 100; i++) {
    e.observeCall('primary', i % 10 !== 0, 200);
    c.advance(100);
  }
  e.evaluate();
  assert.equal(events.length, 1);
  const w = events[0];
  assert.equal(w.state, 'firing');
  assert.equal(w.level, 'warning');
  assert.equal(w.rule, 'errorRate');
  assert.equal(w.subject, 'primary');
  assert.equal(w.subjectKind, 'dependency');
  assert.equal(w.threshold, 0.05);
  assert.ok(Math.abs(w.value - 0.1) < 1e-9);
  assert.equal(w.since, w.time);

  // The mock model answers 503 for a while: the rate climbs past 25 %.
  for (let i = 0; i < 100; i++) {
    e.observeCall('primary', false, 50);
    c.advance(100);
  }
  e.evaluate();
  assert.equal(events.length, 2);
  assert.equal(events[1].state, 'firing');
  assert.equal(events[1].level, 'critical');
  assert.equal(events[1].previousLevel, 'warning');
  assert.equal(events[1].since, w.since, 'since is kept across a level change');
  assert.deepEqual(e.active().map((a) => [a.rule, a.level]), [['errorRate', 'critical']]);

  // Evaluating again without change emits nothing.
  assert.deepEqual(e.evaluate(), []);

  // Healthy again: once the failures leave the 60 s window, the alert resolves.
  for (let i = 0; i < 700; i++) {
    e.observeCall('primary', true, 50);
    c.advance(100);
  }
  e.evaluate();
  assert.equal(events.length, 3);
  assert.equal(events[2].state, 'resolved');
  assert.equal(events[2].level, 'critical');
  assert.equal(events[2].rule, 'errorRate');
  assert.deepEqual(e.active(), []);
});

test('rate rules stay quiet below the minimum number of samples', () => {
  const { e, events } = engine();
  for (let i = 0; i < 4; i++) e.observeCall('primary', false, 10);
  e.evaluate();
  assert.equal(events.length, 0);
  e.observeCall('primary', false, 10);
  e.evaluate();
  assert.equal(events[0]?.level, 'critical');
});

test('p95 latency over 10 s warns, per agent', () => {
  const { c, e, events } = engine();
  for (let i = 0; i < 20; i++) {
    e.observeMessage('planner', true, i < 19 ? 500 : 30_000);
    c.advance(10);
  }
  e.evaluate();
  assert.equal(events.length, 0, 'one slow reply in 20 is above the 95th percentile');
  for (let i = 0; i < 5; i++) e.observeMessage('planner', true, 12_000);
  e.evaluate();
  assert.equal(events.length, 1);
  assert.equal(events[0].rule, 'latencyP95');
  assert.equal(events[0].subjectKind, 'agent');
  assert.equal(events[0].level, 'warning');
  assert.ok(events[0].value > 10_000 && events[0].value <= 30_000, `p95 ${events[0].value}`);
  c.advance(61_000);
  e.evaluate();
  assert.equal(events[1].state, 'resolved');
});

test('an unresponsive agent is critical until its heartbeats return', () => {
  const { e, events } = engine();
  e.agentUnresponsive('researcher', true);
  e.evaluate();
  assert.equal(events[0].level, 'critical');
  assert.equal(events[0].rule, 'unresponsive');
  e.agentUnresponsive('researcher', false);
  e.evaluate();
  assert.equal(events[1].state, 'resolved');
});

test('an open breaker warns with a fallback and is critical without one', () => {
  const { e, events } = engine();
  e.breaker('primary', 'open', true);
  e.breaker('search', 'open', false);
  e.breaker('backup', 'half-open', false);
  e.evaluate();
  const byDep = Object.fromEntries(events.map((x) => [x.subject, x.level]));
  assert.deepEqual(byDep, { primary: 'warning', search: 'critical' });
  e.breaker('search', 'half-open', false);
  e.evaluate();
  assert.equal(events.at(-1)!.state, 'resolved');
  assert.equal(events.at(-1)!.subject, 'search');
});

test('restart intensity warns at 80 % of the limit', () => {
  const { e, events } = engine();
  e.intensity('crew', 3, 5);
  e.evaluate();
  assert.equal(events.length, 0);
  e.intensity('crew', 4, 5);
  e.evaluate();
  assert.equal(events[0].rule, 'restartIntensity');
  assert.equal(events[0].subjectKind, 'supervisor');
  assert.equal(events[0].value, 0.8);
  e.intensity('crew', 0, 5);
  e.evaluate();
  assert.equal(events[1].state, 'resolved');
});

test('a checkpoint fallback warns for one window', () => {
  const { c, e, events } = engine({ windowMs: 10_000 });
  e.checkpointFallback('writer');
  e.evaluate();
  assert.equal(events[0].rule, 'checkpointFallback');
  assert.equal(events[0].level, 'warning');
  c.advance(9_000);
  e.evaluate();
  assert.equal(events.length, 1);
  c.advance(2_000);
  e.evaluate();
  assert.equal(events[1].state, 'resolved');
});

test('SLA compliance alerts when configured', () => {
  const { e, events } = engine({ sla: { warning: 0.9 } });
  for (let i = 0; i < 10; i++) e.observeMessage('planner', true, i < 8 ? 100 : 2_000, 1_000);
  e.evaluate();
  assert.equal(events[0].rule, 'slaCompliance');
  assert.equal(events[0].value, 0.8);
  assert.equal(events[0].threshold, 0.9);
});

test('rules switched off in the config never fire; thresholds are configurable', () => {
  const { e, events } = engine({ errorRate: false, breakerOpen: false, latencyMs: { warning: 100 } });
  for (let i = 0; i < 10; i++) e.observeCall('primary', false, 500);
  e.breaker('primary', 'open', false);
  e.evaluate();
  assert.deepEqual(events.map((x) => x.rule), ['latencyP95']);
});

test('a partial level keeps the other default', () => {
  const r = resolveAlertRules(alertsSchema.parse({ errorRate: { warning: 0.1 } }));
  assert.deepEqual(r.errorRate, { warning: 0.1, critical: 0.25 });
  assert.equal(resolveAlertRules().latencyMs?.warning, 10_000);
});

test('a throwing listener does not stop the others; dispose unsubscribes', () => {
  const { e } = engine();
  const got: string[] = [];
  e.onAlert(() => {
    throw new Error('closed socket');
  });
  const sub = e.onAlert((x) => got.push(x.state));
  e.agentUnresponsive('a', true);
  e.evaluate();
  sub.dispose();
  e.agentUnresponsive('a', false);
  e.evaluate();
  assert.deepEqual(got, ['firing']);
});

test('the sliding window forgets old slots and estimates the p95', () => {
  const w = new SlidingWindow(1_000, 10);
  for (let i = 1; i <= 100; i++) w.add(0, i !== 1, i * 10);
  const s = w.stats(0);
  assert.equal(s.count, 100);
  assert.equal(s.errors, 1);
  assert.ok(s.p95Ms! > 900 && s.p95Ms! <= 1000, `p95 ${s.p95Ms}`);
  assert.equal(s.maxMs, 1000);
  assert.equal(w.stats(999).count, 100);
  assert.equal(w.stats(1_000).count, 0);
  assert.ok(w.empty(1_000));
});

test('the alerts config rejects a non-HTTP webhook and fills the webhook defaults', () => {
  assert.equal(alertsSchema.safeParse({ webhook: { url: 'ftp://127.0.0.1/x' } }).success, false);
  assert.equal(alertsSchema.safeParse({ errorRate: { warning: 2 } }).success, false);
  const r = resolveAlertRules(alertsSchema.parse({ webhook: { url: 'http://127.0.0.1:9/hook' } }));
  assert.deepEqual(r.webhook, { url: 'http://127.0.0.1:9/hook', levels: ['critical'], timeoutMs: 5_000 });
  assert.equal(resolveAlertRules().webhook, null);
});
