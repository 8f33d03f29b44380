import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { drillHeld, drillName, drillSummary, killsRuntime, reportPath } from './drillReport.ts';

test('a drill is called by its name, else by its file', () => {
  assert.equal(drillName({ name: 'model-outage' }, '/w/drills/x.json'), 'model-outage');
  assert.equal(drillName({}, '/w/drills/corrupt-checkpoint.json'), 'corrupt-checkpoint');
  assert.equal(drillName(undefined, '/w/slow.drill.json'), 'slow');
});

test('only a drill with a kill-runtime step kills the runtime', () => {
  assert.equal(killsRuntime({ method: [{ type: 'inject', fault: 'kill' }, { type: 'kill-runtime' }] }), true);
  assert.equal(killsRuntime({ method: [{ type: 'inject', fault: 'kill' }] }), false);
  assert.equal(killsRuntime({}), false);
  assert.equal(killsRuntime(null), false);
});

test('the report goes where `faultline drill` writes it, with a file-safe name', () => {
  assert.equal(reportPath('/w/.faultline', 'model outage', '2026-11-29T01:10:45.639Z'), path.join('/w/.faultline', 'drills', 'model_outage-2026-11-29T01-10-45-639Z.json'));
});

test('the summary gives the verdict, the failing probe and the recovery', () => {
  const held = drillSummary('corrupt-checkpoint', { held: true, status: 'held', durationMs: 200, method: [{}, {}, {}], recovery: { incidents: [{}], allRecoveredMs: 150, unrecovered: [] }, messages: { sent: 0 } });
  assert.equal(held.held, true);
  assert.equal(held.severity, 'info');
  assert.equal(held.text, 'Faultline drill "corrupt-checkpoint": the hypothesis held (3 steps in 200 ms; all agents back after 150 ms).');

  const failed = drillSummary('model-outage', { held: false, status: 'deviated', failedProbe: 'the backup answers in its place', failure: 'expected "backup", got "primary"', durationMs: 16_119, method: [{}], messages: { sent: 12, lost: 1 } });
  assert.equal(failed.severity, 'error');
  assert.match(failed.text, /did NOT hold: the backup answers in its place — expected "backup", got "primary" \(1 step in 16\.1 s; 12 messages, 1 lost\)/);

  const gate = drillSummary('x', { held: false, status: 'gate-failed', failedProbe: 'agents * running' });
  assert.equal(gate.severity, 'warning');
  assert.match(gate.text, /BEFORE the method, so nothing was injected: agents \* running/);

  assert.equal(drillSummary('x', {}).held, undefined);
  assert.equal(drillHeld({ hypothesis: { held: false } }), false);
});
