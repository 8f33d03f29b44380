/** Group commit on a real SQLite file: batching, acknowledgement after commit, failures. */
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import Database from 'better-sqlite3';
import { openStateDb } from './StateDb.ts';
import { SqliteCheckpointStore } from './SqliteCheckpointStore.ts';
import type { CommitInfo } from './GroupCommit.ts';
import { tempDir } from './test-fixtures/tmp.ts';

const dir = tempDir();
let n = 0;
const file = () => path.join(dir, `g${++n}.db`);
const turn = () => new Promise((r) => setImmediate(r));

function countRows(f: string, agent: string): number {
  const reader = new Database(f, { readonly: true });
  try {
    return (reader.prepare('SELECT count(*) AS n FROM checkpoints WHERE agent = ?').get(agent) as { n: number }).n;
  } finally {
    reader.close();
  }
}

test('100 concurrent puts share one transaction, and each is acknowledged only once visible to another connection', async () => {
  const f = file();
  const store = new SqliteCheckpointStore(f);
  const commits: Omit<CommitInfo, 'ms'>[] = [];
  store.onCommit(({ writes, failed }) => commits.push({ writes, failed }));
  const reader = new Database(f, { readonly: true });
  const visible = reader.prepare('SELECT count(*) AS n FROM checkpoints WHERE agent = ? AND seq = ?');
  const seenAtAck: number[] = [];
  await Promise.all(
    Array.from({ length: 100 }, (_, i) =>
      store.put({ agent: `agent-${i}`, version: 1, state: { i } }).then(({ seq }) => {
        seenAtAck.push((visible.get(`agent-${i}`, seq) as { n: number }).n);
      }),
    ),
  );
  assert.deepEqual(commits, [{ writes: 100, failed: 0 }]);
  assert.deepEqual(seenAtAck, Array(100).fill(1));
  reader.close();
  await store.close();
});

test('with a window, nothing commits or is acknowledged before the window ends', async () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const f = file();
    const store = new SqliteCheckpointStore(f, { windowMs: 5 });
    let acked = 0;
    const puts = [1, 2, 3].map((i) => store.put({ agent: 'a', version: 1, state: i }).then(() => acked++));
    await turn();
    mock.timers.tick(4);
    await turn();
    assert.equal(acked, 0);
    assert.equal(countRows(f, 'a'), 0);
    mock.timers.tick(1);
    await Promise.all(puts);
    assert.equal(acked, 3);
    assert.equal(countRows(f, 'a'), 3);
    await store.close();
  } finally {
    mock.timers.reset();
  }
});

test('a full batch commits at once, in batches of maxBatch', async () => {
  const store = new SqliteCheckpointStore(file(), { maxBatch: 4 });
  const commits: number[] = [];
  store.onCommit((c) => commits.push(c.writes));
  await Promise.all(Array.from({ length: 10 }, (_, i) => store.put({ agent: 'a', version: 1, state: i })));
  assert.deepEqual(commits, [4, 4, 2]);
  assert.deepEqual((await store.list('a')).map((c) => c.seq).slice(-3), [8, 9, 10]);
  await store.close();
});

test('when the database refuses a batch, every caller of that batch is rejected, and later writes succeed', async () => {
  const f = file();
  const store = new SqliteCheckpointStore(f, { busyTimeoutMs: 0 });
  await store.put({ agent: 'a', version: 1, state: 0 });
  const other = new Database(f);
  other.prepare('BEGIN IMMEDIATE').run();
  const results = await Promise.allSettled([1, 2, 3].map((i) => store.put({ agent: 'a', version: 1, state: i })));
  assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected', 'rejected']);
  assert.match(String((results[0] as PromiseRejectedResult).reason.code), /^SQLITE_BUSY/);
  other.prepare('ROLLBACK').run();
  other.close();
  await store.put({ agent: 'a', version: 1, state: 4 });
  assert.deepEqual((await store.list('a')).map((c) => c.valid), [true, true]);
  assert.equal((await store.latest('a'))?.state, 4);
  await store.close();
});

test('one failing write does not fail the writes that shared its batch', async () => {
  const sdb = openStateDb(file());
  const insert = sdb.db.prepare("INSERT INTO meta (key, value, time) VALUES (?, '1', '')");
  const commits: Omit<CommitInfo, 'ms'>[] = [];
  sdb.writer.onCommit(({ writes, failed }) => commits.push({ writes, failed }));
  let rolledBack = 0;
  const results = await Promise.allSettled([
    sdb.writer.enqueue(() => insert.run('k1').changes),
    sdb.writer.enqueue(
      () => {
        insert.run('k2');
        throw new Error('bug in one write');
      },
      () => rolledBack++,
    ),
    sdb.writer.enqueue(() => insert.run('k3').changes),
  ]);
  assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
  assert.ok(rolledBack >= 1);
  assert.deepEqual(commits, [{ writes: 3, failed: 1 }]);
  assert.deepEqual((sdb.db.prepare('SELECT key FROM meta ORDER BY key').all() as { key: string }[]).map((r) => r.key), ['k1', 'k3']);
  await sdb.close();
  await assert.rejects(sdb.writer.enqueue(() => 1), { name: 'StoreClosedError' });
});

test('close commits what is queued', async () => {
  const f = file();
  const store = new SqliteCheckpointStore(f);
  const put = store.put({ agent: 'a', version: 1, state: 'last words' });
  await store.close();
  assert.deepEqual(await put, { seq: 1 });
  assert.equal(countRows(f, 'a'), 1);
});

test('synchronous FULL is applied on request, NORMAL by default', async () => {
  const full = openStateDb(file(), { synchronous: 'FULL' });
  const normal = openStateDb(file());
  assert.equal(full.db.pragma('synchronous', { simple: true }), 2);
  assert.equal(normal.db.pragma('synchronous', { simple: true }), 1);
  assert.equal(normal.db.pragma('journal_mode', { simple: true }), 'wal');
  await full.close();
  await normal.close();
});
