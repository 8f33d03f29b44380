/** What only a real file shows: persistence across opens, damage done outside the store, bounded size. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { SqliteCheckpointStore } from './SqliteCheckpointStore.ts';
import type { FallbackEvent } from './CheckpointStore.ts';
import { checksumOf } from './payload.ts';
import { compactState } from './summarize.ts';
import { tempDir } from './test-fixtures/tmp.ts';

const dir = tempDir();
let n = 0;
const file = () => path.join(dir, `s${++n}`, 'nested', 'checkpoints.db');

test('creates the directory, and a reopened file restores state, meta and seqs', async () => {
  const f = file();
  const a = new SqliteCheckpointStore(f, { runtimeVersion: '1.2.3' });
  assert.equal(a.migratedFrom, 0);
  await a.put({ agent: 'planner', version: 3, state: { plan: ['a', 'b'] } });
  await a.put({ agent: 'planner', version: 3, state: { plan: ['a', 'b', 'c'] } });
  await a.putMeta('supervisor:root', { restarts: [10, 20] });
  await a.close();
  assert.ok(statSync(f).isFile());

  const b = new SqliteCheckpointStore(f, { runtimeVersion: '1.2.4' });
  assert.equal(b.migratedFrom, 4);
  const r = await b.latest('planner');
  assert.deepEqual([r?.state, r?.version, r?.seq], [{ plan: ['a', 'b', 'c'] }, 3, 2]);
  assert.deepEqual(await b.getMeta('supervisor:root'), { restarts: [10, 20] });
  assert.deepEqual(await b.put({ agent: 'planner', version: 3, state: {} }), { seq: 3 });
  assert.deepEqual((await b.list('planner')).map((c) => c.runtimeVersion), ['1.2.3', '1.2.3', '1.2.4']);
  await b.close();
});

test('damage done to the file behind the store: bad checksum, bad JSON, a BLOB payload', async () => {
  const f = file();
  const s = new SqliteCheckpointStore(f);
  const seen: FallbackEvent[] = [];
  s.onFallback((e) => seen.push(e));
  for (let i = 1; i <= 4; i++) await s.put({ agent: 'a', version: 1, state: { i } });
  await s.close();

  const raw = new Database(f);
  // seq 4: truncated, as a torn write would leave it.
  raw.prepare("UPDATE checkpoints SET payload = substr(payload, 1, 3) WHERE agent = 'a' AND seq = 4").run();
  // seq 3: not JSON, but with a checksum that matches (a bug that wrote garbage).
  raw.prepare("UPDATE checkpoints SET payload = '{oops', checksum = ? WHERE agent = 'a' AND seq = 3").run(checksumOf('{oops'));
  // seq 2: bytes that are not even UTF-8.
  raw.prepare("UPDATE checkpoints SET payload = ? WHERE agent = 'a' AND seq = 2").run(Buffer.from([0xff, 0xfe, 0x00]));
  raw.close();

  const t = new SqliteCheckpointStore(f);
  t.onFallback((e) => seen.push(e));
  const r = await t.latest('a');
  assert.deepEqual([r?.state, r?.skipped], [{ i: 1 }, [4, 3, 2]]);
  assert.deepEqual(seen.map((e) => [e.seq, e.reason]), [[4, 'checksum'], [3, 'parse'], [2, 'checksum']]);
  assert.deepEqual((await t.list('a')).map((c) => c.valid), [true, false, false, false]);
  await t.close();
});

test('checkpoint size and file stay bounded over 10,000 summarized updates', async () => {
  const f = file();
  const maxBytes = 8_192;
  const s = new SqliteCheckpointStore(f, { retain: 5 });
  let state: { count: number; history: { n: number; text: string }[] } = { count: 0, history: [] };
  let summaries = 0;
  let largest = 0;
  for (let i = 0; i < 10_000; i++) {
    state = { ...state, count: state.count + 1, history: [...state.history, { n: i, text: `message number ${i} `.repeat(4) }] };
    const c = compactState(state, { thresholds: { maxBytes, maxEntries: 100, keepLast: 20 } });
    state = c.state;
    if (c.summarized) summaries++;
    const puts = s.put({ agent: 'long-runner', version: 1, state, kind: c.summarized ? 'summary' : 'full' });
    // Await in groups, as 100 agents' writes would share commits.
    if (i % 100 === 99) await puts;
  }
  await s.flushed();
  const list = await s.list('long-runner');
  for (const c of list) largest = Math.max(largest, c.size);
  assert.equal(list.length, 5);
  assert.ok(largest <= maxBytes, `largest checkpoint ${largest} B > ${maxBytes} B`);
  assert.ok(summaries >= 100, `only ${summaries} summaries`);
  const r = (await s.latest('long-runner'))!.state as typeof state & { history: unknown[] };
  assert.equal(r.count, 10_000);
  assert.equal((r.history.at(-1) as { n: number }).n, 9_999);
  await s.close();
  // Retention keeps the file itself small: pages are reused, not appended.
  assert.ok(statSync(f).size < 2_000_000, `file is ${statSync(f).size} B`);
});
