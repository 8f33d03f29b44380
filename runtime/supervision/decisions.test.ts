import { test } from 'node:test';
import assert from 'node:assert/strict';
import { recordRestart, restartDelay, restartPlan, restartsInWindow, shouldRestart } from './decisions.ts';
import { DEFAULTS } from '../config/load.ts';

const crash = { normal: false, reason: 'crashed' };
const clean = { normal: true, reason: 'exited normally' };

test('restart types follow OTP', () => {
  assert.equal(shouldRestart('permanent', crash), true);
  assert.equal(shouldRestart('permanent', clean), true);
  assert.equal(shouldRestart('transient', crash), true);
  assert.equal(shouldRestart('transient', clean), false);
  assert.equal(shouldRestart('temporary', crash), false);
  assert.equal(shouldRestart('temporary', clean), false);
});

const kids = [
  { id: 'a', restart: 'permanent' as const },
  { id: 'b', restart: 'temporary' as const },
  { id: 'c', restart: 'transient' as const },
  { id: 'd', restart: 'permanent' as const },
];

test('one_for_one restarts only the failed child', () => {
  assert.deepEqual(restartPlan('one_for_one', kids, 'c'), { stop: [], start: ['c'], drop: [] });
});

test('one_for_all stops the others in reverse order and restarts all but temporaries', () => {
  assert.deepEqual(restartPlan('one_for_all', kids, 'c'), { stop: ['d', 'b', 'a'], start: ['a', 'c', 'd'], drop: ['b'] });
});

test('rest_for_one restarts the failed child and those started after it', () => {
  assert.deepEqual(restartPlan('rest_for_one', kids, 'b'), { stop: ['d', 'c'], start: ['b', 'c', 'd'], drop: [] });
  assert.deepEqual(restartPlan('rest_for_one', kids, 'a'), { stop: ['d', 'c', 'b'], start: ['a', 'c', 'd'], drop: ['b'] });
  assert.deepEqual(restartPlan('rest_for_one', kids, 'd'), { stop: [], start: ['d'], drop: [] });
});

test('intensity: more than N restarts within the period is exceeded; older ones fall out', () => {
  let h: number[] = [];
  for (let i = 0; i < 5; i++) {
    const r = recordRestart(h, i * 1000, 5, 60_000);
    assert.equal(r.exceeded, false, `restart ${i + 1}`);
    h = r.history;
  }
  assert.equal(recordRestart(h, 5000, 5, 60_000).exceeded, true);
  // At 60.5 s the first restart (t=0) is out of the window.
  assert.equal(recordRestart(h, 60_500, 5, 60_000).exceeded, false);
  assert.equal(restartsInWindow(h, 60_500, 60_000), 4);
  // Intensity 0: any restart exceeds it.
  assert.equal(recordRestart([], 0, 0, 1000).exceeded, true);
});

test("intensity in a cluster: the restarts other nodes made count toward the window, but are not this node's to keep", () => {
  const r = recordRestart([1000, 2000], 3000, 5, 60_000, [500, 2500, -70_000]);
  assert.equal(r.exceeded, false, '3 here + 2 elsewhere in the window (one elsewhere is out of it)');
  assert.deepEqual(r.history, [1000, 2000, 3000]);
  assert.equal(recordRestart(r.history, 4000, 5, 60_000, [500, 2500]).exceeded, true);
});

test('backoff: first crash at once, then exponential, capped, with bounded jitter', () => {
  const o = { ...DEFAULTS.backoff, baseMs: 100, maxMs: 1000, factor: 2, jitter: 0, resetAfterMs: 10_000 };
  let streak = 0;
  const delays: number[] = [];
  for (let i = 0; i < 7; i++) {
    const d = restartDelay(streak, 0, 500, o);
    delays.push(d.delayMs);
    streak = d.streak;
  }
  assert.deepEqual(delays, [0, 100, 200, 400, 800, 1000, 1000]);
  // Jitter stays within ±jitter share.
  const j = { ...o, jitter: 0.2 };
  assert.equal(restartDelay(2, 0, 500, j, () => 0).delayMs, 160);
  assert.equal(restartDelay(2, 0, 500, j, () => 1).delayMs, 240);
});

test('backoff resets after a long healthy run: that crash restarts at once', () => {
  const o = { ...DEFAULTS.backoff, baseMs: 100, maxMs: 1000, factor: 2, jitter: 0, resetAfterMs: 10_000 };
  const afterStreak = restartDelay(5, 0, 10_000, o);
  assert.deepEqual(afterStreak, { delayMs: 0, streak: 1 });
  // A crash during start (never became running) keeps growing the streak.
  assert.equal(restartDelay(2, null, 50_000, o).delayMs, 200);
});
