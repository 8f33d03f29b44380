import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { processAlive } from './runtimeFile.ts';

/** The state letter and parent of a process from /proc (undefined when it is gone). */
function procStat(pid: number): { state: string; ppid: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state, ppid] = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { state, ppid: Number(ppid) };
  } catch {
    return undefined;
  }
}

test('processAlive: a running process is alive, an exited one is not', async () => {
  assert.equal(processAlive(process.pid), true);
  const child = spawn(process.execPath, ['-e', '0']);
  const pid = child.pid!;
  await new Promise((r) => child.on('exit', r));
  assert.equal(processAlive(pid), false);
});

test('processAlive: an exited process its parent has not reaped (a zombie) is not alive', { skip: !existsSync('/proc/self/stat') && 'no /proc here' }, async () => {
  // sh starts `sleep 0` in the background and becomes `sleep 30`, which never
  // waits for children: the exited `sleep 0` stays a zombie under it.
  const parent = spawn('sh', ['-c', 'sleep 0 & exec sleep 30'], { stdio: 'ignore' });
  try {
    let zombie: number | undefined;
    for (let i = 0; i < 200 && zombie === undefined; i++) {
      for (const name of readdirSync('/proc')) {
        const s = /^\d+$/.test(name) ? procStat(Number(name)) : undefined;
        if (s && s.ppid === parent.pid && s.state === 'Z') zombie = Number(name);
      }
      if (zombie === undefined) await new Promise((r) => setTimeout(r, 25));
    }
    assert.ok(zombie, 'the exited child is a zombie under its parent');
    // kill(pid, 0) still succeeds on a zombie: that alone is not "alive".
    assert.doesNotThrow(() => process.kill(zombie!, 0));
    assert.equal(processAlive(zombie!), false);
    assert.equal(processAlive(parent.pid!), true);
  } finally {
    parent.kill('SIGKILL');
  }
});
