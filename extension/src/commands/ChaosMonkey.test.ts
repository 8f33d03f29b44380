import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChaosMonkey } from './ChaosMonkey.ts';
import { ManualTimers } from '../util/timers.ts';
import { exampleStatus } from '../model/fixtures.ts';
import type { FaultSpec } from '../../../runtime/protocol/rpc.ts';

test('the chaos monkey injects into running agents at random intervals until stopped', () => {
  const timers = new ManualTimers();
  const injected: FaultSpec[] = [];
  let r = 0;
  const seq = [0.5, 0.1, 0.9, 0.5, 0.3, 0.7];
  const m = new ChaosMonkey(() => exampleStatus(), async (s) => void injected.push(s), () => {}, timers, () => seq[r++ % seq.length]);
  m.start({ intervalMs: 1000, faults: ['kill', 'crash'], spare: ['planner'] });
  timers.advance(10_000);
  assert.ok(injected.length >= 6 && injected.length <= 20, `${injected.length} faults in 10 s at ~1/s`);
  assert.ok(injected.every((s) => s.target !== 'planner' && ['kill', 'crash'].includes(s.fault)));
  m.stop();
  const n = injected.length;
  timers.advance(10_000);
  assert.equal(injected.length, n);
});
