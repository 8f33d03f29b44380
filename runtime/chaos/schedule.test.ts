import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chaosSchedule, MAX_KILLS } from './schedule.ts';

const plan = { killIntervalMs: 1000, durationMs: 20_000, seed: 42, targets: ['a', 'b', 'c', 'd'] };

test('the same seed and targets give the same schedule; another seed another one', () => {
  const one = chaosSchedule(plan);
  assert.deepEqual(chaosSchedule({ ...plan }), one);
  assert.notDeepEqual(chaosSchedule({ ...plan, seed: 43 }), one);
  assert.ok(one.length >= 10, `about 20 kills in 20 s at a 1 s mean, got ${one.length}`);
});

test('gaps stay within 0.5x..1.5x of the interval and kills within the duration', () => {
  const s = chaosSchedule(plan);
  let prev = 0;
  for (const k of s) {
    assert.ok(k.atMs - prev >= 500 && k.atMs - prev <= 1500, `gap ${k.atMs - prev}`);
    assert.ok(k.atMs <= plan.durationMs);
    assert.ok(plan.targets.includes(k.target));
    prev = k.atMs;
  }
  assert.ok(new Set(s.map((k) => k.target)).size > 1, 'picks among the targets');
});

test('no targets, no kills; the count is bounded', () => {
  assert.deepEqual(chaosSchedule({ ...plan, targets: [] }), []);
  assert.equal(chaosSchedule({ ...plan, killIntervalMs: 1, durationMs: 1e9 }).length, MAX_KILLS);
});
