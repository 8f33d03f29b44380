/** Opening the store the config asks for, and the `checkpoints` config schema. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { openCheckpointStore } from './openStore.ts';
import { MemoryCheckpointStore } from './MemoryCheckpointStore.ts';
import { SqliteCheckpointStore } from './SqliteCheckpointStore.ts';
import { checkpointsSchema } from '../config/checkpointsSchema.ts';
import { tempDir } from './test-fixtures/tmp.ts';

test('sqlite by default, at .faultline/checkpoints.db under the config directory', async () => {
  const base = tempDir();
  const s = await openCheckpointStore(undefined, base, '0.1.0');
  assert.ok(s instanceof SqliteCheckpointStore);
  assert.equal(s.file, path.join(base, '.faultline', 'checkpoints.db'));
  await s.put({ agent: 'a', version: 1, state: 1 });
  assert.equal((await s.list('a'))[0].runtimeVersion, '0.1.0');
  await s.close();
});

test('a relative path resolves against the config directory; options reach the store', async () => {
  const base = tempDir();
  const s = await openCheckpointStore({ path: 'state/x.db', retain: 2, synchronous: 'FULL' }, base, '0.1.0');
  for (let i = 0; i < 5; i++) await s.put({ agent: 'a', version: 1, state: i });
  assert.deepEqual((await s.list('a')).map((c) => c.seq), [4, 5]);
  await s.close();
  assert.ok(existsSync(path.join(base, 'state', 'x.db')));
});

test('memory when asked, and nothing on disk', async () => {
  const base = tempDir();
  const s = await openCheckpointStore({ store: 'memory', retain: 1 }, base, '0.1.0');
  assert.ok(s instanceof MemoryCheckpointStore);
  await s.put({ agent: 'a', version: 1, state: 1 });
  await s.put({ agent: 'a', version: 1, state: 2 });
  assert.deepEqual((await s.list('a')).map((c) => c.seq), [2]);
  assert.equal(existsSync(path.join(base, '.faultline')), false);
});

test('the config schema takes the new options and names what is wrong', () => {
  const ok = checkpointsSchema.safeParse({ store: 'sqlite', path: 'a.db', synchronous: 'FULL', retain: 5, retainMaxAgeMs: 0, groupCommitMs: 2, summarize: { maxBytes: 4096, maxEntries: 100, keepLast: 10 } });
  assert.equal(ok.success, true);
  const bad = checkpointsSchema.safeParse({ retain: 0, synchronous: 'OFF', summarize: { keepLast: -1, extra: 1 } });
  assert.equal(bad.success, false);
  const paths = bad.error!.issues.map((i) => i.path.join('.')).sort();
  assert.deepEqual(paths, ['retain', 'summarize', 'summarize.keepLast', 'synchronous']);
});
