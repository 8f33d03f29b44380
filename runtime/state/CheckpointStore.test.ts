/**
 * The contract every CheckpointStore keeps, run against the memory store,
 * SQLite (a real file), PostgreSQL and Redis (real servers this file starts
 * on free loopback ports) and SQLite with large states in an S3-compatible
 * bucket (s3rver), so the runtime behaves the same on each.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { CheckpointStore, FallbackEvent } from './CheckpointStore.ts';
import { MemoryCheckpointStore } from './MemoryCheckpointStore.ts';
import { SqliteCheckpointStore } from './SqliteCheckpointStore.ts';
import { PostgresCheckpointStore } from './PostgresCheckpointStore.ts';
import { RedisCheckpointStore } from './RedisCheckpointStore.ts';
import { Blobs } from './blobs.ts';
import { fakeClock, tempDir } from './test-fixtures/tmp.ts';
import { PostgresServer, RedisServer, S3Server } from '../../test/helpers/servers.ts';

type Opts = { retain?: number; retainMaxAgeMs?: number; now?: () => number };
/** Opens the store named `ns` (the same `ns` again: the same data, reopened). */
type Open = (ns: string, opts?: Opts) => Promise<CheckpointStore>;

const dir = tempDir();
const pg = new PostgresServer();
const redis = new RedisServer({ appendfsync: 'always' });
const s3 = new S3Server();
before(async () => {
  await Promise.all([pg.start(), redis.start(), s3.start()]);
});
after(async () => {
  await Promise.all([pg.dispose(), redis.dispose(), s3.dispose()]);
});

const blobs = () => new Blobs(s3.blobsConfig(64), S3Server.env);
const stores: [string, Open, { durable: boolean }][] = [
  ['memory', async (_ns, o = {}) => new MemoryCheckpointStore('9.9.9', o), { durable: false }],
  ['sqlite', async (ns, o = {}) => new SqliteCheckpointStore(path.join(dir, ns, 'state.db'), { runtimeVersion: '9.9.9', ...o }), { durable: true }],
  ['postgres', (ns, o = {}) => PostgresCheckpointStore.open({ url: pg.url, schema: ns, runtimeVersion: '9.9.9', ...o }), { durable: true }],
  ['redis', (ns, o = {}) => RedisCheckpointStore.open({ url: redis.url, prefix: `t:${ns}:`, runtimeVersion: '9.9.9', ...o }), { durable: true }],
  ['sqlite+s3 blobs', async (ns, o = {}) => new SqliteCheckpointStore(path.join(dir, ns, 'state.db'), { runtimeVersion: '9.9.9', blobs: blobs(), ...o }), { durable: true }],
];

let n = 0;

function fallbacks(store: CheckpointStore): FallbackEvent[] {
  const seen: FallbackEvent[] = [];
  store.onFallback((e) => seen.push(e));
  return seen;
}

for (const [name, open, { durable }] of stores) {
  const make = (o?: Opts) => open(`s${++n}`, o);
  describe(`${name} checkpoint store`, () => {
    test('restores the newest checkpoint with its version, kind and seq', async () => {
      const s = await make();
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
      const s = await make({ now: clock.now });
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
      const s = await make();
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
      const s = await make();
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

    test('get reads one checkpoint with its row and state; an unknown or pruned seq is null; a corrupt one says why', async () => {
      const s = await make({ retain: 4 });
      const big = { text: 'y'.repeat(300) };
      await s.put({ agent: 'a', version: 1, state: { i: 1 } });
      await s.put({ agent: 'a', version: 2, state: big, kind: 'summary' });
      await s.put({ agent: 'a', version: 2, state: { i: 3 } });
      await s.put({ agent: 'b', version: 1, state: { other: true } });
      const one = await s.get('a', 1);
      assert.ok(one?.verified.ok);
      assert.deepEqual(one.verified.value, { i: 1 });
      assert.deepEqual(one.info, (await s.list('a'))[0], 'the row is the one list shows');
      const two = await s.get('a', 2);
      assert.deepEqual([two?.info.kind, two?.info.version, two?.verified.ok && two.verified.value], ['summary', 2, big]);
      assert.equal(await s.get('a', 9), null);
      assert.equal(await s.get('nobody', 1), null);
      assert.deepEqual((await s.get('b', 1))?.verified, { ok: true, value: { other: true } });
      assert.equal(await s.corruptLatest('a'), 3);
      const bad = await s.get('a', 3);
      assert.equal(bad?.info.valid, false);
      assert.equal(bad?.verified.ok, false);
      assert.ok(!bad.verified.ok && ['checksum', 'parse'].includes(bad.verified.reason));
      await s.close();
    });

    test('a restore copy is a checkpoint of its own: retention prunes its source and keeps it', async () => {
      const s = await make({ retain: 3 });
      for (let i = 1; i <= 3; i++) await s.put({ agent: 'a', version: 1, state: { i } });
      const src = await s.get('a', 1);
      assert.ok(src?.verified.ok);
      assert.deepEqual(await s.put({ agent: 'a', version: src.info.version, state: src.verified.value, kind: 'restore' }), { seq: 4 });
      assert.deepEqual((await s.list('a')).map((c) => [c.seq, c.kind]), [[2, 'full'], [3, 'full'], [4, 'restore']]);
      assert.equal(await s.get('a', 1), null, 'the source was pruned');
      const r = await s.latest('a');
      assert.deepEqual([r?.seq, r?.kind, r?.state], [4, 'restore', { i: 1 }]);
      await s.put({ agent: 'f', version: 1, state: { i: 1 }, kind: 'fork' });
      assert.deepEqual((await s.get('f', 1))?.info.kind, 'fork');
      await s.close();
    });

    test('dropLatest removes the newest and seqs keep increasing', async () => {
      const s = await make();
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
      const s = await make({ retain: 3 });
      for (let i = 1; i <= 10; i++) await s.put({ agent: 'a', version: 1, state: i });
      await s.put({ agent: 'b', version: 1, state: 0 });
      assert.deepEqual((await s.list('a')).map((c) => c.seq), [8, 9, 10]);
      assert.deepEqual((await s.list('b')).map((c) => c.seq), [1]);
      await s.close();
    });

    test('keeps the last N when many checkpoints of an agent commit together, and when N is lowered on reopening', async () => {
      const ns = `s${++n}`;
      const s = await open(ns, { retain: 5 });
      for (let round = 0; round < 3; round++) await Promise.all(Array.from({ length: 4 }, (_, i) => s.put({ agent: 'a', version: 1, state: round * 4 + i })));
      assert.deepEqual((await s.list('a')).map((c) => c.seq), [8, 9, 10, 11, 12]);
      await s.close();
      if (!durable) return;
      const again = await open(ns, { retain: 2 });
      await again.put({ agent: 'a', version: 1, state: 'after' });
      assert.deepEqual((await again.list('a')).map((c) => c.seq), [12, 13]);
      await again.put({ agent: 'a', version: 1, state: 'later' });
      assert.deepEqual((await again.list('a')).map((c) => c.seq), [13, 14]);
      assert.equal((await again.latest('a'))?.state, 'later');
      await again.close();
    });

    test('stores state handed over as JSON text as it is', async () => {
      const s = await make();
      await s.put({ agent: 'a', version: 1, json: '{"n":1,"pad":"x\\"y"}' });
      assert.deepEqual((await s.latest('a'))?.state, { n: 1, pad: 'x"y' });
      await s.close();
    });

    test('also keeps checkpoints younger than retainMaxAgeMs', async () => {
      const clock = fakeClock();
      const s = await make({ retain: 2, retainMaxAgeMs: 60_000, now: clock.now });
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
      const s = await make();
      assert.equal(await s.getMeta('breaker:primary'), undefined);
      await s.putMeta('breaker:primary', { state: 'open', openedAt: 5 });
      await s.putMeta('breaker:primary', { state: 'closed' });
      await s.putMeta('restarts:root', [1, 2, 3]);
      assert.deepEqual(await s.getMeta('breaker:primary'), { state: 'closed' });
      assert.deepEqual(await s.getMeta('restarts:root'), [1, 2, 3]);
      await s.close();
    });

    test('the call journal returns results in call order up to the first gap', async () => {
      const s = await make();
      await Promise.all([s.journalCall('a', 'm1', 1, { b: 1 }), s.journalCall('a', 'm1', 0, 'zero'), s.journalCall('a', 'm1', 3, 'three'), s.journalCall('a', 'm2', 0, 'other')]);
      assert.deepEqual(await s.journaled('a', 'm1'), ['zero', { b: 1 }]);
      await s.clearJournal('a', 'm1');
      assert.deepEqual(await s.journaled('a', 'm1'), []);
      assert.deepEqual(await s.journaled('a', 'm2'), ['other']);
      await s.close();
    });

    test('a checkpoint with ack removes the handled message and clears its journal', async () => {
      const s = await make();
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
      const s = await make();
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      const [bad, good] = await Promise.allSettled([s.put({ agent: 'a', version: 1, state: cyclic }), s.put({ agent: 'b', version: 1, state: 'ok' })]);
      assert.equal(bad.status, 'rejected');
      assert.equal((bad as PromiseRejectedResult).reason.name, 'StateNotSerializableError');
      assert.equal(good.status, 'fulfilled');
      await s.close();
      await assert.rejects(s.put({ agent: 'a', version: 1, state: 1 }), { name: 'StoreClosedError' });
    });

    test('a large state round-trips, and rows name their store (and blob)', async () => {
      const s = await make();
      const big = { text: 'é'.repeat(3000), n: 1 };
      await s.put({ agent: 'a', version: 1, state: big });
      assert.deepEqual((await s.latest('a'))?.state, big);
      const [row] = await s.list('a');
      assert.equal(row.store, name.split('+')[0]);
      assert.equal(row.valid, true);
      assert.equal(row.size, Buffer.byteLength(JSON.stringify(big)));
      if (name.includes('blobs')) assert.match(row.blob ?? '', new RegExp(`^s3://${s3.bucket}/faultline/checkpoints/${row.checksum}$`));
      else assert.equal(row.blob, undefined);
      await s.close();
    });

    test('a corrupt large state falls back to the previous good one', async () => {
      const s = await make();
      const seen = fallbacks(s);
      await s.put({ agent: 'a', version: 1, state: { pad: 'x'.repeat(500), i: 1 } });
      await s.put({ agent: 'a', version: 1, state: { pad: 'x'.repeat(500), i: 2 } });
      assert.equal(await s.corruptLatest('a'), 2);
      const r = await s.latest('a');
      assert.deepEqual([(r?.state as { i: number }).i, r?.skipped], [1, [2]]);
      assert.deepEqual(seen.map((e) => [e.seq, e.reason]), [[2, 'checksum']]);
      await s.close();
    });

    test('many agents writing at once each get their own next seq', async () => {
      const s = await make();
      const writes = [];
      for (let round = 0; round < 5; round++) for (let a = 0; a < 20; a++) writes.push(s.put({ agent: `a${a}`, version: 1, state: { round } }));
      const seqs = await Promise.all(writes);
      for (let a = 0; a < 20; a++) {
        assert.deepEqual(seqs.filter((_, i) => i % 20 === a).map((x) => x.seq), [1, 2, 3, 4, 5]);
        assert.deepEqual((await s.latest(`a${a}`))?.state, { round: 4 });
      }
      await s.close();
    });

    if (durable) {
      test('reopened: checkpoints, the inbox in order with its delivery counts, the journal and meta are all still there', async () => {
        const ns = `r${++n}`;
        const s = await open(ns);
        const box = s.inboxes().open('a');
        await box.put({ id: 'm1', kind: 'send', message: { q: 1 }, at: 1 });
        await box.put({ id: 'm2', kind: 'send', message: { q: 2 }, at: 2, from: 'b', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
        await box.put({ id: 'm3', kind: 'ask', message: { q: 3 }, at: 3 });
        await box.put({ id: 'm4', kind: 'send', message: { q: 4 }, at: 4 });
        box.delivering('m1');
        await s.journalCall('a', 'm1', 0, 'kept');
        await s.put({ agent: 'a', version: 3, state: { handled: 'm1' }, ack: 'm1' });
        box.delivering('m2');
        await s.journalCall('a', 'm2', 0, { result: 2 });
        await s.putMeta('k', { v: 1 });
        await box.ack('m4');
        await s.close();

        const t = await open(ns);
        const again = t.inboxes().open('a');
        // m1 went with its checkpoint; the ask was never stored; m4 was acknowledged.
        // It keeps its sender's trace context: its redelivery stays in the sender's trace.
        assert.deepEqual(again.peek(), { id: 'm2', kind: 'send', message: { q: 2 }, at: 2, from: 'b', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', deliveries: 1 });
        assert.equal(again.size, 1);
        assert.deepEqual((await t.latest('a'))?.state, { handled: 'm1' });
        assert.equal((await t.latest('a'))?.version, 3);
        assert.deepEqual(await t.journaled('a', 'm1'), []);
        assert.deepEqual(await t.journaled('a', 'm2'), [{ result: 2 }]);
        assert.deepEqual(await t.getMeta('k'), { v: 1 });
        // Seqs go on from the stored ones.
        assert.deepEqual(await t.put({ agent: 'a', version: 3, state: 2 }), { seq: 2 });
        await t.close();
      });

      test('a message stored and handled in the same turn leaves nothing behind', async () => {
        const ns = `r${++n}`;
        const s = await open(ns);
        const box = s.inboxes().open('a');
        const stored = box.put({ id: 'x1', kind: 'send', message: 1, at: 1 });
        box.delivering('x1');
        const done = s.put({ agent: 'a', version: 1, state: { x: 1 }, ack: 'x1' });
        await Promise.all([stored, done]);
        assert.equal(box.size, 0);
        await s.close();
        const t = await open(ns);
        assert.equal(t.inboxes().open('a').size, 0);
        assert.deepEqual((await t.latest('a'))?.state, { x: 1 });
        await t.close();
      });
    }

    if (name.includes('blobs')) {
      test('blobs of pruned checkpoints are collected; those rows still point at stay', async () => {
        const b = blobs();
        const s = new SqliteCheckpointStore(path.join(dir, `gc${++n}`, 'state.db'), { runtimeVersion: '9.9.9', blobs: b, retain: 2 });
        for (let i = 0; i < 5; i++) await s.put({ agent: 'gc', version: 1, state: { pad: 'y'.repeat(200), i } });
        const kept = await s.referencedBlobs();
        assert.equal(kept.size, 2);
        // Grace 0: every unreferenced object under the prefix goes (the other tests' too).
        assert.ok((await b.collect(kept, Date.now() + 1000, 0)) >= 3);
        assert.deepEqual(((await s.latest('gc'))?.state as { i: number }).i, 4);
        assert.deepEqual((await s.list('gc')).map((c) => c.valid), [true, true]);
        assert.equal(await b.collect(kept, Date.now() + 1000, 0), 0);
        await s.close();
      });
    }
  });
}
