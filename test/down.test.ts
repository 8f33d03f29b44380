/** `faultline down` against a runtime whose parent does not reap it when it exits. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { cli, cliPath, probe, workspace } from './helpers/runtime.ts';

const procState = (pid: number) => {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
};

test('down returns once the runtime has exited, even while its parent has not reaped it', { skip: !existsSync('/proc/self/stat') && 'no /proc here' }, async () => {
  const dir = workspace({ name: 'zombie', supervisor: { id: 'root', children: [probe('only')] } });
  // The runtime starts in the background of a shell that then becomes
  // `sleep`, which never waits for children: once the runtime exits it stays
  // a zombie until the sleep ends.
  const log = path.join(dir, 'up.log');
  const parent = spawn('sh', ['-c', `"${process.execPath}" "${cliPath}" up --no-live > "${log}" 2>&1 & exec sleep 120`], { cwd: dir, stdio: 'ignore', env: { ...process.env, NO_COLOR: '1' } });
  let pid: number | undefined;
  try {
    const runtimeJson = path.join(dir, '.faultline', 'runtime.json');
    for (let i = 0; i < 400 && !(existsSync(runtimeJson) && /listening on/.test(readFileSync(log, 'utf8'))); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(existsSync(runtimeJson), `the runtime started:\n${existsSync(log) ? readFileSync(log, 'utf8') : ''}`);
    pid = (JSON.parse(readFileSync(runtimeJson, 'utf8')) as { pid: number }).pid;

    const r = await cli(['down'], dir, 60_000);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), `runtime pid ${pid} stopped`);
    // The case in point: the runtime did exit, and is still unreaped.
    assert.equal(procState(pid), 'Z');
    assert.equal(existsSync(runtimeJson), false);
    assert.match(readFileSync(log, 'utf8'), /faultline: stopped\n$/);
  } finally {
    // A runtime that did not stop must not outlive the test.
    if (pid !== undefined && procState(pid) !== 'Z') {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    parent.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
