/** The durable inbox on a real file: order, acknowledgement, redelivery after reopening. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import Database from 'better-sqlite3';
import { SqliteCheckpointStore } from './SqliteCheckpointStore.ts';
import type { FallbackEvent } from './CheckpointStore.ts';
import { tempDir } from './test-fixtures/tmp.ts';

const dir = tempDir();
let n = 0;
const file = () => path.join(dir, `i${++n}.db`);
const msg = (id: string, message: unknown = { id }, kind: 'send' | 'ask' = 'send') => ({ id, kind, message, at: 1_700_000_000_000, from: 'cli' });

function rowsOnDisk(f: string, agent: string): string[] {
  const r = new Database(f, { readonly: true });
  try {
    return (r.prepare('SELECT id FROM inbox WHERE agent = ? ORDER BY pos').all(agent) as { id: string }[]).map((x) => x.id);
  } finally {
    r.close();
  }
}

test('a put is acknowledged only once its row is on disk, and peek keeps arrival order', async () => {
  const f = file();
  const s = new SqliteCheckpointStore(f);
  const box = s.inboxes().open('writer');
  const onDiskAtAck: string[][] = [];
  await Promise.all(['m1', 'm2', 'm3'].map((id) => Promise.resolve(box.put(msg(id))).then(() => onDiskAtAck.push(rowsOnDisk(f, 'writer')))));
  for (const seen of onDiskAtAck) assert.deepEqual(seen, ['m1', 'm2', 'm3']);
  assert.equal(box.size, 3);
  assert.deepEqual(box.peek(), { ...msg('m1'), deliveries: 0 });
  await s.close();
});

test('after reopening, unacknowledged messages come back in order with their delivery counts', async () => {
  const f = file();
  const a = new SqliteCheckpointStore(f);
  const box = a.inboxes().open('w');
  for (let i = 1; i <= 5; i++) await box.put(msg(`m${i}`, { n: i }));
  await box.put(msg('q1', { question: true }, 'ask'));
  await a.inboxes().open('other').put(msg('x1'));
  await box.ack('m1');
  box.delivering('m2'); // handed to the agent, which then dies
  await box.ack('m4'); // cancelled out of order
  await a.close();

  const b = new SqliteCheckpointStore(f);
  const again = b.inboxes().open('w');
  assert.deepEqual(b.inboxes().agentsWithMessages(), ['other', 'w']);
  assert.equal(again.size, 3, 'the ask (q1) was in memory only: its asker is gone with the runtime');
  const head = again.peek()!;
  assert.deepEqual([head.id, head.kind, head.message, head.from, head.at, head.deliveries], ['m2', 'send', { n: 2 }, 'cli', 1_700_000_000_000, 1]);
  const order: string[] = [];
  for (let e = again.peek(); e; e = again.peek()) {
    order.push(e.id);
    await again.ack(e.id);
  }
  assert.deepEqual(order, ['m2', 'm3', 'm5']);
  assert.deepEqual(rowsOnDisk(f, 'w'), []);
  assert.deepEqual(rowsOnDisk(f, 'other'), ['x1']);
  await b.close();
});

test('ack takes the message out of peek at once, even before it commits', async () => {
  const s = new SqliteCheckpointStore(file());
  const box = s.inboxes().open('w');
  await box.put(msg('m1'));
  await box.put(msg('m2'));
  const acked = box.ack('m1');
  assert.equal(box.peek()?.id, 'm2');
  await acked;
  await s.close();
});

test('a message id already waiting is refused, so an ack can never remove the wrong message', async () => {
  const s = new SqliteCheckpointStore(file());
  const box = s.inboxes().open('w');
  await box.put(msg('m1'));
  await assert.rejects(Promise.resolve(box.put(msg('m1'))), { name: 'DuplicateMessageIdError' });
  assert.equal(box.size, 1);
  await s.close();
});

test('a put the database refuses is rejected and leaves no trace; a failed ack puts the message back in place', async () => {
  const f = file();
  const s = new SqliteCheckpointStore(f, { busyTimeoutMs: 0 });
  const box = s.inboxes().open('w');
  await box.put(msg('m1'));
  await box.put(msg('m2'));
  const writeErrors: string[] = [];
  s.onWriteError((e) => writeErrors.push(`${e.what} ${e.agent} ${e.id}`));
  const unhandled: unknown[] = [];
  const onUnhandled = (r: unknown) => unhandled.push(r);
  process.on('unhandledRejection', onUnhandled);
  const other = new Database(f);
  other.prepare('BEGIN IMMEDIATE').run();
  await assert.rejects(Promise.resolve(box.put(msg('m3'))), /busy|locked/i);
  await assert.rejects(Promise.resolve(box.ack('m1')), /busy|locked/i);
  await assert.rejects(s.put({ agent: 'w', version: 1, state: 1, ack: 'm2' }), /busy|locked/i);
  // The runtime acks without waiting; a failure must not become an unhandled rejection.
  void box.ack('m2');
  await s.flushed();
  await new Promise((r) => setImmediate(r));
  process.off('unhandledRejection', onUnhandled);
  other.prepare('ROLLBACK').run();
  other.close();
  assert.deepEqual(unhandled, []);
  assert.deepEqual(writeErrors, ['ack w m1', 'ack w m2']);
  assert.deepEqual([box.size, box.peek()?.id], [2, 'm1']);
  await box.ack('m2');
  assert.deepEqual(rowsOnDisk(f, 'w'), ['m1']);
  await s.close();
});

test('a message row that no longer parses is set aside and reported, not delivered', async () => {
  const f = file();
  const a = new SqliteCheckpointStore(f);
  await a.inboxes().open('w').put(msg('m1'));
  await a.inboxes().open('w').put(msg('m2'));
  await a.close();
  const raw = new Database(f);
  raw.prepare("UPDATE inbox SET message = '{\"trunc' WHERE id = 'm1'").run();
  raw.close();
  const b = new SqliteCheckpointStore(f);
  const seen: FallbackEvent[] = [];
  b.onFallback((e) => seen.push(e));
  const box = b.inboxes().open('w');
  assert.deepEqual([box.size, box.peek()?.id], [1, 'm2']);
  assert.deepEqual(seen.map((e) => [e.what, e.agent, e.reason]), [['message', 'w', 'parse']]);
  await b.close();
});
