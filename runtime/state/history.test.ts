/** Reading one checkpoint for time travel: the state, or an error that names the problem. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryCheckpointStore } from './MemoryCheckpointStore.ts';
import { CheckpointCorruptError, readCheckpoint, UnknownCheckpointError } from './history.ts';

test('readCheckpoint returns the row and state, and refuses an unknown seq (listing the kept ones) or a corrupt one', async () => {
  const s = new MemoryCheckpointStore('1.0.0', { retain: 5 });
  for (let i = 1; i <= 8; i++) await s.put({ agent: 'a', version: 1, state: { i } });
  const c = await readCheckpoint(s, 'a', 6);
  assert.deepEqual([c.info.seq, c.info.kind, c.state], [6, 'full', { i: 6 }]);
  await assert.rejects(readCheckpoint(s, 'a', 2), (e: Error) => e instanceof UnknownCheckpointError && /Agent "a" has no checkpoint #2 \(kept: #4-8\)/.test(e.message));
  await assert.rejects(readCheckpoint(s, 'b', 1), (e: Error) => e instanceof UnknownCheckpointError && /it has no checkpoints/.test(e.message));
  await s.corruptLatest('a');
  await assert.rejects(readCheckpoint(s, 'a', 8), (e: Error) => e instanceof CheckpointCorruptError && /Checkpoint #8 of agent "a" is corrupt \(checksum mismatch/.test(e.message));
  await s.dropLatest('a');
  await s.put({ agent: 'a', version: 1, state: 0 });
  await assert.rejects(readCheckpoint(s, 'a', 8), (e: Error) => /kept: #4-7, #9/.test(e.message));
});
