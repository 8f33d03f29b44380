import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RuntimeManager } from './RuntimeManager.ts';
import type { Log } from '../util/log.ts';

/**
 * A bundled runtime as the .vsix ships it (runtime/: package.json, bin, dist)
 * but with no dependencies, so the real `npm install` it gets on first start
 * is quick and offline.
 */
function fixture() {
  const dir = mkdtempSync(path.join(tmpdir(), 'faultline-bundled-'));
  const bundled = path.join(dir, 'extension', 'runtime');
  mkdirSync(path.join(bundled, 'bin'), { recursive: true });
  mkdirSync(path.join(bundled, 'dist'), { recursive: true });
  writeFileSync(path.join(bundled, 'package.json'), JSON.stringify({ name: 'faultline', version: '0.0.0-test', private: true, type: 'module', bin: { faultline: 'bin/faultline.js' }, dependencies: {} }));
  writeFileSync(path.join(bundled, 'bin', 'faultline.js'), "import '../dist/cli.js';\n");
  writeFileSync(path.join(bundled, 'dist', 'cli.js'), '');
  const ws = path.join(dir, 'workspace');
  mkdirSync(ws);
  writeFileSync(path.join(ws, 'faultline.config.json'), '{}');
  const lines: string[] = [];
  const log: Log = { trace: () => {}, debug: () => {}, info: (m) => lines.push(m), warn: (m) => lines.push(m), error: (m) => lines.push(String(m)) };
  const progressRuns: string[][] = [];
  const manager = () =>
    new RuntimeManager({
      configFile: path.join(ws, 'faultline.config.json'),
      settings: () => ({ nodePath: process.execPath, runtimePath: '', startTimeoutMs: 30_000, restartOnExit: false }),
      bundledDir: bundled,
      storageDir: path.join(dir, 'storage'),
      log,
      withInstallProgress: (task) => {
        const reported: string[] = [];
        progressRuns.push(reported);
        return task((line) => reported.push(line));
      },
      notifyError: (m) => lines.push(m),
    });
  return { dir, manager, progressRuns, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

test('while the bundled runtime installs on first start, the manager says so and what it is doing; then it says nothing', async () => {
  const f = fixture();
  try {
    const m = f.manager();
    const seen: (string | undefined)[] = [];
    m.onInstalling((text) => seen.push(text));
    assert.equal(m.installing, undefined);
    const { cli } = await m.cli();
    assert.ok(cli.startsWith(path.join(f.dir, 'storage') + path.sep) && cli.endsWith(path.join('bin', 'faultline.js')), cli);
    assert.equal(seen.at(-1), undefined, 'cleared once installed');
    assert.equal(m.installing, undefined);
    const shown = seen.slice(0, -1) as string[];
    assert.ok(shown.length >= 3, shown.join('\n'));
    for (const t of shown) assert.match(t, /^Installing the Faultline runtime… /);
    assert.ok(shown.some((t) => /copying the bundled runtime/.test(t)), shown.join('\n'));
    assert.ok(shown.some((t) => /npm install: better-sqlite3 builds for your Node/.test(t)), shown.join('\n'));
    assert.ok(shown.some((t) => /npm: /.test(t)), `npm's own output reaches the message:\n${shown.join('\n')}`);
    assert.equal(f.progressRuns.length, 1, 'one progress notification');
    m.dispose();

    // Installed already: no install, no message, no progress notification.
    const again = f.manager();
    const later: (string | undefined)[] = [];
    again.onInstalling((text) => later.push(text));
    assert.equal((await again.cli()).cli, cli);
    assert.deepEqual(later, []);
    assert.equal(f.progressRuns.length, 1);
    again.dispose();
  } finally {
    f.cleanup();
  }
});

test('a failed install clears the message and reports the failure', async () => {
  const f = fixture();
  try {
    const m = f.manager();
    const seen: (string | undefined)[] = [];
    m.onInstalling((text) => seen.push(text));
    // A dependency npm cannot install (a tarball that is not there): npm exits non-zero.
    const pkgFile = path.join(f.dir, 'extension', 'runtime', 'package.json');
    writeFileSync(pkgFile, JSON.stringify({ name: 'faultline', version: '0.0.0-test', private: true, bin: { faultline: 'bin/faultline.js' }, dependencies: { missing: 'file:./no-such.tgz' } }));
    await assert.rejects(m.cli(), /npm install for the bundled Faultline runtime failed/);
    assert.ok(seen.length >= 2 && seen[0]?.startsWith('Installing the Faultline runtime… '));
    assert.equal(seen.at(-1), undefined);
    assert.equal(m.installing, undefined);
    m.dispose();
  } finally {
    f.cleanup();
  }
});
