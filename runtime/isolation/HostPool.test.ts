/**
 * The host pool with real agent hosts (forked processes and worker
 * threads): warm spares, and the reserve it holds after a restart storm.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostPool, STORM_AGENTS_PER_SPARE } from './HostPool.ts';
import type { HostHandle } from './HostHandle.ts';
import { hostScript } from './paths.ts';
import type { Isolation } from '../protocol/status.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean, what: string, timeoutMs = 20_000) {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

function pool(o: { spares: number; threadSpares?: number; stormSpares?: number; stormHoldMs?: number }) {
  return new HostPool({ script: hostScript(), maxConcurrentStarts: 2, extraSpareIdleMs: 60_000, ...o });
}

/** What a supervisor does in a storm: every agent's host is killed, and each is asked for again. */
async function storm(p: HostPool, hosts: HostHandle[], isolation: Isolation): Promise<HostHandle[]> {
  const dead = hosts.map((h) => new Promise<void>((r) => h.onExit(() => r())));
  for (const h of hosts) h.kill();
  await Promise.all(dead);
  const next: HostHandle[] = [];
  for (let i = 0; i < hosts.length; i++) next.push(await p.acquire({ isolation }));
  return next;
}

test('after a storm of 16 process agents the pool holds 2 extra spares, and gives them back after the hold', async () => {
  const p = pool({ spares: 1, stormSpares: 4, stormHoldMs: 5_000 });
  const hosts: HostHandle[] = [];
  try {
    p.warm();
    for (let i = 0; i < 2 * STORM_AGENTS_PER_SPARE; i++) hosts.push(await p.acquire({ isolation: 'process' }));
    await until(() => p.ready.process === 1, 'the configured spare');
    hosts.splice(0, hosts.length, ...(await storm(p, hosts, 'process')));
    // 16 down at once: one reserve spare per 8, more than the 1 configured.
    await until(() => p.ready.process === 2, 'the storm reserve of 2');
    await sleep(300);
    assert.equal(p.ready.process, 2, 'no more than the reserve');
    // The next wave starts from the reserve: the first two agents back take booted hosts.
    const first = await p.acquire({ isolation: 'process' });
    const second = await p.acquire({ isolation: 'process' });
    assert.equal(p.ready.process, 0, 'both came from the reserve; their replacements are still booting');
    assert.ok(!first.exited && !second.exited && first.pid !== second.pid);
    hosts.push(first, second);
    // Once nothing has died for the hold time, the reserve goes: back to the configured spare.
    await until(() => p.ready.process === 2, 'the reserve refilled after the two were taken');
    await until(() => p.ready.process === 1, 'the reserve released after the hold', 10_000);
  } finally {
    p.close();
    for (const h of hosts) h.kill();
  }
});

test('one agent in a crash loop holds no reserve; stormSpares 0 holds none after a storm', async () => {
  const loop = pool({ spares: 0, threadSpares: 0, stormSpares: 8, stormHoldMs: 60_000 });
  const none = pool({ spares: 0, threadSpares: 0, stormSpares: 0 });
  const hosts: HostHandle[] = [];
  try {
    let h = await loop.acquire({ isolation: 'thread' });
    for (let i = 0; i < 2 * STORM_AGENTS_PER_SPARE; i++) [h] = await storm(loop, [h], 'thread');
    hosts.push(h);
    const many: HostHandle[] = [];
    for (let i = 0; i < 2 * STORM_AGENTS_PER_SPARE; i++) many.push(await none.acquire({ isolation: 'thread' }));
    hosts.push(...(await storm(none, many, 'thread')));
    await sleep(500);
    assert.equal(loop.ready.thread, 0, 'a crash loop is not a storm');
    assert.equal(none.ready.thread, 0, 'no reserve when stormSpares is 0');
  } finally {
    loop.close();
    none.close();
    for (const x of hosts) x.kill();
  }
});
