/**
 * The contract every CheckpointStore keeps, run against the memory store and
 * the SQLite store (on a real file), so the runtime behaves the same on both.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { CheckpointStore, FallbackEvent } from './CheckpointStore.ts';
import { MemoryCheckpointStore } from './MemoryCheckpointStore.ts';
import { SqliteCheckpointStore } from './SqliteCheckpointStore.ts';
import { fakeClock, tempDir } from './test-fixtures/tmp.ts';

type Make = (opts?: { retain?: number; retainMaxAgeMs?: number; now?: () => number }) => CheckpointStore;

const dir = tempDir();
let n = 0;
const stores: [string, Make][] = [
  ['memory', (o = {}) => new MemoryCheckpointStore('9.9.9', o)],
  ['sqlite', (o = {}) => new SqliteCheckpointStore(path.join(dir, `c${++n}`, 'state.db'), { runtimeVersion: '9.9.9', ...o })],
];

function fallbacks(store: CheckpointStore): FallbackEvent[] {
  const seen: FallbackEvent[] = [];
  store.onFallback((e) => seen.push(e));
  return seen;
}

for (const [name, make] of stores) {
  describe(`${name} checkpoint store`, () => {
    test('restores the newest checkpoint with its version, kind and seq', async () => {
      const s = make();
      assert.equal(await s.latest('a'), null);
      assert.deepEqual(await s.put({ agent: 'a', version: 1, state: { count: 1 } }), { seq: 1 });
      assert.deepEqual(await s.put({ agent: 'a', version: 2, state: { count: 2, log: ['x'] }, kind: 'summary' }), { seq: 2 });
      await s.put({ agent: 'b', version: 1, state: null });
      const r = await s.latest('a');
      assert.deepEqual({ ...r, time: undefined }, { state: { count: 2, log: ['x'] }, version: 2, seq: 2, kind: 'summary', time: undefined, skipped: [] });
      assert.equal((await s.latest('b'))?.state, null);
      await s.close();
    });

    test('lists checkpoints oldest first with size, checksum and validity', async () => {
      const clock = fakeClock();
      const s = make({ now: clock.now });
      await s.put({ agent: 'a', version: 1, state: { v: 'é' } });
      clock.advance(1000);
      await s.put({ agent: 'a', version: 1, state: { v: 2 } });
      const list = await s.list('a');
      assert.deepEqual(
        list.map((c) => [c.seq, c.size, c.time, c.runtimeVersion, c.valid, c.checksum.length]),
        [
          [1, Buffer.byteLength('{"v":"é"}'), '2026-01-01T00:00:00.000Z', '9.9.9', true, 64],
          [2, 7, '2026-01-01T00:00:01.000Z', '9.9.9', true, 64],
        ],
      );
      await s.close();
    });

    test('a corrupt latest falls back to the previous good one and reports it', async () => {
      const s = make();
      const seen = fallbacks(s);
      for (let i = 1; i <= 3; i++) await s.put({ agent: 'a', version: 1, state: { i } });
      assert.equal(await s.corruptLatest('a'), 3);
      const r = await s.latest('a');
      assert.deepEqual([r?.state, r?.seq, r?.skipped], [{ i: 2 }, 2, [3]]);
      assert.deepEqual(seen.map((e) => [e.what, e.agent, e.seq, e.reason]), [['checkpoint', 'a', 3, 'checksum']]);
      assert.deepEqual((await s.list('a')).map((c) => c.valid), [true, true, false]);
      // The next checkpoint is written past the corrupt one and wins again.
      assert.deepEqual(await s.put({ agent: 'a', version: 1, state: { i: 4 } }), { seq: 4 });
      assert.deepEqual((await s.latest('a'))?.state, { i: 4 });
      await s.close();
    });

    test('all checkpoints corrupt: null (cold start) and one event each, never a throw', async () => {
      const s = make();
      const seen = fallbacks(s);
      s.onFallback(() => {
        throw new Error('a broken alert sink');
      });
      for (let i = 1; i <= 3; i++) {
        await s.put({ agent: 'a', version: 1, state: { i } });
        await s.corruptLatest('a');
      }
      assert.equal(await s.latest('a'), null);
      assert.deepEqual(seen.map((e) => e.seq), [3, 2, 1]);
      assert.deepEqual((await s.list('a')).map((c) => c.valid), [false, false, false]);
      await s.close();
    });

    test('dropLatest removes the newest and seqs keep increasing', async () => {
      const s = make();
      await s.put({ agent: 'a', version: 1, state: 1 });
      await s.put({ agent: 'a', version: 1, state: 2 });
      assert.equal(await s.dropLatest('a'), 2);
      assert.equal(await s.dropLatest('nobody'), null);
      assert.equal(await s.corruptLatest('nobody'), null);
      assert.equal((await s.latest('a'))?.state, 1);
      assert.deepEqual(await s.put({ agent: 'a', version: 1, state: 3 }), { seq: 3 });
      await s.close();
    });

    test('keeps the last N checkpoints per agent', async () => {
      const s = make({ retain: 3 });
      for (let i = 1; i <= 10; i++) await s.put({ agent: 'a', version: 1, state: i });
      await s.put({ agent: 'b', version: 1, state: 0 });
      assert.deepEqual((await s.list('a')).map((c) => c.seq), [8, 9, 10]);
      assert.deepEqual((await s.list('b')).map((c) => c.seq), [1]);
      await s.close();
    });

    test('also keeps checkpoints younger than retainMaxAgeMs', async () => {
      const clock = fakeClock();
      const s = make({ retain: 2, retainMaxAgeMs: 60_000, now: clock.now });
      for (let i = 1; i <= 5; i++) {
        await s.put({ agent: 'a', version: 1, state: i });
        clock.advance(20_000);
      }
      // Written at 0, 20, 40, 60, 80 s; now 100 s: those from 40 s on are young.
      await s.put({ agent: 'a', version: 1, state: 6 });
      assert.deepEqual((await s.list('a')).map((c) => c.seq), [3, 4, 5, 6]);
      clock.advance(120_000);
      await s.put({ agent: 'a', version: 1, state: 7 });
      assert.deepEqual((await s.list('a')).map((c) => c.seq), [6, 7]);
      await s.close();
    });

    test('meta values round-trip and are replaced', async () => {
      const s = make();
      assert.equal(await s.getMeta('breaker:primary'), undefined);
      await s.putMeta('breaker:primary', { state: 'open', openedAt: 5 });
      await s.putMeta('breaker:primary', { state: 'closed' });
      await s.putMeta('restarts:root', [1, 2, 3]);
      assert.deepEqual(await s.getMeta('breaker:primary'), { state: 'closed' });
      assert.deepEqual(await s.getMeta('restarts:root'), [1, 2, 3]);
      await s.close();
    });

    test('the call journal returns results in call order up to the first gap', async () => {
      const s = make();
      await Promise.all([s.journalCall('a', 'm1', 1, { b: 1 }), s.journalCall('a', 'm1', 0, 'zero'), s.journalCall('a', 'm1', 3, 'three'), s.journalCall('a', 'm2', 0, 'other')]);
      assert.deepEqual(await s.journaled('a', 'm1'), ['zero', { b: 1 }]);
      await s.clearJournal('a', 'm1');
      assert.deepEqual(await s.journaled('a', 'm1'), []);
      assert.deepEqual(await s.journaled('a', 'm2'), ['other']);
      await s.close();
    });

    test('a checkpoint with ack removes the handled message and clears its journal', async () => {
      const s = make();
      const box = s.inboxes().open('a');
      assert.equal(s.inboxes().open('a'), box, 'one mailbox per agent');
      await box.put({ id: 'm1', kind: 'ask', message: { q: 1 }, at: 1 });
      await box.put({ id: 'm2', kind: 'send', message: { q: 2 }, at: 2 });
      await s.journalCall('a', 'm1', 0, 'model says hi');
      await s.put({ agent: 'a', version: 1, state: { handled: 1 }, ack: 'm1' });
      assert.equal(box.peek()?.id, 'm2');
      assert.equal(box.size, 1);
      assert.deepEqual(await s.journaled('a', 'm1'), []);
      await box.ack('m1'); // the runtime may still ack; a no-op now
      assert.equal(box.size, 1);
      await s.close();
    });

    test('rejects a state that is not JSON without failing other writers', async () => {
      const s = make();
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      const [bad, good] = await Promise.allSettled([s.put({ agent: 'a', version: 1, state: cyclic }), s.put({ agent: 'b', version: 1, state: 'ok' })]);
      assert.equal(bad.status, 'rejected');
      assert.equal((bad as PromiseRejectedResult).reason.name, 'StateNotSerializableError');
      assert.equal(good.status, 'fulfilled');
      await s.close();
      await assert.rejects(s.put({ agent: 'a', version: 1, state: 1 }), { name: 'StoreClosedError' });
    });
  });
}
