import { test } from 'node:test';
import assert from 'node:assert/strict';
import { outlineDrill, type DrillOutline } from './drillOutline.ts';
import { drillOutcome } from './drillOutcome.ts';

const TEXT = `{
  "name": "t",
  "system": "research-team",
  "steadyState": { "probes": [
    { "type": "agents" },
    { "type": "dependency", "name": "primary closed", "dependency": "primary", "breaker": "closed" }
  ] },
  "method": [
    { "type": "inject", "fault": "kill", "target": "planner" },
    { "type": "probe", "name": "back", "probe": { "type": "agents", "agents": "planner" } },
    { "type": "wait", "ms": 10 }
  ]
}`;
const outline = (): DrillOutline => {
  const r = outlineDrill(TEXT, '/w/drills/t.json');
  assert.ok(r.kind === 'drill');
  return r.outline;
};
const probe = (name: string, held: boolean, type = 'agents') => ({ name, type, held, expected: 'x', message: held ? 'ok' : 'it did not', durationMs: 1, attempts: 1 });
const step = (index: number, ok: boolean, extra: object = {}) => ({ index, type: 'x', name: `s${index}`, background: false, startedAtMs: 0, durationMs: 5, ok, ...extra });
const system = { name: 'system "research-team"', type: 'system', held: true, value: 'research-team', expected: 'research-team', message: 'the runtime runs "research-team"', durationMs: 0, attempts: 1 };

test('a drill that held: every step passed', () => {
  const o = drillOutcome({ held: true, status: 'held', durationMs: 42, hypothesis: { before: { held: true, probes: [system, probe('a', true), probe('b', true)] } }, method: [step(0, true), step(1, true), step(2, true)] }, outline());
  assert.equal(o.state, 'passed');
  assert.equal(o.durationMs, 42);
  assert.deepEqual(o.steps.map((s) => s.state), ['passed', 'passed', 'passed']);
});

test('the gate failed: the message sits at the failing probe (the system check does not shift it); no step ran', () => {
  const o = drillOutcome({ held: false, status: 'gate-failed', failedProbe: 'primary closed', hypothesis: { before: { held: false, probes: [system, probe('agents * running', true), { ...probe('primary closed', false, 'dependency'), value: 'open' }] } }, method: [] }, outline());
  assert.equal(o.state, 'failed');
  assert.equal(o.messages.length, 1);
  assert.match(o.messages[0].text, /^steady state before the method: probe "primary closed" failed: it did not \(expected x, got open\)/);
  assert.equal(o.messages[0].span?.start.line, 5);
  assert.deepEqual(o.steps.map((s) => s.state), ['skipped', 'skipped', 'skipped']);
  assert.match((o.steps[0] as { why: string }).why, /nothing was injected/);
});

test('a system mismatch points at "system"', () => {
  const o = drillOutcome({ held: false, status: 'gate-failed', hypothesis: { before: { held: false, probes: [{ ...system, held: false, message: 'the runtime runs "other"' }] } }, method: [] }, outline());
  assert.equal(o.messages[0].span?.start.line, 2);
  assert.match(o.messages[0].text, /runs "other"/);
});

test('a method probe failed: that step fails at its line, the others pass; the deviation after the method is located too', () => {
  const o = drillOutcome({
    held: false, status: 'deviated',
    hypothesis: { before: { held: true, probes: [system, probe('a', true), probe('b', true)] }, after: { held: false, probes: [probe('agents * running', false), probe('b', true)] } },
    method: [step(0, true), step(1, false, { probe: probe('back', false) }), step(2, true)],
  }, outline());
  assert.deepEqual(o.steps.map((s) => s.state), ['passed', 'failed', 'passed']);
  const failed = o.steps[1] as { message: { text: string; span?: { start: { line: number } } } };
  assert.equal(failed.message.span?.start.line, 9);
  assert.match(failed.message.text, /^step 2: probe "back" failed/);
  assert.deepEqual(o.messages.map((m) => m.span?.start.line), [9, 4]);
  assert.match(o.messages[1].text, /^steady state after the method/);
});

test('an aborted method: the failed step, the steps after it skipped, and the verdict', () => {
  const o = drillOutcome({ held: false, status: 'aborted', failedProbe: 'method step 1 (s0)', failure: 'NotFound: no agent', hypothesis: { before: { held: true, probes: [] } }, method: [step(0, false, { error: 'NotFound: no agent' })] }, outline());
  assert.deepEqual(o.steps.map((s) => s.state), ['failed', 'skipped', 'skipped']);
  assert.match(o.messages.at(-1)!.text, /ABORTED: method step 1 \(s0\) — NotFound/);
  assert.equal(o.messages.at(-1)!.span, undefined);
});

test('a cancelled run: the step running at the cancel was cut short (skipped), the ones before it passed', () => {
  const startedAt = '2026-01-01T00:00:00.000Z';
  const t0 = Date.parse(startedAt);
  const o = drillOutcome({ held: false, status: 'aborted', startedAt, hypothesis: { before: { held: true, probes: [] } }, method: [{ ...step(0, true), startedAtMs: 10, durationMs: 100 }, { ...step(1, true), startedAtMs: 110, durationMs: 900 }] }, outline(), { cancelledAt: t0 + 500 });
  assert.deepEqual(o.steps.map((s) => s.state), ['passed', 'skipped', 'skipped']);
  assert.match((o.steps[1] as { why: string }).why, /cancelled during this step/);
  assert.match((o.steps[2] as { why: string }).why, /stopped before this step/);
});
