import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChaosMonkey, globMatch } from './ChaosMonkey.ts';
import { ManualTimers } from '../util/timers.ts';
import { exampleStatus } from '../model/fixtures.ts';
import type { FaultSpec } from '../../../runtime/protocol/rpc.ts';

test('the fallback chaos monkey injects into matching running agents at random intervals until stopped', () => {
  const timers = new ManualTimers();
  const injected: FaultSpec[] = [];
  let r = 0;
  const seq = [0.5, 0.1, 0.9, 0.5, 0.3, 0.7];
  const m = new ChaosMonkey(() => exampleStatus(), async (s) => void injected.push(s), () => {}, timers, () => seq[r++ % seq.length]);
  m.start({ intervalMs: 1000, faults: ['kill'], targets: '*er' });
  timers.advance(10_000);
  assert.ok(injected.length >= 6 && injected.length <= 20, `${injected.length} faults in 10 s at ~1/s`);
  assert.ok(injected.every((s) => s.target.endsWith('er') && s.fault === 'kill'), JSON.stringify(injected.map((s) => s.target)));
  m.stop();
  const n = injected.length;
  timers.advance(10_000);
  assert.equal(injected.length, n);
});

test('the fallback chaos monkey stops by itself after its duration', () => {
  const timers = new ManualTimers();
  let n = 0;
  const m = new ChaosMonkey(() => exampleStatus(), async () => void n++, () => {}, timers, () => 0.5);
  m.start({ intervalMs: 1000, faults: ['kill'], durationMs: 5000 });
  timers.advance(60_000);
  assert.equal(n, 5);
  assert.equal(m.active, false);
  assert.equal(timers.size, 0);
});

test('target globs match like the runtime\'s: * is any run, the rest is literal', () => {
  assert.ok(globMatch('*', 'planner'));
  assert.ok(globMatch('re*er', 'researcher'));
  assert.ok(!globMatch('re*er', 'writer'));
  assert.ok(!globMatch('a.b', 'axb'));
});
