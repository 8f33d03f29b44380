import { test } from 'node:test';
import assert from 'node:assert/strict';
import { debounce } from './debounce.ts';
import { ManualTimers } from './timers.ts';

test('a burst of asks runs once, waitMs after the last ask', () => {
  const timers = new ManualTimers();
  let runs = 0;
  const d = debounce(() => runs++, 100, { timers, maxWaitMs: 1000 });
  for (let i = 0; i < 5; i++) {
    d.schedule();
    timers.advance(50);
  }
  assert.equal(runs, 0);
  timers.advance(100);
  assert.equal(runs, 1);
  timers.advance(1000);
  assert.equal(runs, 1);
});

test('a steady stream still runs every maxWaitMs', () => {
  const timers = new ManualTimers();
  let runs = 0;
  const d = debounce(() => runs++, 100, { timers, maxWaitMs: 300 });
  for (let i = 0; i < 20; i++) {
    d.schedule();
    timers.advance(50);
  }
  // 1000 ms of asks every 50 ms: a run at least every 300 ms.
  assert.ok(runs >= 3, `ran ${runs} times`);
});

test('flush runs a pending call now; dispose drops it', () => {
  const timers = new ManualTimers();
  let runs = 0;
  const d = debounce(() => runs++, 100, { timers });
  d.schedule();
  d.flush();
  assert.equal(runs, 1);
  assert.equal(d.pending, false);
  d.schedule();
  d.dispose();
  timers.advance(500);
  assert.equal(runs, 1);
});
