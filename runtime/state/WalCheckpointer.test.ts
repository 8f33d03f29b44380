/** The WAL checkpointer thread: it copies committed pages into the database file, and reports when it cannot. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { startWalCheckpointer } from './WalCheckpointer.ts';
import { tempDir } from './test-fixtures/tmp.ts';

const dir = tempDir();

test('pages committed by another connection reach the database file without that connection checkpointing', async () => {
  const f = path.join(dir, 'wal.db');
  const db = new Database(f);
  db.pragma('journal_mode = WAL');
  db.pragma('wal_autocheckpoint = 0');
  db.exec('CREATE TABLE t (x TEXT)');
  db.pragma('wal_checkpoint(TRUNCATE)');
  const before = statSync(f).size;
  const insert = db.prepare('INSERT INTO t VALUES (?)');
  db.transaction(() => {
    for (let i = 0; i < 200; i++) insert.run('y'.repeat(1000));
  })();
  assert.equal(statSync(f).size, before, 'nothing copied yet: autocheckpoint is off');
  const cp = startWalCheckpointer(f, { intervalMs: 5 });
  // Polls, with no deadline of its own: the test runner's timeout bounds it.
  while (statSync(f).size === before) await new Promise((r) => setTimeout(r, 5));
  await cp.stop();
  const status = db.pragma('wal_checkpoint(PASSIVE)') as { log: number; checkpointed: number }[];
  assert.equal(status[0].log, status[0].checkpointed, 'every WAL frame is in the database file');
  db.close();
});

test('a checkpointer that cannot open the file reports it once', async () => {
  const errors: Error[] = [];
  const cp = startWalCheckpointer(path.join(dir, 'missing', 'dir', 'x.db'), { onError: (e) => errors.push(e) });
  await cp.stop();
  assert.equal(errors.length, 1);
  assert.match(errors[0].message, /directory does not exist|unable to open/i);
});
