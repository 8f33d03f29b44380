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

test('server stores: url or urlEnv, never a password in the config, and each option only where it applies', () => {
  const ok = (c: unknown) => checkpointsSchema.safeParse(c).success;
  const issues = (c: unknown) => checkpointsSchema.safeParse(c).error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  assert.equal(ok({ store: 'postgres', url: 'postgres://faultline@127.0.0.1:5432/faultline', schema: 'team_a' }), true);
  assert.equal(ok({ store: 'redis', urlEnv: 'FAULTLINE_REDIS_URL', prefix: 'x:' }), true);
  assert.equal(ok({ store: 'sqlite', blobs: { store: 's3', bucket: 'faultline', endpoint: 'http://127.0.0.1:4569', forcePathStyle: true, accessKeyIdEnv: 'K', secretAccessKeyEnv: 'S', thresholdBytes: 1024 } }), true);
  assert.match(issues({ store: 'postgres' })[0], /^url: a "postgres" store needs url or urlEnv/);
  assert.match(issues({ store: 'postgres', url: 'postgres://u:secret@h/db' })[0], /^url: holds a password/);
  assert.doesNotMatch(issues({ store: 'postgres', url: 'postgres://u:secret@h/db' }).join(), /secret/);
  assert.match(issues({ store: 'redis', url: 'postgres://h/db' })[0], /^url: a "redis" store needs a redis: or rediss:\/\/ URL/);
  assert.match(issues({ store: 'sqlite', url: 'postgres://h/db' })[0], /^url: only a postgres or redis store/);
  assert.match(issues({ store: 'redis', urlEnv: 'A', schema: 'x' })[0], /^schema: only a postgres store/);
  assert.match(issues({ store: 'postgres', urlEnv: 'lower-case bad' })[0], /^urlEnv: must be the name of an environment variable/);
  assert.match(issues({ store: 'sqlite', blobs: { store: 's3' } })[0], /^blobs\.bucket/);
});

test('urlEnv names a variable that is not set: a clear error before anything connects', async () => {
  await assert.rejects(openCheckpointStore({ store: 'postgres', urlEnv: 'FAULTLINE_NOT_SET_ANYWHERE' }, tempDir(), '0.1.0', { env: {} }), (e: Error) => e.name === 'StoreUrlMissingError' && /FAULTLINE_NOT_SET_ANYWHERE, which is not set/.test(e.message));
});

test('a store error names the store and the URL, and holds the password nowhere, even logged whole', async () => {
  const { StoreUnavailableError } = await import('./errors.ts');
  const e = new StoreUnavailableError('redis', 'redis://:s3cr3t-pass@127.0.0.1:6390/0', 'WRONGPASS s3cr3t-pass rejected');
  assert.equal(e.message, 'The redis checkpoint store at redis://:***@127.0.0.1:6390/0 is unavailable: WRONGPASS *** rejected');
  assert.doesNotMatch(JSON.stringify({ ...e, message: e.message, stack: e.stack }), /s3cr3t-pass/);
});
