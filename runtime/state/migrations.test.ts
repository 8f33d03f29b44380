/** Schema migration of files written by older (and newer) Faultlines. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { mkdirSync, readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { SqliteCheckpointStore } from './SqliteCheckpointStore.ts';
import { SCHEMA_VERSION } from './migrations.ts';
import { tempDir } from './test-fixtures/tmp.ts';

const dir = tempDir();
let n = 0;

/** A file as Faultline 0.0.x left it: schema v1, written with raw SQL, not with today's code. */
function v1File(extraSql = ''): string {
  const f = path.join(dir, `v1-${++n}`, 'checkpoints.db');
  mkdirSync(path.dirname(f), { recursive: true });
  const db = new Database(f);
  db.pragma('journal_mode = WAL');
  db.exec(`
    CREATE TABLE checkpoints (
      agent TEXT NOT NULL, seq INTEGER NOT NULL, version INTEGER NOT NULL,
      runtime_version TEXT NOT NULL, time TEXT NOT NULL, size INTEGER NOT NULL,
      payload TEXT NOT NULL, PRIMARY KEY (agent, seq));
    INSERT INTO checkpoints VALUES ('planner', 1, 1, '0.0.9', '2025-12-01T10:00:00.000Z', 11, '{"steps":1}');
    INSERT INTO checkpoints VALUES ('planner', 2, 1, '0.0.9', '2025-12-01T10:00:01.000Z', 11, '{"steps":2}');
    INSERT INTO checkpoints VALUES ('writer', 7, 2, '0.0.9', '2025-12-01T10:00:02.000Z', 13, '{"draft":"x"}');
    ${extraSql}
    PRAGMA user_version = 1;
  `);
  db.close();
  return f;
}

test('a v1 file is migrated to the current schema and keeps every checkpoint, now checksummed', async () => {
  assert.equal(SCHEMA_VERSION, 4);
  const f = v1File();
  const s = new SqliteCheckpointStore(f, { runtimeVersion: '0.1.0' });
  assert.equal(s.migratedFrom, 1);
  const list = await s.list('planner');
  assert.deepEqual(list.map((c) => [c.seq, c.kind, c.valid, c.runtimeVersion]), [[1, 'full', true, '0.0.9'], [2, 'full', true, '0.0.9']]);
  assert.deepEqual(await s.latest('writer'), { state: { draft: 'x' }, version: 2, seq: 7, kind: 'full', time: '2025-12-01T10:00:02.000Z', skipped: [] });
  // The tables v2 added work: seqs continue, the inbox and meta store.
  assert.deepEqual(await s.put({ agent: 'planner', version: 1, state: { steps: 3 } }), { seq: 3 });
  await s.inboxes().open('planner').put({ id: 'm1', kind: 'send', message: 'hi', at: 1 });
  await s.putMeta('k', 1);
  await s.close();
  const raw = new Database(f, { readonly: true });
  assert.equal(raw.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  assert.equal(raw.pragma('integrity_check', { simple: true }), 'ok');
  raw.close();
});

test('a migration that fails leaves the file at its old version, untouched', () => {
  // A stray table in the way of v2 makes its migration fail halfway.
  const f = v1File('CREATE TABLE journal (x);');
  assert.throws(() => new SqliteCheckpointStore(f), /journal already exists/);
  const raw = new Database(f, { readonly: true });
  assert.equal(raw.pragma('user_version', { simple: true }), 1);
  const cols = (raw.prepare('PRAGMA table_info(checkpoints)').all() as { name: string }[]).map((c) => c.name);
  assert.ok(!cols.includes('checksum') && !cols.includes('kind'), `columns: ${cols.join(', ')}`);
  assert.equal((raw.prepare("SELECT name FROM sqlite_master WHERE name = 'inbox'").get() as unknown) ?? null, null);
  raw.close();
});

test('a file from a newer Faultline is refused, naming both versions, and left as it was', () => {
  const f = path.join(dir, 'future.db');
  const db = new Database(f);
  db.exec('CREATE TABLE future (x); PRAGMA user_version = 99;');
  db.close();
  const before = readFileSync(f);
  assert.throws(() => new SqliteCheckpointStore(f), (e: Error) => e.name === 'StateSchemaTooNewError' && /99/.test(e.message) && /up to 4/.test(e.message));
  assert.deepEqual(readFileSync(f), before);
});
