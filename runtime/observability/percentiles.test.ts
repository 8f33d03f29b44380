import { test } from 'node:test';
import assert from 'node:assert/strict';
import { percentile, percentiles } from './percentiles.ts';

test('nearest-rank percentiles', () => {
  const p = percentiles(Array.from({ length: 100 }, (_, i) => 100 - i))!;
  assert.deepEqual([p.n, p.min, p.p50, p.p90, p.p99, p.max, p.mean], [100, 1, 50, 90, 99, 100, 50.5]);
  assert.equal(percentiles([7])!.p99, 7);
  assert.equal(percentiles([]), undefined);
});

test('percentile of sorted samples is the nearest rank; nothing to rank is NaN', () => {
  const s = Array.from({ length: 20 }, (_, i) => i + 1);
  assert.equal(percentile(s, 0.95), 19);
  assert.equal(percentile(s, 0), 1);
  assert.equal(percentile(s, 1), 20);
  assert.ok(Number.isNaN(percentile([], 0.5)));
});
