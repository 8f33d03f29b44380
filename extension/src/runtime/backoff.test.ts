import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay, RestartBudget, RECONNECT_BACKOFF } from './backoff.ts';
import { Reconnector } from './Reconnector.ts';
import { ManualTimers } from '../util/timers.ts';

const flush = () => new Promise((r) => setImmediate(r));

test('backoff doubles up to its ceiling, jitter within bounds', () => {
  const mid = () => 0.5;
  assert.deepEqual([0, 1, 2, 3].map((n) => backoffDelay(n, RECONNECT_BACKOFF, mid)), [250, 500, 1000, 2000]);
  assert.equal(backoffDelay(20, RECONNECT_BACKOFF, mid), RECONNECT_BACKOFF.maxMs);
  assert.equal(backoffDelay(0, RECONNECT_BACKOFF, () => 0), 200);
  assert.equal(backoffDelay(0, RECONNECT_BACKOFF, () => 1), 300);
});

test('the restart budget allows limit restarts per period', () => {
  const b = new RestartBudget(3, 60_000);
  assert.ok(b.take(0) && b.take(1000) && b.take(2000));
  assert.equal(b.take(3000), false);
  assert.equal(b.take(61_000), true, 'the first restart left the window');
});

test('the reconnector retries with growing delays until an attempt succeeds', async () => {
  const timers = new ManualTimers();
  const delays: number[] = [];
  let calls = 0;
  const r = new Reconnector(async () => ++calls >= 4, { timers, random: () => 0.5, onRetry: (_n, ms) => delays.push(ms) });
  r.start();
  for (let i = 0; i < 10 && r.active; i++) {
    timers.advance(20_000);
    await flush();
  }
  assert.equal(calls, 4);
  assert.deepEqual(delays, [250, 500, 1000]);
  assert.equal(r.active, false);
});

test('a stopped reconnector makes no more attempts', async () => {
  const timers = new ManualTimers();
  let calls = 0;
  const r = new Reconnector(async () => (calls++, false), { timers, random: () => 0.5 });
  r.start();
  timers.advance(0);
  await flush();
  r.stop();
  timers.advance(60_000);
  await flush();
  assert.equal(calls, 1);
  assert.equal(timers.size, 0);
});
