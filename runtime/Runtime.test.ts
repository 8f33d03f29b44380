/**
 * The composition root: building a Runtime touches no file; `start()` opens
 * the state dir, the log and the checkpoint store, and the tree runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Runtime } from './Runtime.ts';
import { resolveConfig } from './config/load.ts';

const probe = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures', 'agents', 'probe.mjs');

test('the constructor does no I/O; start() creates the state dir, log and store, and stop() closes them', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'faultline-root-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const stateDir = path.join(dir, '.faultline');
  const config = resolveConfig({ name: 'root', supervisor: { id: 'root', children: [{ agent: { id: 'solo', module: probe } }] } }, path.join(dir, 'faultline.config.json'));
  const rt = new Runtime({ config, stateDir, writeRuntimeFile: false });
  assert.equal(existsSync(stateDir), false, 'nothing written before start()');
  assert.equal(rt.status().tree.id, 'root', 'the tree is described already');
  try {
    await rt.start();
    assert.ok(existsSync(path.join(stateDir, '.gitignore')));
    assert.ok(existsSync(path.join(stateDir, 'logs', 'runtime.log')));
    assert.ok(existsSync(path.join(stateDir, 'checkpoints.db')));
  } finally {
    await rt.stop();
  }
});

test('a runtime stopped without having started stops cleanly', async () => {
  const config = resolveConfig({ name: 'never', supervisor: { id: 'root', children: [{ agent: { id: 'solo', module: probe } }] } }, path.join(tmpdir(), 'never-started', 'faultline.config.json'));
  const rt = new Runtime({ config, writeRuntimeFile: false });
  assert.deepEqual(await rt.stop({ code: 0, reason: 'never started' }), { code: 0, reason: 'never started' });
  assert.equal(existsSync(path.join(tmpdir(), 'never-started')), false);
});
