/** Which restore a checkpoint's version calls for. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planRestore } from './restorePlan.ts';

test('restore plan: use, migrate up, cold start, refuse a newer checkpoint', () => {
  const r = (version: number) => ({ state: { v: version }, version, seq: 9, kind: 'full' as const, time: '', skipped: [] });
  assert.deepEqual(planRestore('a', null, 2), { action: 'cold' });
  assert.deepEqual(planRestore('a', r(2), 2), { action: 'use', state: { v: 2 }, seq: 9 });
  assert.deepEqual(planRestore('a', r(1), 2), { action: 'migrate', state: { v: 1 }, seq: 9, fromVersion: 1 });
  assert.throws(() => planRestore('a', r(3), 2), (e: Error) => e.name === 'CheckpointVersionError' && /version 3/.test(e.message) && /version 2/.test(e.message));
});
