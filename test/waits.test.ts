/**
 * Durable waits: `ctx.waitFor(name)` in an agent, `signal` from outside,
 * across agent crashes and a kill -9 of the runtime, against a real runtime.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { cli, up, workspace, type Running } from './helpers/runtime.ts';
import { PostgresServer, RedisServer } from './helpers/servers.ts';
import { agentsOf, findNode } from '../runtime/protocol/status.ts';
import type { AgentStatus, RuntimeStatus } from '../runtime/protocol/status.ts';

const waiter = (id: string, extra: Record<string, unknown> = {}) => ({ agent: { id, module: 'agents/waiter.mjs', ...extra } });
const running = (s: RuntimeStatus) => agentsOf(s.tree).every((a) => a.state === 'running');
const node = (s: RuntimeStatus, id: string) => findNode(s.tree, id) as AgentStatus;
const waitingFor = (id: string, ...names: string[]) => (s: RuntimeStatus) => {
  const n = node(s, id);
  return n?.state === 'running' && JSON.stringify((n.waiting ?? []).map((w) => w.name)) === JSON.stringify(names);
};
const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);
async function eventually(check: () => boolean, what: string, timeoutMs = 10_000) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

for (const isolation of ['process', 'thread'] as const) {
  describe(`waits and signals (${isolation})`, () => {
    test('a wait takes a signal sent while it waits; status and agent.state events show it', async () => {
      const rt = await up(workspace({ name: 'waits', supervisor: { id: 'root', children: [waiter('w', { isolation })] } }));
      try {
        await rt.until(running, 'running');
        const events: any[] = [];
        rt.client.onEvent((method, p) => { if (method === 'agent.state' && p.wait) events.push(p); });
        await rt.client.call('subscribe', { events: ['agent.state'] });
        const reply = rt.client.call('ask', { agent: 'w', message: { op: 'wait', name: 'go' }, timeoutMs: 20_000 });
        const s = await rt.until(waitingFor('w', 'go'), 'w waiting for go');
        const since = node(s, 'w').waiting![0].since;
        assert.ok(!Number.isNaN(Date.parse(since)), 'since is an ISO time');
        const text = await cli(['status'], rt.dir);
        assert.match(text.stdout, /waiting for "go"/, 'faultline status shows the wait');
        assert.deepEqual(await rt.client.call('signal', { agent: 'w', name: 'go', payload: { n: 1 } }), { delivered: true });
        assert.deepEqual(await reply, { got: { n: 1 } });
        assert.deepEqual(node(await rt.status(), 'w').waiting, []);
        await eventually(() => events.length >= 2, 'the start and end events');
        assert.deepEqual(events.map((e) => [e.wait.name, e.wait.phase, e.wait.outcome ?? null, e.state, e.previous]), [
          ['go', 'start', null, 'running', 'running'],
          ['go', 'end', 'signal', 'running', 'running'],
        ]);
        assert.deepEqual(events[0].waiting, [{ name: 'go', since }]);
        assert.deepEqual(events[1].waiting, []);
      } finally {
        await rt.stop();
      }
    });

    test('a signal sent before the wait is kept and taken by the next wait of its name, once', async () => {
      const rt = await up(workspace({ name: 'waits-early', supervisor: { id: 'root', children: [waiter('w', { isolation })] } }));
      try {
        await rt.until(running, 'running');
        assert.deepEqual(await rt.client.call('signal', { agent: 'w', name: 'go', payload: 'early' }), { delivered: false });
        assert.deepEqual(await rt.client.call('signal', { agent: 'w', name: 'other', payload: 'x' }), { delivered: false });
        assert.deepEqual(await rt.client.call('ask', { agent: 'w', message: { op: 'wait', name: 'go' }, timeoutMs: 10_000 }), { got: 'early' });
        // The kept signal was taken: the next wait of that name waits.
        const second = rt.client.call('ask', { agent: 'w', message: { op: 'wait', name: 'go' }, timeoutMs: 20_000 });
        await rt.until(waitingFor('w', 'go'), 'the second wait pending');
        assert.deepEqual(await rt.client.call('signal', { agent: 'w', name: 'go', payload: 'late' }), { delivered: true });
        assert.deepEqual(await second, { got: 'late' });
        assert.deepEqual(await rt.client.call('ask', { agent: 'w', message: { op: 'wait', name: 'other' }, timeoutMs: 10_000 }), { got: 'x' });
      } finally {
        await rt.stop();
      }
    });

    test('a timeout rejects with WaitTimeoutError, which the handler catches', async () => {
      const rt = await up(workspace({ name: 'waits-timeout', supervisor: { id: 'root', children: [waiter('w', { isolation })] } }));
      try {
        await rt.until(running, 'running');
        const events: any[] = [];
        rt.client.onEvent((method, p) => { if (method === 'agent.state' && p.wait) events.push(p); });
        await rt.client.call('subscribe', { events: ['agent.state'] });
        const r = (await rt.client.call('ask', { agent: 'w', message: { op: 'wait', name: 'never', timeoutMs: 300 }, timeoutMs: 10_000 })) as any;
        assert.equal(r.timedOut, true);
        assert.equal(r.name, 'WaitTimeoutError');
        assert.match(r.message, /waited 300 ms for the signal "never"/);
        await eventually(() => events.some((e) => e.wait.phase === 'end'), 'the end event');
        assert.equal(events.find((e) => e.wait.phase === 'end').wait.outcome, 'timeout');
        assert.equal(node(await rt.status(), 'w').state, 'running', 'a caught timeout is no crash');
        // A signal after the timeout is kept for the next wait, not taken by the one that gave up.
        assert.deepEqual(await rt.client.call('signal', { agent: 'w', name: 'never', payload: 1 }), { delivered: false });
      } finally {
        await rt.stop();
      }
    });

    test('two waits in one handler: one after the other, and both at once (Promise.all)', async () => {
      const rt = await up(workspace({ name: 'waits-two', supervisor: { id: 'root', children: [waiter('w', { isolation })] } }));
      try {
        await rt.until(running, 'running');
        const seq = rt.client.call('ask', { agent: 'w', message: { op: 'two-seq', names: ['a', 'b'] }, timeoutMs: 20_000 });
        await rt.until(waitingFor('w', 'a'), 'waiting for a');
        assert.deepEqual(await rt.client.call('signal', { agent: 'w', name: 'b', payload: 'B' }), { delivered: false }, 'b is not waited for yet');
        assert.deepEqual(await rt.client.call('signal', { agent: 'w', name: 'a', payload: 'A' }), { delivered: true });
        assert.deepEqual(await seq, ['A', 'B']);
        const all = rt.client.call('ask', { agent: 'w', message: { op: 'two-all', names: ['x', 'y'] }, timeoutMs: 20_000 });
        await rt.until(waitingFor('w', 'x', 'y'), 'waiting for x and y');
        assert.deepEqual(await rt.client.call('signal', { agent: 'w', name: 'y', payload: 'Y' }), { delivered: true });
        await rt.until(waitingFor('w', 'x'), 'still waiting for x');
        assert.deepEqual(await rt.client.call('signal', { agent: 'w', name: 'x', payload: 'X' }), { delivered: true });
        assert.deepEqual(await all, ['X', 'Y']);
      } finally {
        await rt.stop();
      }
    });

    test('an agent killed while waiting: the redelivered message waits again and the signal is delivered once', async () => {
      const rt = await up(workspace({ name: 'waits-kill', supervisor: { id: 'root', children: [waiter('w', { isolation })] } }));
      const log = path.join(rt.dir, 'effects.log');
      try {
        await rt.until(running, 'running');
        const downs: any[] = [];
        rt.client.onEvent((method, p) => { if (method === 'agent.state' && !p.wait && p.state !== 'running') downs.push(p); });
        await rt.client.call('subscribe', { events: ['agent.state'] });
        await rt.client.call('send', { agent: 'w', message: { op: 'two-seq', names: ['a', 'b'], log } });
        await rt.until(waitingFor('w', 'a'), 'waiting for a');
        assert.deepEqual(await rt.client.call('signal', { agent: 'w', name: 'a', payload: 1 }), { delivered: true });
        const s = await rt.until(waitingFor('w', 'b'), 'waiting for b');
        const since = node(s, 'w').waiting![0].since;
        const before = node(s, 'w').restarts;
        assert.ok(await rt.client.call('inject', { fault: 'kill', target: 'w' }));
        const again = await rt.until((st) => node(st, 'w').restarts > before && waitingFor('w', 'b')(st), 'the redelivered message waiting for b again');
        assert.equal(node(again, 'w').waiting![0].since, since, 'the wait kept its first start');
        assert.ok(downs.length > 0 && downs.every((e) => Array.isArray(e.waiting) && e.waiting.length === 0), 'the crash event says the waits ended');
        // The first wait's signal came from the journal: the redelivery went straight on to b.
        assert.deepEqual(lines(log), ['got:1', 'got:1']);
        assert.deepEqual(await rt.client.call('signal', { agent: 'w', name: 'b', payload: 2 }), { delivered: true });
        await eventually(() => lines(log).length === 3, 'the handler finishing');
        await new Promise((r) => setTimeout(r, 300));
        assert.deepEqual(lines(log), ['got:1', 'got:1', 'got:2'], 'b taken once');
        // Neither signal is left over for a later wait.
        const next = rt.client.call('ask', { agent: 'w', message: { op: 'wait', name: 'b' }, timeoutMs: 20_000 });
        await rt.until(waitingFor('w', 'b'), 'a fresh wait for b pending');
        assert.deepEqual(await rt.client.call('signal', { agent: 'w', name: 'b', payload: 3 }), { delivered: true });
        assert.deepEqual(await next, { got: 3 });
      } finally {
        await rt.stop();
      }
    });
  });
}

describe('waits across downtime', () => {
  test('a signal sent while the agent is down is taken by the redelivered wait', async () => {
    const rt = await up(workspace({ name: 'waits-down', supervisor: { id: 'root', children: [waiter('w')] } }));
    const log = path.join(rt.dir, 'effects.log');
    try {
      await rt.until(running, 'running');
      await rt.client.call('send', { agent: 'w', message: { op: 'wait', name: 'go', log } });
      await rt.until(waitingFor('w', 'go'), 'waiting for go');
      await rt.client.call('stop', { agent: 'w' });
      await rt.until((s) => node(s, 'w').state === 'stopped', 'w stopped');
      assert.deepEqual(node(await rt.status(), 'w').waiting, [], 'a stopped agent waits for nothing');
      assert.deepEqual(await rt.client.call('signal', { agent: 'w', name: 'go', payload: 'while down' }), { delivered: false });
      await rt.client.call('restart', { agent: 'w' });
      await eventually(() => lines(log).some((l) => l.startsWith('got:')), 'the redelivered wait taking the kept signal');
      assert.deepEqual(lines(log), ['before:go', 'before:go', 'got:"while down"']);
      assert.deepEqual(await rt.client.call('ask', { agent: 'w', message: { op: 'got' } }), ['while down']);
    } finally {
      await rt.stop();
    }
  });

  test('kill -9 of the runtime: the pending wait and a kept signal survive; each signal is delivered once', async () => {
    const dir = workspace({ name: 'waits-survivor', supervisor: { id: 'root', children: [waiter('w'), waiter('t', { isolation: 'thread' })] } });
    const log = path.join(dir, 'effects.log');
    const tlog = path.join(dir, 'thread.log');
    const first = await up(dir);
    let second: Running | undefined;
    try {
      await first.until(running, 'running');
      assert.deepEqual(await first.client.call('signal', { agent: 't', name: 'kept', payload: 'stored before the crash' }), { delivered: false });
      await first.client.call('send', { agent: 'w', message: { op: 'wait', name: 'go', log, timeoutMs: 600_000 } });
      const s = await first.until(waitingFor('w', 'go'), 'waiting for go');
      const since = node(s, 'w').waiting![0].since;
      first.proc.kill('SIGKILL');
      await first.exited;
      first.client.close();
      second = await up(dir);
      const again = await second.until(waitingFor('w', 'go'), 'the redelivered message waiting again', 20_000);
      assert.equal(node(again, 'w').waiting![0].since, since, 'the wait (and its deadline) kept its first start');
      assert.deepEqual(await second.client.call('signal', { agent: 'w', name: 'go', payload: 42 }), { delivered: true });
      await eventually(() => lines(log).includes('got:42'), 'the handler finishing');
      assert.deepEqual(lines(log), ['before:go', 'before:go', 'got:42']);
      assert.deepEqual(await second.client.call('ask', { agent: 't', message: { op: 'wait', name: 'kept', log: tlog }, timeoutMs: 10_000 }), { got: 'stored before the crash' });
      // Taken once: a second wait of that name waits.
      const r = (await second.client.call('ask', { agent: 't', message: { op: 'wait', name: 'kept', timeoutMs: 200 }, timeoutMs: 10_000 })) as any;
      assert.equal(r.timedOut, true);
    } finally {
      if (first.proc.exitCode === null && first.proc.signalCode === null) first.proc.kill('SIGKILL');
      await second?.stop();
    }
  });
});

describe('waits on server stores', () => {
  const pg = new PostgresServer();
  const redis = new RedisServer({ appendfsync: 'always' });
  before(async () => {
    await Promise.all([pg.start(), redis.start()]);
  });
  after(async () => {
    await Promise.all([pg.dispose(), redis.dispose()]);
  });
  const kinds = [
    { name: 'postgres', url: () => pg.url, checkpoints: { store: 'postgres', urlEnv: 'FAULTLINE_TEST_STORE_URL', schema: 'waits' } },
    { name: 'redis', url: () => redis.url, checkpoints: { store: 'redis', urlEnv: 'FAULTLINE_TEST_STORE_URL', prefix: 'waits:' } },
  ];
  for (const k of kinds) {
    test(`${k.name}: a pending wait and a kept signal survive a kill -9 of the runtime`, async () => {
      const env = { FAULTLINE_TEST_STORE_URL: k.url() };
      const dir = workspace({ name: `waits-${k.name}`, checkpoints: k.checkpoints, supervisor: { id: 'root', children: [waiter('w')] } });
      const log = path.join(dir, 'effects.log');
      const first = await up(dir, [], env);
      let second: Running | undefined;
      try {
        await first.until(running, 'running');
        assert.deepEqual(await first.client.call('signal', { agent: 'w', name: 'second', payload: 'kept' }), { delivered: false });
        await first.client.call('send', { agent: 'w', message: { op: 'two-seq', names: ['first', 'second'], log } });
        await first.until(waitingFor('w', 'first'), 'waiting for first');
        first.proc.kill('SIGKILL');
        await first.exited;
        first.client.close();
        second = await up(dir, [], env);
        await second.until(waitingFor('w', 'first'), 'the redelivered message waiting again', 20_000);
        assert.deepEqual(await second.client.call('signal', { agent: 'w', name: 'first', payload: 'now' }), { delivered: true });
        await eventually(() => lines(log).length === 2, 'the handler finishing');
        assert.deepEqual(lines(log), ['got:"now"', 'got:"kept"']);
      } finally {
        if (first.proc.exitCode === null && first.proc.signalCode === null) first.proc.kill('SIGKILL');
        await second?.stop();
      }
    });
  }
});

describe('waits on the memory store', () => {
  test('waits and kept signals work within a run (nothing survives the process)', async () => {
    const rt = await up(workspace({ name: 'waits-memory', checkpoints: { store: 'memory' }, supervisor: { id: 'root', children: [waiter('w')] } }));
    try {
      await rt.until(running, 'running');
      assert.deepEqual(await rt.client.call('signal', { agent: 'w', name: 'go', payload: 1 }), { delivered: false });
      assert.deepEqual(await rt.client.call('ask', { agent: 'w', message: { op: 'wait', name: 'go' }, timeoutMs: 10_000 }), { got: 1 });
      const reply = rt.client.call('ask', { agent: 'w', message: { op: 'wait', name: 'go' }, timeoutMs: 20_000 });
      await rt.until(waitingFor('w', 'go'), 'waiting for go');
      assert.deepEqual(await rt.client.call('signal', { agent: 'w', name: 'go', payload: 2 }), { delivered: true });
      assert.deepEqual(await reply, { got: 2 });
    } finally {
      await rt.stop();
    }
  });
});

describe('faultline signal', () => {
  test('signals from the CLI; an unknown agent or bad JSON is refused', async () => {
    const rt = await up(workspace({ name: 'waits-cli', supervisor: { id: 'root', children: [waiter('w')] } }));
    try {
      await rt.until(running, 'running');
      const stored = await cli(['signal', 'w', 'go', '{"via":"cli"}'], rt.dir);
      assert.equal(stored.code, 0, stored.stderr);
      assert.match(stored.stdout, /kept until one takes it/);
      assert.deepEqual(await rt.client.call('ask', { agent: 'w', message: { op: 'wait', name: 'go' }, timeoutMs: 10_000 }), { got: { via: 'cli' } });
      const reply = rt.client.call('ask', { agent: 'w', message: { op: 'wait', name: 'go' }, timeoutMs: 20_000 });
      await rt.until(waitingFor('w', 'go'), 'waiting for go');
      const now = await cli(['signal', 'w', 'go', '7', '--json'], rt.dir);
      assert.equal(now.code, 0, now.stderr);
      assert.deepEqual(JSON.parse(now.stdout), { delivered: true });
      assert.deepEqual(await reply, { got: 7 });
      const unknown = await cli(['signal', 'nobody', 'go', '1'], rt.dir);
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /No agent "nobody"/);
      const bad = await cli(['signal', 'w', 'go', '{nope'], rt.dir);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /the payload must be JSON/);
      const help = await cli(['signal', '--help'], rt.dir);
      assert.match(help.stdout, /Usage: faultline signal <agent> <name> <json>/);
    } finally {
      await rt.stop();
    }
  });
});
